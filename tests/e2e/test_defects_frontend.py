"""The defects issue's frontend items: recompile slots (5), torch.compile options
(7), dumps (8), reasons that name something (9), output strides (11)."""

from __future__ import annotations

import logging
import os
import stat
import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F

import ember
from ember.codegen.mlir import available
from ember.config import ConfigError

pytestmark = pytest.mark.skipif(not available()[0], reason=f"MLIR backend: {available()[1]}")

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class Block(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lin = torch.nn.Linear(4, 4)

    def forward(self, x):
        return torch.relu(self.lin(x)) * 2


# -- item 5: recompile slots -----------------------------------------------------------
def test_twelve_instances_of_one_module_class_all_compile():
    x = torch.randn(2, 4)
    with torch.no_grad():
        mods = [Block() for _ in range(12)]
        compiled = [ember.compile(m) for m in mods]
        for m, c in zip(mods, compiled):
            torch.testing.assert_close(c(x), m(x))
    assert all(c.ember_report.kernels for c in compiled), \
        [len(c.ember_report.kernels) for c in compiled]
    assert not any(c.ember_report.events for c in compiled)


def test_explain_calls_leave_later_compiles_their_slots():
    def f(x):
        return torch.sin(x) + 1

    x = torch.randn(5)
    with torch.no_grad():
        for _ in range(9):
            assert ember.explain(f, x).kernels
        g = ember.compile(f)
        torch.testing.assert_close(g(x), f(x))
    assert g.ember_report.kernels and not g.ember_report.events


def test_recompile_limit_event_says_what_happened(caplog):
    def f(x):
        return x * 3

    g, other = ember.compile(f, dynamic=False), ember.compile(f, dynamic=False)
    old = torch._dynamo.config.recompile_limit
    torch._dynamo.config.recompile_limit = 2
    try:
        with torch.no_grad(), caplog.at_level(logging.WARNING, logger="ember"):
            for n in range(1, 5):
                torch.testing.assert_close(g(torch.ones(n)), f(torch.ones(n)))
            other(torch.ones(3))
    finally:
        torch._dynamo.config.recompile_limit = old
    (event,) = set(g.ember_report.events)
    assert "recompile limit reached" in event and "'f'" in event
    assert "size mismatch" in event  # Dynamo's last reason, not a guess
    assert "new shapes/dtypes" not in event
    assert not other.ember_report.events  # the other wrapper of f has its own slots
    assert other.ember_report.kernels


def test_entry_point_recompile_limit_goes_to_its_own_report():
    from ember.frontend.backend import _DEFAULT_REPORT

    def f(x):
        return x - 3

    wrapper = ember.compile(f)
    old = torch._dynamo.config.recompile_limit
    torch._dynamo.config.recompile_limit = 2
    try:
        with torch.no_grad():
            wrapper(torch.ones(2))
            compiled = torch.compile(f, backend="ember", dynamic=False)
            for n in range(1, 5):
                torch.testing.assert_close(compiled(torch.ones(n)), f(torch.ones(n)))
    finally:
        torch._dynamo.config.recompile_limit = old
    assert any("recompile limit reached" in e and "'f'" in e for e in _DEFAULT_REPORT.events)
    assert not wrapper.ember_report.events


# -- item 7: torch.compile(backend="ember", options=..., mode=...) ---------------------------
def test_torch_compile_passes_options_and_mode(tmp_path):
    def f(x):
        return torch.erf(x) * 2

    from ember.frontend.backend import _DEFAULT_REPORT

    x = torch.randn(7)
    with torch.no_grad():
        out = torch.compile(f, backend="ember",
                            options={"dump_dir": str(tmp_path), "fallback_ops": ["erf"]})(x)
    torch.testing.assert_close(out, f(x))
    g = _DEFAULT_REPORT.graphs[-1]
    assert g.dump_dir and g.dump_dir.startswith(str(tmp_path))
    assert any(fb.op == "ember.erf" for fb in g.fallbacks)
    torch._dynamo.reset()
    with torch.no_grad():  # torch.compile takes mode or options, not both
        out = torch.compile(f, backend="ember", mode="max-autotune")(x)
    torch.testing.assert_close(out, f(x))
    assert _DEFAULT_REPORT.graphs[-1].kernels and _DEFAULT_REPORT.graphs[-1].eager_reason is None


def test_torch_compile_bad_options_and_mode_are_clear():
    from ember.frontend.backend import ember_backend

    gm = torch.fx.symbolic_trace(lambda x: x + 1)
    with pytest.raises(ConfigError, match="mode: 'fastest' is not one of 'default'"):
        ember_backend(gm, [torch.ones(2)], mode="fastest")
    with pytest.raises(TypeError, match=r"unknown Ember options \['speed'\]"):
        ember_backend(gm, [torch.ones(2)], options={"speed": 1})
    with pytest.raises(ConfigError, match="opt_level: 9"):
        ember_backend(gm, [torch.ones(2)], options={"opt_level": 9})


# -- item 8: dumps ------------------------------------------------------------------------
_DUMP_SCRIPT = """
import sys, torch, ember
f = ember.compile(lambda x: torch.{op}(x) + 1)
with torch.no_grad():
    f(torch.randn(8))
print(f.ember_report.graphs[0].dump_dir)
"""


def _dump_runs(tmp_path, ops: list[str]) -> list[str]:
    """One process per op, all started together, dumping into ``tmp_path``."""
    env = {**os.environ, "EMBER_DUMP_DIR": str(tmp_path), "PYTHONPATH": ROOT}
    procs = [subprocess.Popen([sys.executable, "-c", _DUMP_SCRIPT.format(op=op)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for op in ops]
    out = []
    for p in procs:
        stdout, stderr = p.communicate(timeout=180)
        assert p.returncode == 0, stderr[-2000:]
        out.append(stdout.strip().splitlines()[-1])
    return out


def test_two_runs_with_one_dump_dir_do_not_mix(tmp_path):
    # started together: each process gets a run folder of its own
    a, b = _dump_runs(tmp_path, ["sin", "cos"])
    assert a != b and os.path.dirname(a) != os.path.dirname(b)  # a run folder each
    for folder, op, other in ((a, "sin", "cos"), (b, "cos", "sin")):
        fx = open(os.path.join(folder, "fx.py")).read()
        assert op in fx and other not in fx
        kernels = os.listdir(os.path.join(folder, "kernels"))
        assert kernels and all(op in k and other not in k for k in kernels)
    latest = open(os.path.join(tmp_path, "LATEST")).read().strip()  # the last to write it
    assert latest in (os.path.basename(os.path.dirname(a)), os.path.basename(os.path.dirname(b)))


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_unwritable_dump_dir_warns_and_compiles(tmp_path, caplog):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(stat.S_IRUSR | stat.S_IXUSR)
    _unwritable_case(str(ro / "dumps"), caplog)


def test_dump_dir_that_is_a_file_warns_and_compiles(tmp_path, caplog):
    path = tmp_path / "a_file"
    path.write_text("not a directory")
    _unwritable_case(str(path), caplog)


def _unwritable_case(dump_dir: str, caplog) -> None:
    x = torch.randn(6)
    with torch.no_grad(), caplog.at_level(logging.WARNING, logger="ember"):
        f = ember.compile(lambda x: torch.exp(x) * 2, dump_dir=dump_dir)
        torch.testing.assert_close(f(x), torch.exp(x) * 2)
    report = f.ember_report
    assert report.kernels and all(g.eager_reason is None for g in report.graphs), report
    assert any("cannot write dumps" in r.getMessage() for r in caplog.records)


def test_import_failure_still_dumps_fx(tmp_path, monkeypatch):
    from ember.frontend import importer

    def broken(*args, **kwargs):
        raise importer.ImportFailure("injected import failure")

    monkeypatch.setattr("ember.frontend.backend.import_fx", broken)
    x = torch.randn(4)
    with torch.no_grad():
        f = ember.compile(lambda x: torch.tanh(x) - 1, dump_dir=str(tmp_path), strict=False)
        torch.testing.assert_close(f(x), torch.tanh(x) - 1)
    (g,) = f.ember_report.graphs
    assert "injected import failure" in g.eager_reason
    assert "tanh" in open(os.path.join(g.dump_dir, "fx.py")).read()
    assert "injected import failure" in open(os.path.join(g.dump_dir, "error.txt")).read()


def test_lowering_failure_dumps_the_error_beside_the_ir(tmp_path, monkeypatch):
    def boom(*a, **k):
        raise RuntimeError("injected lowering failure")

    monkeypatch.setattr("ember.compiler.lower_kernel", boom)
    x = torch.randn(4)
    with torch.no_grad():
        f = ember.compile(lambda x: torch.cos(x) * 3, dump_dir=str(tmp_path), strict=False)
        torch.testing.assert_close(f(x), torch.cos(x) * 3)
    (g,) = f.ember_report.graphs
    files = set(os.listdir(g.dump_dir))
    assert {"fx.py", "00-input.ir", "error.txt"} <= files
    assert "injected lowering failure" in open(os.path.join(g.dump_dir, "error.txt")).read()


# -- item 9: reasons that name something ----------------------------------------------------
def test_one_hot_compiles_and_keeps_its_asserts():
    def f(x):
        return F.one_hot(x, 4) * 2

    x = torch.tensor([0, 2, 1, 3])
    with torch.no_grad():
        c = ember.compile(f)
        torch.testing.assert_close(c(x), f(x))
        for bad, msg in ((torch.tensor([0, 5, 1, 1]), "smaller than num_classes"),
                         (torch.tensor([-1, 0, 0, 0]), "non-negative")):
            with pytest.raises(RuntimeError, match=msg):
                f(bad)
            with pytest.raises(RuntimeError, match=msg):
                c(bad)
    report = c.ember_report
    assert report.kernels and not report.fallbacks, report


def test_import_failure_names_the_op():
    from ember.frontend.importer import ImportFailure, import_fx

    g = torch.fx.Graph()
    x = g.placeholder("x")
    x.meta["val"] = torch.empty(3)
    y = g.call_function(torch.ops.aten.polygamma.default, (3, x))  # a fallback
    y.meta["val"] = None
    g.output((y,))
    gm = torch.fx.GraphModule(torch.nn.Module(), g)
    with pytest.raises(ImportFailure, match=r"^aten\.polygamma\.default: .*NoneType"):
        import_fx(gm, [torch.empty(3)])


@pytest.mark.parametrize("cls", [torch.nn.LSTM, torch.nn.GRU])
def test_rnn_modules_say_why_nothing_compiled(cls, caplog):
    m = cls(4, 4)
    x = torch.randn(3, 2, 4)
    with torch.no_grad():
        report = ember.explain(m, x)
        with caplog.at_level(logging.WARNING, logger="ember"):
            c = ember.compile(m)
        torch.testing.assert_close(c(x)[0], m(x)[0])
    assert not report.graphs
    text = str(report)
    assert "RNN/GRU/LSTM" in text and "allow_rnn" in text and "captured no graph" in text
    assert any("RNN/GRU/LSTM" in e for e in c.ember_report.events)
    assert any("RNN/GRU/LSTM" in r.getMessage() for r in caplog.records)


def test_function_that_captures_nothing_says_so(caplog):
    @torch._dynamo.disable
    def inner(x):
        return x + 1

    def f(x):
        return inner(x)

    with torch.no_grad(), caplog.at_level(logging.WARNING, logger="ember"):
        c = ember.compile(f)
        c(torch.ones(2))
    assert any("captured no graph" in e for e in c.ember_report.events)
    assert "captured no graph" in str(ember.explain(f, torch.ones(2)))


def test_forced_fallback_ops_are_fallbacks():
    def f(x):
        return torch.erf(x) + torch.exp(x)

    x = torch.randn(6)
    with torch.no_grad():
        c = ember.compile(f, fallback_ops="erf")
        torch.testing.assert_close(c(x), f(x))
    report = c.ember_report
    assert [fb.op for fb in report.fallbacks] == ["ember.erf"]
    assert "fallback_ops" in report.fallbacks[0].reason.lower() or \
        "EMBER_FALLBACK_OPS" in report.fallbacks[0].reason
    assert "1 fallback(s)" in str(report)


@pytest.mark.parametrize("dtype", [torch.float32, torch.int32, torch.float16])
def test_max_and_min_of_all_elements_are_native(dtype):
    def f(x):
        return x.max() * 2, x.min() - 1

    x = torch.tensor([3, -7, 5, 1, 0, 2], dtype=dtype)
    with torch.no_grad():
        c = ember.compile(f)
        out = c(x)
    for o, r in zip(out, f(x)):
        torch.testing.assert_close(o, r)
    assert not c.ember_report.fallbacks, c.ember_report
    with torch.no_grad():
        nan = torch.tensor([1.0, float("nan"), 3.0])
        assert all(t.isnan() for t in ember.compile(f)(nan))


# -- item 11: output strides follow eager's layout rules for pointwise results -----------
def _perm(shape, dims, seed):
    g = torch.Generator().manual_seed(seed)
    base = torch.randn([shape[d] for d in dims], generator=g)
    return base.permute([dims.index(i) for i in range(len(dims))])


LAYOUT_CASES = {
    "channels_last": (lambda x: x * 2,
                      lambda: (torch.randn(2, 3, 4, 5).to(memory_format=torch.channels_last),)),
    "transpose": (lambda t: t.t() * 2, lambda: (torch.randn(6, 8),)),
    "transpose_first": (lambda t, y: t.t() + y, lambda: (torch.randn(6, 8), torch.randn(8, 6))),
    "contiguous_first": (lambda t, y: y + t.t(), lambda: (torch.randn(6, 8), torch.randn(8, 6))),
    "broadcast_bias": (lambda x, b: torch.relu(x + b),
                       lambda: (torch.randn(2, 3, 4, 5).to(memory_format=torch.channels_last),
                                torch.randn(3, 1, 1))),
    "chain": (lambda t: torch.exp(t.t() * 2) + 1, lambda: (torch.randn(5, 7),)),
    "permuted_3d": (lambda a, b: a * b + 1, lambda: (_perm((3, 4, 5), [2, 0, 1], 0),
                                                     _perm((3, 4, 5), [1, 2, 0], 1))),
    "equal_strides_tie": (lambda a: a * 3, lambda: (torch.randn(4, 1, 6).expand(4, 5, 6),)),
    "reduction_stays_contiguous": (lambda t: t.t().sum(0, keepdim=True) * 2,
                                   lambda: (torch.randn(6, 8),)),
}


@pytest.mark.parametrize("name", sorted(LAYOUT_CASES))
def test_pointwise_output_strides_follow_eager(name):
    fn, make = LAYOUT_CASES[name]
    args = make()
    with torch.no_grad():
        ref = fn(*args)
        c = ember.compile(fn)
        outs = [c(*args) for _ in range(3)]  # the later calls may reuse dead buffers
    for out in outs:
        torch.testing.assert_close(out, ref)
        assert out.stride() == ref.stride(), (out.stride(), ref.stride())
    assert c.ember_report.kernels


def test_strided_kernel_outputs_feed_later_steps():
    # a transposed kernel output, then a merging reshape (a runtime view that copies),
    # a matmul and another kernel, with buffer reuse between kernels
    def f(t, w):
        h = torch.relu(t.t() * 2)          # strided (1, 8) output
        r = h.reshape(-1) + 1              # merges dims of a non-contiguous value
        m = h @ w                          # library call on a strided operand
        return r, torch.tanh(m) * 3, (h * h).t() - 1, h * 0.5  # the last is strided

    t, w = torch.randn(8, 6), torch.randn(8, 5)
    with torch.no_grad():
        ref = f(t, w)
        c = ember.compile(f)
        for _ in range(3):
            out = c(t, w)
            for o, r in zip(out, ref):
                torch.testing.assert_close(o, r)
                assert o.stride() == r.stride()
