"""Capture behaviour: graph breaks, fallbacks, explain, dumps, autograd, recompiles."""

from __future__ import annotations

import logging
import os

import pytest
import torch
import torch.nn.functional as F

import ember
from ember.codegen.mlir import available

pytestmark = pytest.mark.skipif(not available()[0], reason=f"MLIR backend: {available()[1]}")


def branchy(x):
    y = torch.exp(x) * 2
    print("ember test: inside branchy")  # a graph break
    if y.sum() > 0:  # data-dependent: another graph break
        return torch.tanh(y) + 1
    return y - 1


def test_graph_breaks_run_correctly_and_show_in_explain(capsys):
    x = torch.randn(4, 4)
    with torch.no_grad():
        out = ember.compile(branchy)(x)
        out_neg = ember.compile(branchy)(-x.abs() - 10)
    torch.testing.assert_close(out, branchy(x))
    torch.testing.assert_close(out_neg, branchy(-x.abs() - 10))
    assert "inside branchy" in capsys.readouterr().out
    with torch.no_grad():
        report = ember.explain(branchy, x)
    assert len(report.graph_breaks) >= 1
    assert all(b.reason for b in report.graph_breaks)
    assert len(report.graphs) >= 2
    assert report.kernels and all(k.backend == "cpu" for k in report.kernels)
    assert "graph break" in str(report)


def unsupported(x):
    y = torch.sigmoid(x)
    z = torch.polygamma(3, y)  # not an Ember op: an eager fallback inside the graph
    return z * 3 + y


def test_unsupported_op_falls_back_with_reason():
    x = torch.randn(5, 7)
    with torch.no_grad():
        compiled = ember.compile(unsupported)
        torch.testing.assert_close(compiled(x), unsupported(x))
        report = ember.explain(unsupported, x)
    ops = {f.op: f.reason for f in report.fallbacks}
    assert "aten.polygamma.default" in ops, report
    assert ops["aten.polygamma.default"]
    assert len(report.kernels) >= 1
    assert "fallback aten.polygamma.default" in str(report)


def test_explain_softmax_kernels_and_dumps(tmp_path, monkeypatch):
    monkeypatch.setenv("EMBER_DUMP_DIR", str(tmp_path))
    x = torch.randn(6, 40)
    with torch.no_grad():
        report = ember.explain(lambda t: torch.softmax(t, dim=-1), x)
    assert 1 <= len(report.kernels) <= 3
    assert all(k.backend == "cpu" and k.name and "func.func" in k.source for k in report.kernels)
    (g,) = report.graphs
    assert g.dump_dir and os.path.isdir(g.dump_dir)
    files = {os.path.relpath(os.path.join(d, f), g.dump_dir)
             for d, _, fs in os.walk(g.dump_dir) for f in fs}
    for k in report.kernels:
        assert f"kernels/{k.name}.mlir" in files
        assert f"kernels/{k.name}.ll" in files
    assert "fx.py" in files and "00-input.ir" in files
    assert any(f.endswith("-fusion.ir") for f in files)
    mlir = open(os.path.join(g.dump_dir, f"kernels/{report.kernels[0].name}.mlir")).read()
    assert mlir == report.kernels[0].source


def test_explain_accepts_compiled_functions_and_modules():
    model = torch.nn.Sequential(torch.nn.Linear(8, 8), torch.nn.ReLU()).eval()
    x = torch.randn(3, 8)
    with torch.no_grad():
        r1 = ember.explain(model, x)
        r2 = ember.explain(ember.compile(model), x)
    assert r1.kernels and r2.kernels
    assert not r1.fallbacks and not r2.fallbacks


def test_autograd_needed_runs_eagerly_and_keeps_gradients():
    lin = torch.nn.Linear(6, 3)
    x = torch.randn(4, 6, requires_grad=True)
    compiled = ember.compile(lin)
    out = compiled(x)
    out.sum().backward()
    assert x.grad is not None and lin.weight.grad is not None
    ref_x = x.detach().clone().requires_grad_()
    lin.zero_grad()
    lin(ref_x).sum().backward()
    torch.testing.assert_close(x.grad, ref_x.grad)
    reasons = [g.eager_reason for g in compiled.ember_report.graphs]
    assert any(r and "autograd" in r for r in reasons)
    # Under no_grad the same module compiles.
    with torch.no_grad():
        compiled(x)
    assert any(g.eager_reason is None and ("library", "addmm") in g.steps
               for g in compiled.ember_report.graphs)


def test_new_shape_recompiles_and_never_reuses_a_kernel():
    def f(x):
        return torch.relu(x) * 2 + 1

    compiled = ember.compile(f)
    with torch.no_grad():
        for shape in [(4, 4), (3, 5), (4, 4)]:
            x = torch.randn(shape)
            torch.testing.assert_close(compiled(x), f(x))
        xt = torch.randn(5, 3).t()  # same shape as (3, 5), other strides
        torch.testing.assert_close(compiled(xt), f(xt))
        xd = torch.randn(4, 4, dtype=torch.float64)
        torch.testing.assert_close(compiled(xd), f(xd))
    graphs = compiled.ember_report.graphs
    assert len(graphs) >= 3 and all(g.eager_reason is None for g in graphs)


def test_recompile_limit_is_reported(caplog):
    def f(x):
        return x * 2

    compiled = ember.compile(f, dynamic=False)  # a recompile per shape
    bystander = ember.compile(lambda x: x + 1)
    with torch.no_grad():
        bystander(torch.randn(2))
    old = torch._dynamo.config.recompile_limit
    torch._dynamo.config.recompile_limit = 2
    try:
        with torch.no_grad(), caplog.at_level(logging.WARNING, logger="ember"):
            for n in range(1, 6):
                x = torch.randn(n)
                torch.testing.assert_close(compiled(x), f(x))
    finally:
        torch._dynamo.config.recompile_limit = old
    assert any("recompile limit" in e for e in compiled.ember_report.events)
    assert "recompile limit" in str(compiled.ember_report)
    assert any("recompile limit" in r.getMessage() for r in caplog.records)
    assert not bystander.ember_report.events  # the event names f, not the bystander


def test_torch_compile_backend_entry_point():
    def f(x):
        return F.silu(x).sum(-1)

    x = torch.randn(3, 9)
    with torch.no_grad():
        out = torch.compile(f, backend="ember")(x)
    torch.testing.assert_close(out, f(x))
    from ember.frontend.backend import _DEFAULT_REPORT

    assert _DEFAULT_REPORT.kernels


def test_backend_unavailable_runs_eagerly_with_one_warning(monkeypatch, caplog):
    import ember.codegen.mlir as mlir_backend
    from ember.frontend import backend as fb

    monkeypatch.setattr(mlir_backend, "available", lambda: (False, "mlir not installed (test)"))
    monkeypatch.setattr(fb, "_warned", set())

    def f(x):
        return x.exp() + 1

    with torch.no_grad(), caplog.at_level(logging.WARNING, logger="ember"):
        compiled = ember.compile(f, strict=False)
        for n in (3, 4):
            x = torch.randn(n)
            torch.testing.assert_close(compiled(x), f(x))
    warnings = [r for r in caplog.records if "unavailable" in r.getMessage()]
    assert len(warnings) == 1
    assert all("unavailable" in g.eager_reason for g in compiled.ember_report.graphs)


def test_compile_failure_runs_eagerly_and_is_reported(monkeypatch):
    from ember.codegen import lower

    def boom(*a, **k):
        raise RuntimeError("injected lowering failure")

    monkeypatch.setattr("ember.compiler.lower_kernel", boom)
    assert lower  # the module the failure is injected into

    def f(x):
        return torch.cos(x) * 3

    x = torch.randn(4)
    with torch.no_grad():
        compiled = ember.compile(f, strict=False)
        torch.testing.assert_close(compiled(x), f(x))
    (g,) = compiled.ember_report.graphs
    assert "injected lowering failure" in g.eager_reason
    assert "EAGER" in str(compiled.ember_report)


def test_fallback_ops_option_forces_eager_ops():
    def f(x):
        return torch.erf(x) + torch.exp(x)

    x = torch.randn(6)
    with torch.no_grad():
        compiled = ember.compile(f, fallback_ops=("erf",))
        torch.testing.assert_close(compiled(x), f(x))
    report = compiled.ember_report
    assert any(f.op == "ember.erf" and "EMBER_FALLBACK_OPS" in f.reason for f in report.fallbacks)
    assert 'eager(%arg0_1) {of="erf", attrs=[]}' in report.graphs[0].final_ir
    assert any(k.name for k in report.kernels)


def test_bad_arguments_are_clear_errors():
    with pytest.raises(ValueError, match="backend: 'tpu' is not one of 'auto', 'cpu', 'triton', 'eager'"):
        ember.compile(lambda x: x, backend="tpu")
    with pytest.raises(TypeError, match="function or nn.Module"):
        ember.compile(42)
    with pytest.raises(TypeError, match="unknown Ember options"):
        ember.compile(lambda x: x, no_such_option=1)


def test_outputs_never_alias_what_eager_keeps_apart():
    # Simplification turns these into (aliases of) the input or one shared value;
    # eager returns fresh, distinct tensors, and so must Ember.
    cases = {
        "mul_one": lambda x: x * 1,
        "clone_view": lambda x: x.clone().t(),
        "two_clones": lambda x: (x.clone(), x.clone()),
        "two_exps": lambda x: (x.exp(), x.exp()),
    }
    for name, fn in cases.items():
        x = torch.randn(2, 3)
        with torch.no_grad():
            out = ember.compile(fn)(x)
        outs = out if isinstance(out, tuple) else (out,)
        ptrs = [o.untyped_storage().data_ptr() for o in outs]
        assert x.untyped_storage().data_ptr() not in ptrs, name
        assert len(set(ptrs)) == len(ptrs), name
    # A view of an output stays a view of it, as in eager.
    def view_of_output(x):
        y = x * 2
        return y, y.t()

    with torch.no_grad():
        y, yt = ember.compile(view_of_output)(torch.randn(2, 3))
    torch.testing.assert_close(y.t(), yt)
    assert yt.untyped_storage().data_ptr() == y.untyped_storage().data_ptr()
