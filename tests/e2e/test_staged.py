"""Staged kernels end to end: a reduction read back along the rows it reduced
joins its reader (softmax, layer norm, RMSNorm as one kernel each), on any
axis, dtype and layout, against eager; and the refusals explain says why."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

import ember
from ember.passes import fusion


def _run(fn, *args, tol=None):
    with torch.no_grad():
        rep = ember.explain(fn, *args)
        got = ember.compile(fn)(*args)
        want = fn(*args)
    kw = {} if tol is None else {"rtol": tol, "atol": tol}
    if isinstance(want, tuple):
        for g, w in zip(got, want):
            torch.testing.assert_close(g, w, equal_nan=True, **kw)
    else:
        torch.testing.assert_close(got, want, equal_nan=True, **kw)
    return rep


@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("shape", [(5, 7, 33), (1, 1, 1), (2, 3, 130)])
def test_softmax_any_axis_is_one_kernel(shape, dim):
    x = torch.randn(shape) * 3
    rep = _run(lambda t: torch.softmax(t, dim), x)
    if x.shape[dim] > 1:  # (over a unit axis, a reduction is its input's shape)
        assert len(rep.kernels) == 1, rep


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_softmax_and_layer_norm(dtype):
    x = (torch.randn(6, 70) * 3).to(dtype)
    w, b = torch.randn(70).to(dtype), torch.randn(70).to(dtype)
    assert len(_run(lambda t: torch.softmax(t, -1), x).kernels) == 1
    assert len(_run(lambda t: F.layer_norm(t, (70,), w, b), x).kernels) == 1


def test_non_contiguous_and_special_values():
    x = torch.randn(40, 24).t()  # rows are strided
    x[0, 3], x[2, 5], x[4, 0] = float("inf"), float("-inf"), float("nan")
    x[5, :] = float("-inf")  # a row of -inf: softmax gives NaN, as eager
    rep = _run(lambda t: torch.softmax(t, -1), x)
    assert len(rep.kernels) == 1
    _run(lambda t: (t - t.mean(1, keepdim=True)) * 2, x)


def test_layer_norm_3d_and_rmsnorm_with_residual():
    x, r, w, b = torch.randn(3, 9, 96), torch.randn(3, 9, 96), torch.randn(96), torch.randn(96)
    assert len(_run(lambda t: F.layer_norm(t, (96,), w, b), x, tol=1e-5).kernels) == 1

    def rms(t, u):
        h = t + u
        return h, h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + 1e-6) * w

    assert len(_run(rms, x, r).kernels) == 1


def test_integer_rows():
    x = torch.randint(-50, 50, (7, 13))
    rep = _run(lambda t: t - t.amax(1, keepdim=True), x)
    assert len(rep.kernels) == 1


def test_long_rows_stay_separate_kernels_and_say_why():
    n = fusion.STAGED_ROW_BYTES // 4 + 1024  # a float32 row over the cache budget
    x = torch.randn(2, n)
    rep = _run(lambda t: torch.softmax(t, -1), x)
    assert len(rep.kernels) == 3
    assert "rows must stay in cache" in str(rep)


def test_a_reduction_result_used_elsewhere_is_materialized():
    x = torch.randn(8, 32)

    def f(t):
        m = t.amax(-1, keepdim=True)
        return t - m, m * 2

    rep = _run(f, x)
    assert len(rep.kernels) == 3  # amax; t - m; m * 2
    assert "its result is used by another kernel" in str(rep)


def test_attention_softmax_joins_its_scaling_and_mask():
    q, k = torch.randn(2, 4, 16, 8), torch.randn(2, 4, 16, 8)
    mask = torch.ones(16, 16, dtype=torch.bool).tril()

    def att(a, b):
        s = (a @ b.transpose(-1, -2)) * 0.35
        s = s.masked_fill(~mask, float("-inf"))
        return torch.softmax(s, -1)

    rep = _run(att, q, k)
    assert sum(k.name.startswith("k") for k in rep.kernels) == 1, rep


@pytest.mark.parametrize("op", ["amax", "amin"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.float64])
def test_max_min_rows_columns_and_whole_with_nan_and_infinities(op, dtype):
    # max/min keep a NaN anywhere in the row (a sum of magnitudes beside the
    # compare-and-select), at any lane, in the vector tail, down columns and
    # over the whole tensor (split across threads)
    x = torch.randn(37, 1000).to(dtype)
    x[0, 5] = float("nan")          # early lane
    x[1, 999] = float("nan")        # tail lane
    x[2, :] = float("-inf")
    x[3, :] = float("inf")
    x[4, 7], x[4, 8] = float("inf"), float("-inf")
    x[5, 3], x[5, 600] = float("nan"), float("inf")
    x[6, :] = float("nan")
    x[7, :] = 0.0
    f = getattr(torch, op)
    for fn in (lambda t: f(t, 1), lambda t: f(t, 0), lambda t: f(t, (0, 1)),
               lambda t: f(t.t(), 1), lambda t: t - f(t, 1, keepdim=True)):
        _run(fn, x)
    big = torch.randn(3_000_000)
    big[2_999_999] = float("nan")
    _run(lambda t: f(t, 0), big)


def test_a_reduction_read_by_two_kernels_through_a_recomputed_value_stays():
    """Fuzz seed 31136: the normalized value v3 is recomputed inside two kernels,
    both reading mean and rstd. Merging those reductions into one reader (their
    users were all "inside" it, node-wise) left the other kernel reading values
    nothing computed: they ran as loose IR ops. Every step must be a kernel."""
    x, y = torch.randn(5, 7).t(), torch.randn(1, 7).t()

    def f(a0, a1):
        m = a0.mean(1, keepdim=True)
        v3 = (a0 - m) * torch.rsqrt((a0 - m).pow(2).mean(1, keepdim=True) + 1e-5)
        return v3 - v3.mean(1, keepdim=True), torch.where(a1 > v3, a1, v3)

    rep = _run(f, x, y)
    steps = [s for s in rep.graphs[0].final_ir.splitlines() if "= " in s and "kernel(" not in s
             and s.startswith("      %")]
    assert not steps, steps  # no IR op outside a kernel
    assert "its result is used by another kernel" in str(rep)


def test_a_residual_stream_is_loaded_not_recomputed():
    # each layer norm's output feeds a matmul (through a reshape: a runtime view,
    # so it is stored) and the next residual add: the next kernels load it. (Regions
    # are built from the last node back; before the need set was settled, every
    # later kernel recomputed the whole stream from the first input, one more layer
    # norm per layer, and no layer norm was one staged kernel: 7 kernels here.)
    torch.manual_seed(0)
    ws = [torch.randn(64, 64) * 0.1 for _ in range(3)]
    w, b = torch.randn(64), torch.randn(64)

    def f(x):
        h = F.layer_norm(x, (64,), w, b)
        for wm in ws:
            h = F.layer_norm(h @ wm + h, (64,), w, b)
        return h

    rep = _run(f, torch.randn(2, 16, 64), tol=1e-4)
    assert len(rep.kernels) == 4, rep  # one staged kernel per layer norm
    ir = rep.graphs[0].final_ir
    assert ir.count(" = rsqrt(") == 4, ir  # no layer norm recomputed in a later kernel
