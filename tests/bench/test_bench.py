"""The bench as an instrument: it runs end to end, writes what it promises, and tells
a wrong result from a right one. Tiny sizes, no Inductor, few reps: seconds, not figures.
"""

from __future__ import annotations

import contextlib
import io
import json

import pytest
import torch

from bench import cases as bench_cases
from bench import measure, report, run

# --malloc-default: fixed malloc thresholds would stay with the test process
TINY = ["--tiny", "--no-inductor", "--reps", "3", "--warmup", "1", "--copy-mb", "8",
        "--malloc-default"]


def _main(argv, extra=None):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = run.main(argv, extra_cases=extra)
    return code, out.getvalue()


def _two_graphs(x):
    y = torch.sigmoid(x) * 2
    torch._dynamo.graph_break()
    return y + x.exp()


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    d = tmp_path_factory.mktemp("bench")
    brk = bench_cases.Case("graph break", lambda: (_two_graphs, (torch.randn(16, 16),)))
    code, out = _main(TINY + ["--cases", "rmsnorm,tiny pointwise,graph break", "--profile",
                              "--json", str(d / "b.json"), "--png", str(d / "b.png")],
                      extra=[brk])
    return code, out, d


def test_runs_and_writes_json(tiny_run):
    code, out, d = tiny_run
    assert code == 0, out
    doc = json.loads((d / "b.json").read_text())
    assert doc["meta"]["schema"] == "ember-bench/1"
    assert doc["meta"]["reps"] == 3 and doc["meta"]["threads"] == torch.get_num_threads()
    assert doc["copy_bandwidth"]["gbps"] > 0
    names = [c["name"] for c in doc["cases"]]
    assert names == ["rmsnorm+residual 32x64", "tiny pointwise 64x64", "graph break"]
    for c in doc["cases"]:
        assert c["ember"]["status"] == "ok" and c["inductor"] is None
        for mode in ("eager", "ember"):
            t = c[mode]["timing"]
            assert t["samples"] == 3 and 0 < t["min_ms"] <= t["median_ms"]
        assert c["ember"]["first_call_ms"] > 0 and c["ember"]["kernels"] >= 1
        assert c["speedup"]["ember"] > 0 and c["speedup"]["inductor"] is None
        assert c["memory_bound"] == (c["name"] != "graph break")
        split = c["ember"]["profile"]["split"]
        parts = {"call", "guards_wrappers", "executor", "kernels", "library", "other_steps"}
        assert set(split) == parts | {"best"} and set(split["best"]) == parts
        assert split["kernels"] > 0
    g = doc["summary"]["groups"]["suite"]
    assert g["geomean_ember_vs_eager"] > 0 and g["geomean_inductor_vs_eager"] is None
    assert g["worst_ember_vs_eager"][0] in names
    assert doc["summary"]["problems"] == []
    assert isinstance(doc["summary"]["noisy_cases"], list)
    assert isinstance(doc["meta"]["env"], dict)
    assert doc["meta"]["malloc"] == "malloc: default"
    assert "geomean speedup over eager: Ember" in out


def test_graph_break_profiles_both_graphs(tiny_run):
    _, _, d = tiny_run
    c = json.loads((d / "b.json").read_text())["cases"][2]
    assert c["ember"]["graphs"] == 2 and c["ember"]["graph_breaks"] == 1
    graphs = c["ember"]["profile"]["graphs"]
    assert [g["graph"] for g in graphs] == ["graph0", "graph1"]
    assert all(g["calls"] == 1 and g["exec_ms"] > 0 for g in graphs)
    # sigmoid(x) * 2 reads x and writes y; y + exp(x) reads both and writes the result.
    assert [[(s["kind"], s["bytes"]) for s in g["steps"]] for g in graphs] == [
        [("kernel", 2 * 16 * 16 * 4)], [("kernel", 3 * 16 * 16 * 4)]]


def test_profile_bytes_per_kernel(tiny_run):
    """RMSNorm (32x64 f32) is one staged kernel: it reads x, r and w and writes the
    result. Bytes are read + written, each input once."""
    code, out, d = tiny_run
    doc = json.loads((d / "b.json").read_text())
    case = doc["cases"][0]
    steps = [s for g in case["ember"]["profile"]["graphs"] for s in g["steps"]]
    mat = 32 * 64 * 4
    assert [(s["kind"], s["bytes"]) for s in steps] == [("kernel", 2 * mat + 64 * 4 + mat)]
    assert all(s["gbps"] > 0 for s in steps)
    # --profile prints the overhead split and each kernel with MB and GB/s.
    assert "Dynamo guards+wrappers" in out and "executor" in out
    assert "k0_add_mul_mean_rsqrt" in out and "%copy" in out


def test_png(tiny_run):
    pytest.importorskip("matplotlib", exc_type=ImportError)
    _, out, d = tiny_run
    assert (d / "b.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "png:" in out


def _wrong(x):
    # Dynamo traces the compiling branch: the compiled function adds 1.
    if torch.compiler.is_compiling():
        return x + 1
    return x * 1


def test_mismatch_is_reported_and_fails(tmp_path):
    wrong = bench_cases.Case("wrong on purpose", lambda: (_wrong, (torch.randn(8, 8),)))
    code, out = _main(TINY + ["--cases", "wrong on purpose", "--json", str(tmp_path / "w.json"),
                              "--png", ""], extra=[wrong])
    assert code == 1
    assert "WRONG" in out and "PROBLEM wrong on purpose: ember mismatch" in out
    doc = json.loads((tmp_path / "w.json").read_text())
    em = doc["cases"][0]["ember"]
    assert em["status"] == "mismatch" and em["max_abs_err"] == pytest.approx(1.0)
    assert em["timing"] is None and doc["cases"][0]["speedup"]["ember"] is None


def test_broken_case_is_reported_and_the_rest_run():
    def make():
        raise RuntimeError("cannot build")

    broken = bench_cases.Case("broken on purpose", make)
    code, out = _main(TINY + ["--cases", "broken on purpose,tiny pointwise", "--json", "",
                              "--png", ""], extra=[broken])
    assert code == 1
    assert "PROBLEM broken on purpose: ember error (RuntimeError: cannot build)" in out
    assert "tiny pointwise 64x64" in out


def test_list():
    code, out = _main(["--list", "--cases", "softmax,tiny"])
    assert code == 0
    assert out.splitlines()[0].startswith("softmax 4096x1024") and "memory-bound" in out
    assert len(out.splitlines()) == 2


def test_no_matching_case():
    assert _main(TINY + ["--cases", "no such case"])[0] == 2


def test_models_skip_without_transformers(monkeypatch):
    monkeypatch.setattr(bench_cases, "transformers_available", lambda: "ImportError: nope")
    todo, notes = run.select_cases(run.parse_args(["--models", "--tiny"]))
    assert not any(c.group == "model" for c in todo)
    assert notes and "transformers is not installed" in notes[0]


def test_models_listed_with_transformers():
    pytest.importorskip("transformers", exc_type=ImportError)
    todo, _ = run.select_cases(run.parse_args(["--models", "--tiny", "--cases", "gpt2,llama"]))
    assert [c.group for c in todo] == ["model", "model"]


def test_case_filter_and_suite_names():
    names = [c.name for c in bench_cases.suite()]
    for want in ("pointwise chain 8M", "softmax 4096x1024", "attention 4x8x256x64",
                 "tiny pointwise 64x64"):
        assert want in names
    assert sum(n.startswith("decoder block") for n in names) == 2
    todo, _ = run.select_cases(run.parse_args(["--cases", "SOFTMAX,layer_norm"]))
    assert [c.name for c in todo] == ["softmax 4096x1024", "layer_norm 4096x1024"]


def test_timing_and_compare_helpers():
    t = measure.summarize([0.003, 0.001, 0.002, 0.004], inner=5)
    assert t.median_ms == pytest.approx(2.5) and t.min_ms == pytest.approx(1.0)
    assert t.p25_ms == pytest.approx(1.75) and t.p75_ms == pytest.approx(3.25)
    a = torch.tensor([1.0, float("nan")])
    assert measure.compare((a.clone(),), (a,), 1e-5, 1e-5).ok
    bad = measure.compare(a + 1, a, 1e-5, 1e-5)
    assert not bad.ok and bad.max_abs_err == pytest.approx(1.0)
    assert not measure.compare(a[:1], a, 1e-5, 1e-5).ok  # shape differs
    assert report.geomean([2.0, 8.0]) == pytest.approx(4.0) and report.geomean([]) is None


def test_fresh_function_has_its_own_code():
    f = bench_cases.softmax_rows
    g = measure.fresh(f)
    assert g is not f and g.__code__ is not f.__code__
    x = torch.randn(3, 4)
    assert torch.equal(g(x), f(x))


def test_pin_malloc_fixes_the_thresholds():
    # in a child (the thresholds cannot be set back): a fresh 20 MiB block comes
    # from mmap by glibc's default (its threshold starts at 128 KiB and moves only
    # up to blocks freed before), from the heap once pinned (32 MiB), where a
    # freed block is reused instead of mapped and faulted in again
    import subprocess
    import sys

    code = (
        "import ctypes, sys, torch\n"
        "from bench import measure\n"
        "if sys.argv[1] == 'pin':\n"
        "    d = measure.pin_malloc()\n"
        "    if d is None: print('not glibc'); sys.exit(0)\n"
        "    assert d.startswith('malloc: glibc'), d\n"
        "class Info(ctypes.Structure):\n"
        "    _fields_ = [(n, ctypes.c_size_t) for n in ('arena', 'ordblks', 'smblks',"
        " 'hblks', 'hblkhd', 'usmblks', 'fsmblks', 'uordblks', 'fordblks', 'keepcost')]\n"
        "f = ctypes.CDLL('libc.so.6').mallinfo2\n"
        "f.restype = Info\n"
        "before = f().hblkhd\n"
        "b = bytearray(20 << 20)\n"
        "print(f().hblkhd - before)\n")

    def mapped(mode):
        out = subprocess.run([sys.executable, "-c", code, mode], capture_output=True,
                             text=True, check=True).stdout.strip()
        if out == "not glibc":
            pytest.skip("the C library is not glibc")
        return int(out)

    assert mapped("pin") == 0
    assert mapped("default") >= 20 << 20
