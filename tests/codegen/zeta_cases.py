"""Inputs and the comparison with eager for zeta's kernel tests
(tests/codegen/test_special_zeta.py: MLIR; tests/triton/test_triton_zeta.py:
Triton's interpreter)."""

from __future__ import annotations

import math

import torch

# x: the edges (1, just below and above it, x < 1, integers and not, 2, large up to
# 30 and beyond, where q**-x underflows), +-inf, NaN
X_SPECIAL = [1.0, 0.999, 1.0000001, 0.5, 0.0, -0.0, -2.0, -2.5, 1.5, 2.0, 2.5, 3.0, 4.0, 7.5,
             12.0, 30.0, 200.0, math.inf, -math.inf, math.nan]
# q: <= 0 integer (poles: inf) and not (NaN unless x is an integer: the sum runs about
# |q| + 9 terms), tiny, between 0 and 1, the direct sum's 9 boundary, large, +-inf, NaN
Q_SPECIAL = [0.0, -0.0, -1.0, -7.0, -0.5, -3.25, -40.5, -1e-3, 1e-30, 1e-3, 0.25, 0.5, 1.0,
             1.5, 2.0, 8.999, 9.0, 9.5, 10.0, 33.3, 1e3, 1e8, 1e20, math.inf, -math.inf,
             math.nan]


def inputs(dt: torch.dtype, small: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """(x, q): every pair of the special values, then random x in (1, 12) and q in
    (-20, 40) (about a third with integer x, whose negative q are defined). ``small``:
    fewer random points (Triton's interpreter)."""
    g = torch.Generator().manual_seed(0)
    xs = torch.tensor(X_SPECIAL, dtype=torch.float64)
    qs = torch.tensor(Q_SPECIAL, dtype=torch.float64)
    x = [xs.repeat_interleave(qs.numel()), qs.repeat(xs.numel())]
    m = 300 if small else 3000
    rx = 1.0 + torch.rand(m, generator=g, dtype=torch.float64) * 11
    rx[::3] = rx[::3].floor() + 1.0
    rq = torch.rand(m, generator=g, dtype=torch.float64) * 60 - 20
    return torch.cat([x[0], rx]).to(dt), torch.cat([x[1], rq]).to(dt)


def compare(x: torch.Tensor, q: torch.Tensor, got: torch.Tensor) -> dict:
    """How ``got`` differs from eager: the count of differing results, the largest
    relative difference of the finite ones, and where NaN / inf / signs disagree."""
    want = torch.special.zeta(x, q)
    assert got.dtype == want.dtype
    same = ((got == want) & (got.signbit() == want.signbit())) | (got.isnan() & want.isnan())
    fin = got.isfinite() & want.isfinite()
    rel = ((got.double() - want.double()).abs() / want.double().abs().clamp_min(1e-300))[fin]
    special = ~same & ~fin
    return {"differ": int((~same).sum()), "max_rel": rel.max().item() if rel.numel() else 0.0,
            "special": int(special.sum()),
            "where": list(zip(x[~same][:6].tolist(), q[~same][:6].tolist(),
                              got[~same][:6].tolist(), want[~same][:6].tolist()))}


def check(x: torch.Tensor, q: torch.Tensor, got: torch.Tensor, exact: bool = True) -> dict:
    """Bit for bit with eager (``exact``), else within torch.testing's default
    tolerances of the dtype, NaN and infinities exactly; returns :func:`compare`."""
    r = compare(x, q, got)
    if exact:
        assert r["differ"] == 0, r
    else:
        torch.testing.assert_close(got, torch.special.zeta(x, q), equal_nan=True)
    return r
