"""nextafter and frexp as kernel instructions (``codegen/mlir/bits.py``, Triton's
``prelude_bits.py``): bitwise eager's on the values where IEEE bit editing has its
cases: zeros of both signs, subnormals, the largest finite, infinities and NaN."""

from __future__ import annotations

import pytest
import torch

import ember

EDGES = [0.0, -0.0, 1.0, -1.0, 0.75, 3.0, 1e-45, -1e-45, 5e-39, -7.3e-40, 2.0 ** -126,
         3.4e38, -3.4e38, float("inf"), float("-inf"), float("nan"), 123.456, 1e-300, 1e300]


def _edges(dtype):
    x = torch.tensor(EDGES, dtype=torch.float64).to(dtype)
    return torch.cat([x, torch.randn(200, dtype=torch.float64).mul(1e3).to(dtype)])


def _same(a, b):
    assert a.dtype == b.dtype and a.shape == b.shape
    assert torch.equal(a.view(-1).isnan(), b.view(-1).isnan())
    keep = ~a.isnan()
    assert torch.equal(a[keep], b[keep])
    assert torch.equal(a[keep].signbit(), b[keep].signbit())  # -0.0 stays -0.0


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_nextafter_is_eagers_bit_for_bit(dtype):
    x = _edges(dtype)
    y = torch.cat([x[1:], x[:1]])  # every edge toward another, and equal pairs below
    y[::7] = x[::7]

    def f(a, b):
        return torch.nextafter(a, b) * 1  # an instruction of a kernel, not a lone op

    compiled = ember.compile(f)
    _same(compiled(x, y), f(x, y))
    rep = compiled.ember_report
    assert not rep.fallbacks and rep.kernels


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16, torch.bfloat16])
def test_frexp_is_eagers_bit_for_bit(dtype):
    x = _edges(dtype)

    def f(a):
        m, e = torch.frexp(a)
        return m, e, m * 2.0 ** e.to(a.dtype) == a

    compiled = ember.compile(f)
    got, want = compiled(x), f(x)
    _same(got[0], want[0])
    assert torch.equal(got[1], want[1]) and got[1].dtype == torch.int32
    assert torch.equal(got[2], want[2])
    assert not compiled.ember_report.fallbacks


def test_half_nextafter_stays_atens():
    x = torch.tensor([1.0, 0.0], dtype=torch.float16)
    compiled = ember.compile(lambda a: torch.nextafter(a, -a))
    assert torch.equal(compiled(x), torch.nextafter(x, -x))
    assert any("nextafter" in f.op for f in compiled.ember_report.fallbacks)


def test_bf16_rounding_keeps_subnormals_like_eager():
    """f32 -> bf16 in kernels rounds in integer arithmetic: x86's vcvtneps2bf16 (what
    LLVM emits for the conversion with AVX512-BF16) flushed bf16 subnormals to zero."""
    x = torch.tensor([5.8775e-39, 1.4694e-39, 7.3468e-40, -1e-38, 3e-38, 1.00390625,
                      1.01171875, 1.0117188, -0.0, 3.4e38, float("inf"), 9.2e-41])
    for f in (lambda a: (a * 1).to(torch.bfloat16), lambda a: a.to(torch.bfloat16) * 1,
              lambda a: 2.0 ** (a * 0 - 130).to(torch.bfloat16)):
        want = f(x)
        got = ember.compile(f)(x)
        nan = want.isnan()  # NaN bits differ between ATen's own paths (0xFFFF, 0x7FC0)
        assert torch.equal(got.isnan(), nan)
        assert torch.equal(got[~nan].view(torch.int16), want[~nan].view(torch.int16)), (got, want)
