"""Inputs and the comparison with eager for the orthogonal polynomials' tests
(tests/codegen/test_special_poly.py: MLIR; tests/triton/test_triton_poly.py:
Triton's interpreter). See test_special_poly.py."""

from __future__ import annotations

import math

import torch

from ember.ir.ops import POLY

NAMES = list(POLY)
# x: the edges of every branch (|x| == 1, x == 0 and 1 for the shifted forms, 1/2,
# just inside and outside [-1, 1]), +-0, denormals, huge, +-inf, NaN
X_SPECIAL = [0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 0.25, 0.75, 0.99999994, -0.99999994,
             1.0000001, -1.0000001, 0.9999999999999999, 1.0000000000000002, 1.5, -1.5, 2.0,
             -2.0, 3.7, -10.0, 1e-3, 1e-30, -1e-30, 1e-39, 1.4e-45, 5e-324, 1e30, -1e30, 1e300,
             math.inf, -math.inf, math.nan]
# n: negative, 0, 1, 2, the closed forms' thresholds (4 .. 9), large (Hermite's NaN
# limits 128 and 512 and beyond), fractional (truncated), and values int64 cannot
# hold (NaN, +-inf, 2**63 and up: x86 gives INT64_MIN, so 0), 2**62 (int64 arithmetic
# on n at the edges wraps as in eager)
N_SPECIAL = [-5.0, -1.0, -0.5, 0.0, -0.0, 0.5, 1.0, 1.9, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0,
             9.0, 10.0, 17.0, 33.0, 100.0, 128.0, 129.0, 300.0, 512.0, 513.0, 1000.0, 1e5,
             2.0**63, 1e30, math.inf, -math.inf, math.nan]
# a NaN x with n >= 2 in the forms whose ATen loop leaves its result uninitialized:
# eager gives whatever a register held (Ember: NaN), often the previous element's
# result (measured: x = [0.3, nan] gives the first's value twice); not compared
UNINIT = {"chebyshev_polynomial_u", "chebyshev_polynomial_w", "shifted_chebyshev_polynomial_t",
          "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_w",
          "laguerre_polynomial_l", "legendre_polynomial_p"}


def inputs(dt: torch.dtype, small: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """(x, n): every pair of the special values, then random x in [-1.2, 1.2] and
    a normal spread with random integer n (to 60) and fractional n. ``small``: fewer
    points and n at most 300 where a recurrence would run long (Triton's interpreter)."""
    g = torch.Generator().manual_seed(0)
    xs = torch.tensor(X_SPECIAL, dtype=torch.float64)
    ns = torch.tensor(N_SPECIAL, dtype=torch.float64)
    if small:
        ns = ns[(ns.abs() <= 300) | ~ns.isfinite() | (ns > 2.0**62)]
    x = [xs.repeat_interleave(ns.numel()), ns.repeat(xs.numel())]
    m = 400 if small else 3000
    rx = torch.cat([torch.rand(m, generator=g, dtype=torch.float64) * 2.4 - 1.2,
                    torch.randn(m // 3, generator=g, dtype=torch.float64) * 3])
    rn = torch.randint(-2, 61, (rx.numel(),), generator=g).double()
    rn[::7] += torch.rand(rn[::7].numel(), generator=g, dtype=torch.float64)
    xx, nn = torch.cat([x[0], rx]), torch.cat([x[1], rn])
    if not small:  # long recurrences: Legendre / Laguerre run all n steps inside [-1, 1]
        lx = torch.rand(64, generator=g, dtype=torch.float64) * 2 - 1
        xx, nn = torch.cat([xx, lx]), torch.cat([nn, torch.full((64,), 5000.0)])
    return xx.to(dt), nn.to(dt)


def check(name: str, x: torch.Tensor, n: torch.Tensor, got: torch.Tensor) -> None:
    """Bit for bit with eager (NaN where eager is NaN; -0.0 where eager's is), but
    where eager's result is undefined (UNINIT)."""
    want = getattr(torch.special, name)(x, n)
    assert got.dtype == want.dtype
    keep = torch.ones_like(x, dtype=torch.bool)
    if name in UNINIT:
        keep = ~(x.isnan() & (n >= 2) & (n < 2.0**63))
    g, w = got[keep], want[keep]
    same = (g == w) & (g.signbit() == w.signbit()) | (g.isnan() & w.isnan())
    bad = ~same
    assert not bad.any(), (f"{name} {x.dtype}: {int(bad.sum())} differ: "
                           f"x={x[keep][bad][:6].tolist()} n={n[keep][bad][:6].tolist()} "
                           f"got={g[bad][:6].tolist()} want={w[bad][:6].tolist()}")
    if name in UNINIT:
        assert got[~keep].isnan().all()


def closed_form(name: str, x: torch.Tensor, n: torch.Tensor) -> torch.Tensor:
    """Where a Chebyshev form takes ATen's trigonometric closed form (|y| < 1, n above
    the form's threshold; poly_algos._chebyshev): nowhere for the others."""
    if "chebyshev" not in name:
        return torch.zeros_like(x, dtype=torch.bool)
    kind, shifted = name[-1], name.startswith("shifted")
    limit = (4 if kind == "w" else 6) if shifted else (6 if kind == "t" else 8)
    y = (x + x - 1.0) if shifted else x
    ni = torch.where(n.isfinite() & (n.abs() < 2.0**63), n.double().trunc(), -(2.0**63))
    return (ni > limit) & (y.abs() < 1.0)


def check_close(name: str, x: torch.Tensor, n: torch.Tensor, got: torch.Tensor,
                bound: float = 16.0) -> None:
    """As :func:`check`, but in the closed forms, whose acos, cos and sin are not libm's
    (Triton: taken in f64 and rounded once): there one ulp of acos(y) moves the result
    by about n ulps over sin(acos(y)), so the difference may reach ``bound`` times
    eps (n + 1) (1 + |eager|) / sqrt(1 - y^2); NaN and infinities still exactly."""
    closed = closed_form(name, x, n)
    want = getattr(torch.special, name)(x, n)
    if closed.any():
        eps = torch.finfo(x.dtype).eps
        y = ((x + x - 1.0) if name.startswith("shifted") else x).double()
        w = want.double()
        scale = (eps * (n.double().trunc() + 1) * (1 + w.abs())
                 / (1 - y * y).clamp_min(0).sqrt().clamp_min(eps))
        g = got.double()
        ok = ((g - w).abs() <= bound * scale) & g.isfinite() & w.isfinite()
        ok |= (g == w) | (g.isnan() & w.isnan())
        bad = closed & ~ok
        assert not bad.any(), (f"{name} {x.dtype}: {int(bad.sum())} closed forms differ: "
                               f"x={x[bad][:6].tolist()} n={n[bad][:6].tolist()} "
                               f"got={got[bad][:6].tolist()} want={want[bad][:6].tolist()}")
        got = torch.where(closed, want, got)  # the rest bit for bit
    check(name, x, n, got)
