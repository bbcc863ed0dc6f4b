"""The special functions (erfc, erfinv, lgamma, digamma and polygamma(0, .), i0,
special.i0e/i1/i1e/erfcx/log_ndtr/ndtri, the Bessel and Airy functions and the
orthogonal polynomials and zeta of torch.special) compiled end to end on the CPU against
eager, in every dtype eager supports for them, with no fallback."""

from __future__ import annotations

import math

import pytest
import torch

import ember
from ember.codegen.mlir import available

pytestmark = pytest.mark.skipif(not available()[0], reason=f"MLIR backend: {available()[1]}")

S = torch.special
OPS = {"erfc": torch.erfc, "erfinv": torch.erfinv, "lgamma": torch.lgamma,
       "digamma": torch.digamma, "polygamma0": lambda x: torch.polygamma(0, x),
       "polygamma1": lambda x: torch.polygamma(1, x),
       "i0": torch.i0, "i0e": S.i0e, "i1": S.i1, "i1e": S.i1e, "erfcx": S.erfcx,
       "log_ndtr": S.log_ndtr, "ndtri": S.ndtri}
BESSEL = ["bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "modified_bessel_i0",
          "modified_bessel_i1", "modified_bessel_k0", "modified_bessel_k1",
          "scaled_modified_bessel_k0", "scaled_modified_bessel_k1", "spherical_bessel_j0",
          "airy_ai"]
OPS.update({n: getattr(S, n) for n in BESSEL})
NO_HALF = {"erfcx", "log_ndtr", "ndtri", *BESSEL}
SPECIAL = [0.0, -0.0, 1.0, -1.0, -2.0, -2.5, 0.5, math.inf, -math.inf, math.nan, 1e-30,
           -1e-30, 30.0, 88.0, -26.0, 1e-6, 0.999, -0.999, 2.0, 10.0]
TOL = {torch.float32: (2e-6, 1e-6), torch.float64: (1e-10, 1e-12),
       torch.float16: (2e-3, 1e-3), torch.bfloat16: (1.6e-2, 1e-2)}


def _inputs(name: str, dt: torch.dtype) -> torch.Tensor:
    g = torch.Generator().manual_seed(5)
    v = torch.cat([torch.tensor(SPECIAL, dtype=torch.float64),
                   torch.randn(500, generator=g, dtype=torch.float64) * 8,
                   torch.rand(300, generator=g, dtype=torch.float64) * 2 - 1])
    if name == "ndtri":
        v = torch.cat([v, torch.rand(300, generator=g, dtype=torch.float64)])
    if not dt.is_floating_point:
        v = v.nan_to_num(0, 0, 0).clamp(-50, 50)
    return v.to(dt)


@pytest.mark.parametrize("dt", [torch.float32, torch.float64, torch.float16, torch.bfloat16,
                                torch.int64], ids=str)
@pytest.mark.parametrize("name", sorted(OPS))
def test_special_function_matches_eager(name, dt):
    if name in NO_HALF and dt in (torch.float16, torch.bfloat16):
        pytest.skip("eager has no f16/bf16 kernel")
    fn = OPS[name]
    x = _inputs(name, dt)
    with torch.no_grad():
        ref = fn(x)
        c = ember.compile(lambda t: fn(t))
        out = c(x)
    assert not c.ember_report.fallbacks, c.ember_report
    assert all(g.eager_reason is None for g in c.ember_report.graphs), c.ember_report
    assert out.dtype == ref.dtype
    rtol, atol = TOL.get(ref.dtype)
    if name == "polygamma1" and ref.dtype == torch.float64:
        rtol = 1e-8  # eager's f64 trigamma truncates its series (errors to ~5e-10)
    torch.testing.assert_close(out, ref, rtol=rtol, atol=atol, equal_nan=True)


def test_polygamma_of_higher_order_stays_on_aten():
    x = torch.linspace(0.5, 3, 7)
    with torch.no_grad():
        c = ember.compile(lambda t: torch.polygamma(2, t) + 1)
        torch.testing.assert_close(c(x), torch.polygamma(2, x) + 1)
    assert [f.op for f in c.ember_report.fallbacks] == ["aten.polygamma.default"]


POLY = ["chebyshev_polynomial_t", "chebyshev_polynomial_u", "chebyshev_polynomial_v",
        "chebyshev_polynomial_w", "shifted_chebyshev_polynomial_t",
        "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v",
        "shifted_chebyshev_polynomial_w", "hermite_polynomial_h", "hermite_polynomial_he",
        "laguerre_polynomial_l", "legendre_polynomial_p"]


@pytest.mark.parametrize("dt", [torch.float32, torch.float64], ids=str)
@pytest.mark.parametrize("name", POLY)
def test_orthogonal_polynomial_matches_eager(name, dt):
    """(x, n) with n a tensor (n negative, 0, 1, small, above the closed forms'
    thresholds, fractional), a Python int and a Python float; x at +-1, 0, 1/2 and
    around [-1, 1] (no NaN x: eager's result is uninitialized memory for some);
    bit for bit (the MLIR rules are eager's arithmetic, see codegen/poly_algos.py)."""
    fn = getattr(S, name)
    g = torch.Generator().manual_seed(3)
    xs = torch.tensor([1.0, -1.0, 0.0, -0.0, 0.5, -0.5, 0.999, 1.5, -2.0, math.inf],
                      dtype=torch.float64)
    ns = torch.tensor([-2.0, 0.0, 1.0, 2.0, 3.0, 5.0, 7.0, 9.0, 12.0, 30.0, 4.5, math.nan],
                      dtype=torch.float64)
    x = torch.cat([xs.repeat_interleave(ns.numel()),
                   torch.rand(200, generator=g, dtype=torch.float64) * 2.4 - 1.2]).to(dt)
    n = torch.cat([ns.repeat(xs.numel()),
                   torch.randint(-1, 40, (200,), generator=g).double()]).to(dt)
    with torch.no_grad():
        for f, args in ((lambda a, b: fn(a, b), (x, n)), (lambda a: fn(a, 9), (x,)),
                        (lambda a: fn(a, 2.5) * 2, (x,))):
            ref = f(*args)
            c = ember.compile(f)
            out = c(*args)
            assert not c.ember_report.fallbacks, c.ember_report
            assert all(gr.eager_reason is None for gr in c.ember_report.graphs), c.ember_report
            assert out.dtype == ref.dtype
            torch.testing.assert_close(out, ref, rtol=0, atol=0, equal_nan=True)


@pytest.mark.parametrize("dt", [torch.float32, torch.float64, torch.int64], ids=str)
def test_zeta_matches_eager(dt):
    """zeta(x, q) with q a tensor (poles and negative non-integers, small, around 9,
    large, +-inf, NaN), q a Python float and an int, and x a Python float; x at 1,
    below 1, integers and not, 30, inf, NaN. int64 operands are promoted to float32
    (as eager); bit for bit (the MLIR rules are eager's arithmetic: f64 throughout,
    the first term powf for f32; codegen/zeta_algo.py)."""
    fn = S.zeta
    g = torch.Generator().manual_seed(4)
    xs = torch.tensor([1.0, 0.5, -3.0, 1.5, 2.0, 3.0, 4.5, 7.0, 30.0, math.inf, math.nan],
                      dtype=torch.float64)
    qs = torch.tensor([0.0, -2.0, -2.5, -11.5, 1e-3, 0.5, 1.0, 2.0, 8.5, 9.0, 15.0, 1e5,
                       math.inf, -math.inf, math.nan], dtype=torch.float64)
    x = torch.cat([xs.repeat_interleave(qs.numel()),
                   1 + torch.rand(200, generator=g, dtype=torch.float64) * 9])
    q = torch.cat([qs.repeat(xs.numel()),
                   torch.rand(200, generator=g, dtype=torch.float64) * 30 - 5])
    if not dt.is_floating_point:
        x, q = x.nan_to_num(2, 2, 2).round(), q.nan_to_num(3, 3, 3).clamp(-20, 1e5).round()
    x, q = x.to(dt), q.to(dt)
    with torch.no_grad():
        for f, args in ((lambda a, b: fn(a, b), (x, q)), (lambda a: fn(a, 2.5), (x,)),
                        (lambda a: fn(a, 3) * 2, (x,)), (lambda b: fn(2.0, b) + 1, (q,))):
            ref = f(*args)
            c = ember.compile(f)
            out = c(*args)
            assert not c.ember_report.fallbacks, c.ember_report
            assert all(gr.eager_reason is None for gr in c.ember_report.graphs), c.ember_report
            assert out.dtype == ref.dtype
            torch.testing.assert_close(out, ref, rtol=0, atol=0, equal_nan=True)
