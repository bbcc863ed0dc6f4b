"""Dynamic shapes: ``ember.compile(dynamic=None|True|False)``, against eager."""

import threading

import pytest
import torch

import ember
from ember.config import ConfigError
from ember.frontend import specialize


class Block(torch.nn.Module):
    """A small decoder-style block: sizes vary along batch and sequence."""

    def __init__(self, d=32):
        super().__init__()
        self.ln = torch.nn.LayerNorm(d)
        self.qkv = torch.nn.Linear(d, 3 * d)
        self.out = torch.nn.Linear(d, d)

    def forward(self, x):
        h = self.ln(x)
        q, k, v = self.qkv(h).chunk(3, dim=-1)
        att = torch.softmax(q @ k.transpose(-1, -2) / 8.0, dim=-1)
        return x + self.out(torch.nn.functional.gelu(att @ v))


def _check(compiled, eager, *args):
    with torch.no_grad():
        got, want = compiled(*args), eager(*args)
    torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-5)


def test_sequence_lengths_compile_at_most_twice():
    torch.manual_seed(0)
    model = Block().eval()
    compiled = ember.compile(model, strict=True)
    for n in range(2, 102):  # 100 sequence lengths
        _check(compiled, model, torch.randn(2, n, 32))
    graphs = compiled.ember_report.graphs
    assert len(graphs) == 2  # static first call, then one symbolic graph
    assert not graphs[0].inputs and graphs[1].inputs
    assert any("s" in d and "[2,s" in d for d in graphs[1].inputs), graphs[1].inputs
    assert graphs[1].compiled.compiles == 99  # one per new size
    assert len(graphs[1].specializations) == specialize.REPORTED_SPECIALIZATIONS  # newest
    assert not compiled.ember_report.fallbacks
    assert not any("recompile limit" in e for e in compiled.ember_report.events)


def test_batch_sizes_and_recompile_reason_in_explain():
    def f(x, w):
        return torch.relu(x @ w).sum(-1)

    compiled = ember.compile(f, strict=True)
    w = torch.randn(16, 8)
    for b in (2, 3, 5, 9, 64):
        _check(compiled, f, torch.randn(b, 16), w)
    report = compiled.ember_report
    assert len(report.graphs) == 2
    sym = report.graphs[1]
    assert "size mismatch at index 0" in sym.recompile_reason, sym.recompile_reason
    assert "expected 2, actual 3" in sym.recompile_reason
    text = str(report)
    assert "recompiled because" in text and "symbolic sizes" in text
    assert "sizes 0 and 1" in text  # says that Dynamo specializes them
    assert [g.name.rsplit("=", 1)[1] for g in sym.specializations] == [
        f"{b}]" for b in (3, 5, 9, 64)]


def test_dynamic_false_recompiles_each_shape():
    def f(x):
        return torch.sin(x) * 2

    compiled = ember.compile(f, dynamic=False, strict=True)
    for n in (3, 4, 5):
        _check(compiled, f, torch.randn(n))
    graphs = compiled.ember_report.graphs
    assert len(graphs) == 3 and not any(g.inputs for g in graphs)


def test_dynamic_true_starts_symbolic():
    def f(x):
        return torch.exp(x) + 1

    compiled = ember.compile(f, dynamic=True, strict=True)
    for n in (3, 7, 100):
        _check(compiled, f, torch.randn(n, 5))
    graphs = compiled.ember_report.graphs
    assert len(graphs) == 1 and graphs[0].inputs
    assert len(graphs[0].specializations) == 3


def test_mark_dynamic_is_honoured():
    def f(x):
        return torch.tanh(x) * x

    compiled = ember.compile(f, strict=True)
    x = torch.randn(6, 4)
    torch._dynamo.mark_dynamic(x, 0)
    _check(compiled, f, x)
    graphs = compiled.ember_report.graphs
    assert len(graphs) == 1 and graphs[0].inputs, "the first call is already symbolic"
    _check(compiled, f, torch.randn(9, 4))
    assert len(compiled.ember_report.graphs) == 1


def test_sizes_one_and_zero_match_eager():
    def f(x):
        return torch.softmax(x, -1) * 3

    compiled = ember.compile(f, strict=True)
    for n in (4, 5, 1, 0, 6, 1):
        _check(compiled, f, torch.randn(n, 7))


def test_strided_inputs_of_varying_size():
    def f(x):
        return (x * 2).sum(0)

    compiled = ember.compile(f, strict=True)
    for n in (5, 6, 17):
        base = torch.randn(8, n)
        _check(compiled, f, base.t())  # non-contiguous, size varies
        _check(compiled, f, base[:, : n - 1].t())


def test_failed_specialization_runs_eagerly_with_reason(monkeypatch):
    def f(x):
        return torch.cos(x) + 1

    compiled = ember.compile(f, strict=False)
    _check(compiled, f, torch.randn(3))
    real = specialize.Specializing._specialize
    calls = []

    def flaky(self, key, args):
        calls.append(args[-1].shape)
        self.compile_static = lambda *a, **k: (_ for _ in ()).throw(RuntimeError("boom"))
        return real(self, key, args)

    monkeypatch.setattr(specialize.Specializing, "_specialize", flaky)
    _check(compiled, f, torch.randn(4))
    _check(compiled, f, torch.randn(4))  # the eager entry is cached too
    assert len(calls) == 1
    spec = compiled.ember_report.graphs[1].specializations
    assert "boom" in spec[0].eager_reason
    assert any("boom" in f.reason for f in compiled.ember_report.fallbacks)


def test_specializations_are_bounded(monkeypatch):
    monkeypatch.setattr(specialize, "MAX_SPECIALIZATIONS", 3)
    monkeypatch.setattr(specialize, "REPORTED_SPECIALIZATIONS", 2)

    def f(x):
        return x.exp().sum()

    compiled = ember.compile(f, dynamic=True, strict=True)
    for n in list(range(2, 9)) + [2, 3, 8]:
        _check(compiled, f, torch.randn(n))
    info = compiled.ember_report.graphs[0]
    assert len(info.specializations) == 2
    assert len(info.compiled.cache) == 3
    assert info.compiled.compiles == 9  # 2 and 3 were evicted and compiled again; 8 was not


def test_threads_with_different_sizes_get_eager_results():
    def f(x):
        return torch.nn.functional.gelu(x).mean(-1)

    compiled = ember.compile(f, dynamic=True, strict=True)
    errors = []

    def worker(i):
        try:
            for r in range(5):
                x = torch.randn(i + 2, 33 + r)
                with torch.no_grad():
                    torch.testing.assert_close(compiled(x), f(x))
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[0]


def test_bad_dynamic_value():
    with pytest.raises(ConfigError, match="dynamic"):
        ember.compile(lambda x: x, dynamic="yes")


def _counting_mlir_compiles(monkeypatch) -> list[int]:
    from ember.codegen.mlir.backend import MLIRBackend

    counter = [0]
    orig = MLIRBackend.compile

    def counting(self, items, **kw):
        counter[0] += len(items)
        return orig(self, items, **kw)

    monkeypatch.setattr(MLIRBackend, "compile", counting)
    return counter


def test_kernels_are_compiled_once_for_all_sizes(monkeypatch):
    """Size-parametric templates: new sequence lengths bind compiled kernels."""
    from ember import compiler

    compiler.clear_cache()
    counter = _counting_mlir_compiles(monkeypatch)
    torch.manual_seed(0)
    model = Block().eval()
    compiled = ember.compile(model, strict=True)
    for n in range(64, 72):  # warm: the first sizes compile the templates
        _check(compiled, model, torch.randn(2, n, 32))
    warm = counter[0]
    assert warm > 0
    for n in range(72, 128):
        _check(compiled, model, torch.randn(2, n, 32))
    assert counter[0] == warm, f"{counter[0] - warm} kernels compiled for new lengths"
    # Longer sequences cross the threading threshold: other schedules, so a few
    # more templates (one per kernel at most), then none again.
    for n in (400, 401, 433):
        _check(compiled, model, torch.randn(2, n, 32))
    assert counter[0] - warm <= 8
    more = counter[0]
    for n in (434, 500, 511):
        _check(compiled, model, torch.randn(2, n, 32))
    assert counter[0] == more
    kernels = compiled.ember_report.graphs[-1].specializations[-1].kernels
    assert kernels and all("xi64>" in k.artifacts["mlir"] for k in kernels if k.artifacts)


def test_static_graphs_keep_constant_sizes():
    """Only specializations of symbolic graphs use templates: a static graph's
    kernels have their sizes as constants (no parameter array)."""
    def f(x):
        return torch.exp(x) * 2

    compiled = ember.compile(f, dynamic=False, strict=True)
    _check(compiled, f, torch.randn(100, 100))
    (k,) = compiled.ember_report.kernels
    assert "memref<10000xf32>" in k.artifacts["mlir"]
    sym = ember.compile(f, dynamic=True, strict=True)
    _check(sym, f, torch.randn(100, 100))
    (k,) = sym.ember_report.kernels
    assert "xi64>" in k.artifacts["mlir"]  # the parameter array


def test_decoder_block_starts_symbolic_with_dynamic_true():
    """A float computed from a symbolic size (1/sqrt(head dim)): Dynamo restarts
    its analysis to tensorify it; Ember must let that through, then fold it."""
    import math

    class Attn(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("mask", torch.ones(64, 64, dtype=torch.bool).triu(1))

        def forward(self, q, k, v):
            t = q.shape[-2]
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(q.shape[-1]))
            att = att.masked_fill(self.mask[:t, :t], float("-inf"))
            return att.softmax(-1) @ v

    model = Attn().eval()
    compiled = ember.compile(model, dynamic=True, strict=True)
    for t, d in ((8, 4), (9, 8), (33, 16)):
        q, k, v = (torch.randn(2, 3, t, d) for _ in range(3))
        _check(compiled, model, q, k, v)
    report = compiled.ember_report
    assert len(report.graphs) == 1 and report.graphs[0].inputs
    assert not report.fallbacks, report.fallbacks
    steps = report.graphs[0].specializations[-1].steps
    assert all(kind != "fallback" for kind, _ in steps), steps  # the scale folded


def test_templates_come_back_from_the_disk_cache(tmp_path):
    """A template stored by one compile is loaded from disk (memory cache cleared)
    and bound to new sizes."""
    from ember import compiler

    def f(x):
        return torch.nn.functional.gelu(x).sum(-1) + 1

    cache = str(tmp_path / "cache")
    first = ember.compile(f, dynamic=True, strict=True, cache_dir=cache)
    for n in (40, 41):
        _check(first, f, torch.randn(3, n))
    compiler.clear_cache()
    again = ember.compile(f, dynamic=True, strict=True, cache_dir=cache)
    for n in (77, 78):
        _check(again, f, torch.randn(5, n))
    kernels = [k for s in again.ember_report.graphs[0].specializations for k in s.kernels]
    assert kernels and {k.origin for k in kernels} <= {"disk", "memory"}
    assert "disk" in {k.origin for k in kernels}
