"""Inputs and the comparison with eager for the Bessel and Airy functions' tests
(tests/codegen/test_special_bessel.py: MLIR; tests/triton/test_triton_bessel.py:
Triton's interpreter). See test_special_bessel.py."""

from __future__ import annotations

import math

import torch

NAMES = ["bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "modified_bessel_i0",
         "modified_bessel_i1", "modified_bessel_k0", "modified_bessel_k1",
         "scaled_modified_bessel_k0", "scaled_modified_bessel_k1", "spherical_bessel_j0",
         "airy_ai"]
SPECIAL = [0.0, -0.0, math.inf, -math.inf, math.nan, 1.0, -1.0, 0.5, -0.5, 0.49999, 2.0, -2.0,
           2.09, -2.09, 2.0899999, -2.0899999, 5.0, -5.0, 5.0000001, 8.0, -8.0, 8.0000001,
           8.3203353, 1e-5, 0.99999e-5, -1e-5, 1e-6, 1e-30, -1e-30, 1e30, -1e30, 1e300, -1e300,
           26.0, 30.0, 88.7, 88.72283172607422, 88.72283935546875, 90.0, 91.9, 100.0, 103.892,
           103.9, 700.0, 709.0, 710.0, 720.0, -106.4, -1000.5, 1e-39, 1.4e-45, 1e-300, 5e-324,
           65614.5234375, 262421.84375, 1e6 + 0.5, 1e15]


def inputs(dt: torch.dtype) -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    x = torch.cat([torch.tensor(SPECIAL, dtype=torch.float64),
                   torch.linspace(-120, 120, 4801, dtype=torch.float64),
                   torch.randn(1000, generator=g, dtype=torch.float64) * 10,
                   torch.rand(500, generator=g, dtype=torch.float64) * 4 - 2,
                   torch.logspace(-300, 300, 301, dtype=torch.float64),
                   -torch.logspace(-30, 30, 121, dtype=torch.float64),
                   torch.logspace(3, 8, 501, dtype=torch.float64),
                   -torch.logspace(2, 4, 201, dtype=torch.float64)])
    return x.to(dt)


# eager's own results in the dtype: torch's default tolerances (f32 1.3e-6 / 1e-5,
# f64 1e-7 / 1e-7) and a tighter bound, measured on these inputs: f64, y0 near
# its zeros (a few 1e-16 absolute); f32, eager's float kernel loses up to ~2e-7
# absolute to cancellation there (y0's small-x form), Ember computes in f64
TIGHT = {torch.float64: (1e-11, 1e-15), torch.float32: (1.3e-6, 5e-7)}


def check(name: str, x: torch.Tensor, got: torch.Tensor) -> None:
    want = getattr(torch.special, name)(x)
    assert got.dtype == want.dtype
    nan = want.isnan()
    assert torch.equal(got.isnan(), nan), (name, x[got.isnan() != nan][:8].tolist())
    inf = want.isinf()
    assert torch.equal(got[inf], want[inf]), (name, x[inf][got[inf] != want[inf]][:8].tolist())
    torch.testing.assert_close(got, want, equal_nan=True)
    rtol, atol = TIGHT[x.dtype]
    fin = torch.isfinite(want)
    err = (got[fin].double() - want[fin].double()).abs()
    bad = err > rtol * want[fin].double().abs() + atol
    if x.dtype == torch.float32:  # results in f32's denormal range: one rounding apart
        bad &= err > torch.finfo(torch.float32).smallest_normal
    assert not bad.any(), (f"{name} {x.dtype}: x={x[fin][bad][:6].tolist()} "
                           f"got={got[fin][bad][:6].tolist()} want={want[fin][bad][:6].tolist()}")
    z = fin & (want == 0)
    assert torch.equal(got[z].signbit(), want[z].signbit()), (name, x[z][:8].tolist())
