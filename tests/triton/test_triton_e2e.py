"""End to end through ``ember.compile(fn, backend="triton")`` on CPU tensors under
Triton's interpreter: model blocks against eager in f32, f16 and bf16, and
every generated kernel compiled for sm_90."""

from __future__ import annotations


import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

pytest.importorskip("triton")

import ember  # noqa: E402
from ember.demo import Block  # noqa: E402

TOLS = {torch.float32: (1e-4, 1e-4), torch.float16: (1e-2, 1e-2), torch.bfloat16: (2e-2, 2e-2)}


def check(fn, *args, dtype=torch.float32, min_kernels=1):
    """Eager vs Ember (triton) on the same inputs; every kernel also compiles for sm_90."""
    rtol, atol = TOLS[dtype]
    with torch.no_grad():
        ref = fn(*args)
        compiled = ember.compile(fn, backend="triton")
        out = compiled(*args)
        again = compiled(*args)
    torch.testing.assert_close(out, ref, rtol=rtol, atol=atol, equal_nan=True)
    torch.testing.assert_close(again, ref, rtol=rtol, atol=atol, equal_nan=True)
    report = compiled.ember_report
    assert all(g.eager_reason is None for g in report.graphs), report
    assert not report.fallbacks, report.fallbacks
    assert len(report.kernels) >= min_kernels, report
    assert {k.backend for k in report.kernels} == {"triton"}
    for k in report.kernels:
        assert "@triton.jit" in k.artifacts["triton"]
        assert ".target sm_90" in k.artifacts["ptx"]  # the "cuda" form, compiled ahead of time
    return report


def test_softmax():
    x = torch.randn(8, 33) * 10
    check(lambda t: torch.softmax(t, dim=-1), x)


def test_log_softmax_extreme_values():
    x = torch.tensor([[1e4, 0.0, -1e4], [float("-inf"), 0.0, 1.0]])
    check(lambda t: F.log_softmax(t, dim=-1), x)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
def test_layer_norm(dtype):
    ln = nn.LayerNorm(48).eval().to(dtype)
    with torch.no_grad():
        ln.weight.normal_()
        ln.bias.normal_()
    check(ln, torch.randn(4, 5, 48).to(dtype), dtype=dtype)


def test_long_rows_loop():
    """Rows longer than a block: the looped reduction (sum, max, and a stored prologue)."""
    x = torch.randn(3, 5000)
    check(lambda t: torch.softmax(t, dim=-1) * 2.0 + t.amax(-1, keepdim=True), x)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.float64])
def test_online_softmax_in_looped_rows(dtype):
    """Rows longer than a block: softmax's max and sum of exp in one loop (online),
    the normalization in a second; specials as eager gives them; float64 keeps
    its three loops (the rewrite is for float32 accumulators)."""
    x = (torch.randn(4, 5000) * 4).to(dtype)
    x[1, 7], x[2, :] = float("nan"), float("-inf")
    x[3, 4000] = float("inf")
    for fn in (lambda t: torch.softmax(t, -1), lambda t: torch.log_softmax(t, -1)):
        report = check(fn, x, dtype=dtype if dtype != torch.float64 else torch.float32)
        (k,) = report.kernels
        loops = k.source.count("for rbase in range")
        assert loops == (3 if dtype == torch.float64 else 2), k.source


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
def test_welford_layer_norm_in_looped_rows(dtype):
    """Rows longer than a block: layer norm's sum and squared deviations in one
    loop (Welford per lane, lanes merged pairwise), then the normalization: two
    loops; a constant row (variance 0), an offset row, and NaN/inf rows as eager."""
    n = 5000
    x = (torch.randn(5, n) * 3).to(dtype)
    x[1] = 2.5
    x[2] += 50  # (at 1000, float32 rounding of x - mean alone passes 1e-4)
    x[3, 17], x[4, 9] = float("nan"), float("inf")
    w, b = torch.randn(n).to(dtype), torch.randn(n).to(dtype)
    report = check(lambda t: F.layer_norm(t, (n,), w, b), x, dtype=dtype)
    (k,) = report.kernels
    assert k.source.count("for rbase in range") == 2 and "_ember_welford, " in k.source


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_gelu_mlp(dtype):
    def mlp(x, w1, b1, w2, b2):
        return F.gelu(x @ w1 + b1) @ w2 + b2

    g = torch.Generator().manual_seed(0)
    args = [torch.randn(*s, generator=g).to(dtype) * 0.3 for s in ((16, 32), (32, 64), (64,), (64, 32), (32,))]
    check(mlp, *args, dtype=dtype)


def test_bessel_functions_fuse():
    S = torch.special
    x = torch.cat([torch.randn(200) * 20, torch.tensor([0.0, -0.0, float("inf"), float("nan")])])
    report = check(lambda t: S.bessel_j0(t) * S.scaled_modified_bessel_k1(t.abs() + 0.1)
                   + S.airy_ai(t) - S.bessel_y1(t.abs()), x)
    assert len(report.kernels) == 1


def test_orthogonal_polynomials_fuse():
    S = torch.special
    g = torch.Generator().manual_seed(0)
    x = torch.cat([torch.rand(200, generator=g) * 2.2 - 1.1, torch.tensor([0.0, 1.0, -1.0, 0.5])])
    n = torch.randint(-1, 12, (x.numel(),), generator=g).float()
    report = check(lambda t, m: S.chebyshev_polynomial_t(t, m) * S.legendre_polynomial_p(t, 3)
                   + S.hermite_polynomial_he(t, m) - S.shifted_chebyshev_polynomial_w(t, 9.0), x, n)
    assert len(report.kernels) == 1


def test_views_slices_and_broadcasts():
    def f(x, y):
        a = x.t()[1:, ::2] * y[None, :3]
        return torch.cat([a, a.exp()], dim=0).sum(0), (x[:, :1] > 0).float() + x.mean()

    check(f, torch.randn(6, 5), torch.randn(4))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
def test_cat_fused_into_its_reader(dtype):
    """Masked reads: rotary embedding (a cat along the last axis), a padded pooling
    (a cat read through strided slices) and a cat down rows, each one kernel;
    a cat that is the result: one kernel per part."""
    q, cos, sin = (torch.randn(2, 4, 8, 32).to(dtype), torch.randn(8, 32).to(dtype),
                   torch.randn(8, 32).to(dtype))

    def rope(q, cos, sin):
        return q * cos + torch.cat((-q[..., 16:], q[..., :16]), dim=-1) * sin

    assert len(check(rope, q, cos, sin, dtype=dtype).kernels) == 1
    x = torch.randn(2, 3, 9, 11).to(dtype)
    assert len(check(lambda t: F.avg_pool2d(t, 3, 2, 1), x, dtype=dtype).kernels) == 1
    a, b = torch.randn(5, 33).to(dtype), torch.randn(3, 33).to(dtype)
    assert len(check(lambda u, v: torch.cat([u, v * 2], 0).sum(1), a, b,
                     dtype=dtype).kernels) == 1
    assert len(check(lambda u, v: torch.cat([u, v * 2], 0), a, b, dtype=dtype).kernels) == 2


def test_transposes_use_2d_tiles():
    def f(x, y):
        return x.t() * 2.0 + y, x.permute(1, 0).exp()

    report = check(f, torch.randn(70, 45), torch.randn(45, 70))
    assert any("[:, None]" in k.source and "tl.program_id(1)" in k.source
               for k in report.kernels), "no 2-D tiled kernel"


def test_int_and_bool_ops():
    def f(x, i):
        m = (x > 0) & (i != 3)
        return (torch.where(m, i * 2, -i), m.to(torch.int32).sum(-1), (i > 0).amax(-1),
                (i.to(torch.float32) / 7).floor().to(torch.int8))

    check(f, torch.randn(5, 9), torch.randint(-100, 100, (5, 9), dtype=torch.int32))


def test_transformer_block():
    torch.manual_seed(0)
    model = Block(dim=32, heads=2, hidden=64).eval()
    check(model, torch.randn(2, 8, 32), min_kernels=5)


def test_transformer_block_f16():
    torch.manual_seed(0)
    model = Block(dim=32, heads=2, hidden=64).eval().to(torch.float16)
    check(model, torch.randn(2, 8, 32).to(torch.float16), dtype=torch.float16, min_kernels=5)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_conv_pool_sort_library_steps(dtype):
    """Convolution and topk are library steps (torch's kernels, on the inputs' device)
    beside the Triton kernels; the bias, activation and pooling fuse into one kernel."""

    def f(x, w, b):
        y = F.max_pool2d(torch.relu(F.conv2d(x, w, b, padding=1)), 2)
        v, i = torch.topk(y.flatten(1), 3)
        return y, v * 2, i

    g = torch.Generator().manual_seed(0)
    args = [torch.randn(*s, generator=g).to(dtype) for s in ((2, 3, 9, 8), (4, 3, 3, 3), (4,))]
    report = check(f, *args, dtype=dtype)
    steps = [s for gr in report.graphs for s in gr.steps]
    assert ("library", "convolution") in steps and ("library", "topk") in steps, steps
    assert sum(k == "kernel" for k, _ in steps) == 2, steps  # conv epilogue+pool; v * 2


def test_backend_is_unavailable_without_the_interpreter_on_cpu(monkeypatch):
    from ember.codegen.backend import BackendUnavailable, select
    from ember.codegen.triton.backend import TritonBackend

    b = TritonBackend()
    assert b.runs_on("cpu") and b.available() == (True, "")
    assert "interpret" in b.fingerprint()
    monkeypatch.setenv("TRITON_INTERPRET", "0")
    assert not b.runs_on("cpu")
    if not torch.cuda.is_available():
        ok, why = b.available()
        assert not ok and "TRITON_INTERPRET" in why
        with pytest.raises(BackendUnavailable, match="triton"):
            select("triton", {"cpu"})


def test_dumps_and_explain_show_triton_source(tmp_path):
    x = torch.randn(4, 16)
    f = ember.compile(lambda t: torch.softmax(t, -1) @ t.T, backend="triton", dump_dir=str(tmp_path))
    with torch.no_grad():
        f(x)
    dumped = sorted(p.name for p in tmp_path.rglob("kernels/*.py"))
    assert dumped and all(n.endswith(".py") for n in dumped), dumped
    texts = [p.read_text() for p in tmp_path.rglob("kernels/*.py")]
    assert all("@triton.jit" in t and "import triton.language as tl" in t for t in texts)
    assert any("tl.dot" in t for t in texts)  # the matmul's module is dumped too
    report = ember.explain(f, x)
    assert {k.backend for k in report.kernels} == {"triton"}
    assert any("tl.dot" in k.source for k in report.kernels)


def test_gpu_bench_interpret_mode_runs(capsys):
    """bench/gpu.py --interpret, as CI runs it (two cases, one repetition)."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "bench" / "gpu.py"
    spec = importlib.util.spec_from_file_location("ember_bench_gpu", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    assert bench.main(["--interpret", "--only", "softmax", "--reps", "1"]) == 0
    assert bench.main(["--interpret", "--only", "matmul", "--reps", "1"]) == 0
    out = capsys.readouterr().out
    assert "softmax 4x33" in out and "matmul 40^3" in out and "MISMATCH" not in out
