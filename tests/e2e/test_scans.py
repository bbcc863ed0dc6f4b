"""cumsum and cumprod end to end: one kernel with their pointwise producers, no
fallback, eager's values (float32 bitwise: a double accumulator as eager's CPU
kernel), every dtype and layout, and through the Triton backend's interpreter."""

from __future__ import annotations

import pytest
import torch

import ember


def _run(fn, *args, exact=True, backend=None, tol=None):
    with torch.no_grad():
        rep = ember.explain(fn, *args) if backend is None else None
        got = ember.compile(fn, backend=backend)(*args)
        want = fn(*args)
    assert got.dtype == want.dtype and got.shape == want.shape
    if exact:
        assert torch.equal(got, want) or (
            want.is_floating_point() and torch.equal(got.isnan(), want.isnan())
            and torch.equal(got.nan_to_num(), want.nan_to_num())), (got - want).abs().max()
    else:
        kw = {} if tol is None else {"rtol": tol, "atol": tol}
        torch.testing.assert_close(got, want, equal_nan=True, **kw)
    return rep


@pytest.mark.parametrize("op", [torch.cumsum, torch.cumprod])
@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("shape", [(5, 7, 33), (1, 1, 1), (2, 130, 3)])
def test_any_axis_one_kernel_with_its_producers(op, dim, shape):
    x = torch.randn(shape)
    fn = (lambda t: op(t * 0.1 + 1, dim)) if op is torch.cumprod else (lambda t: op(t * 2 - 1, dim))
    rep = _run(fn, x)
    assert not rep.fallbacks and len(rep.kernels) == 1, rep


@pytest.mark.parametrize("dtype", [torch.int8, torch.int32, torch.int64, torch.bool, torch.uint8])
def test_integer_and_bool_scans_give_int64(dtype):
    x = (torch.randint(0, 2, (4, 50)) if dtype is torch.bool
         else torch.randint(-3 if dtype is not torch.uint8 else 0, 4, (4, 50))).to(dtype)
    rep = _run(lambda t: t.cumsum(-1), x)
    assert not rep.fallbacks
    big = torch.full((2, 70), 3, dtype=torch.int64)  # 3**70 wraps, as eager
    _run(lambda t: t.cumprod(1), big)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float64])
def test_other_float_dtypes(dtype):
    x = torch.randn(6, 90).to(dtype)
    assert not _run(lambda t: t.cumsum(1), x, exact=dtype is torch.float64).fallbacks
    assert not _run(lambda t: (t * 0.01 + 1).cumprod(0), x,
                    exact=dtype is torch.float64).fallbacks


def test_dtype_argument_layouts_and_specials():
    x = torch.randn(30, 20)
    _run(lambda t: t.cumsum(1, dtype=torch.float64), x)
    _run(lambda t: t.t().cumsum(1), x)          # strided rows
    _run(lambda t: t[::2, 3:].cumsum(0), x)     # a sliced view
    y = torch.randn(4, 9)
    y[0, 2], y[1, 0], y[2, 4], y[3, 3] = float("nan"), float("inf"), float("-inf"), 0.0
    y[3, 5] = float("inf")  # 0 * inf in the product: NaN from there on, as eager
    _run(lambda t: t.cumsum(1), y)
    _run(lambda t: t.cumprod(1), y)


def test_zero_d_and_empty():
    _run(lambda t: t.cumsum(0), torch.tensor(2.5))
    _run(lambda t: t.cumprod(-1), torch.tensor(3))
    _run(lambda t: t.cumsum(1), torch.randn(3, 0))
    _run(lambda t: t.cumsum(0), torch.randn(0, 4))


def test_readers_of_a_scan_load_it():
    # the scan is materialized; what follows reads it in its own kernel
    x = torch.randn(16, 40)
    rep = _run(lambda t: (t.cumsum(-1) * 2).exp() + t.cumsum(0), x, exact=False)
    assert not rep.fallbacks


def test_triton_backend_under_the_interpreter(monkeypatch):
    pytest.importorskip("triton")
    monkeypatch.setenv("TRITON_INTERPRET", "1")
    x = torch.randn(5, 3000)  # a row longer than one block: the carry between blocks
    # float32 accumulation in a tree per block (as eager's CUDA kernel), against
    # eager's sequential double on the CPU: sums of ~50 differ by ~1e-4
    _run(lambda t: (t * 0.5).cumsum(1), x, exact=False, backend="triton", tol=1e-3)
    _run(lambda t: (t * 1e-3 + 1).cumprod(0), torch.randn(40, 6), exact=False, backend="triton")
    _run(lambda t: t.cumsum(1), torch.randint(-4, 4, (3, 70)), backend="triton")
