"""Fits the polynomials of ember/codegen/mlir/special.py (inverse trig and
hyperbolic functions, evaluated in f64 for f32 results): near-minimax in
relative error by Lawson's iteratively reweighted least squares against mpmath
(40 digits).

Run: python tools/fit_poly.py   (prints the coefficient lists and their errors)
"""

from __future__ import annotations

import mpmath
import numpy as np

mpmath.mp.dps = 40


def fit(target, lo: float, hi: float, degree: int, n: int = 3000, iters: int = 60):
    """Coefficients c (lowest first) of P(z) ~ target(z) on [lo, hi], relative error."""
    k = np.arange(n)
    z = (lo + hi) / 2 + (hi - lo) / 2 * np.cos(np.pi * (k + 0.5) / n)
    y = np.array([float(target(mpmath.mpf(float(v)))) for v in z])
    V = np.vander(z, degree + 1, increasing=True) / y[:, None]
    rhs = np.ones(n)
    w = np.ones(n) / n
    for _ in range(iters):
        sw = np.sqrt(w)
        c, *_ = np.linalg.lstsq(V * sw[:, None], rhs * sw, rcond=None)
        err = np.abs(V @ c - 1)
        w = w * err
        w /= w.sum()
    return [float(v) for v in c], float(np.abs(V @ c - 1).max())


def _odd(f):
    # P(z) with f(x) = x + x z P(z), z = x**2
    return lambda z: (f(mpmath.sqrt(z)) - mpmath.sqrt(z)) / (mpmath.sqrt(z) * z)


FITS = {
    # atan on [0, 0.6]; atan(x) = pi/4 + atan((x-1)/(x+1)) up to 1/0.6, then
    # pi/2 - atan(1/x)
    "ATAN": (_odd(mpmath.atan), 1e-12, 0.36, 12),
    # asin on |x| <= 1/2; larger |x| use asin(x) = pi/2 - 2 asin(sqrt((1-x)/2))
    "ASIN": (_odd(mpmath.asin), 1e-12, 0.25, 10),
    # asinh and atanh on |x| <= 1/2 (beyond: logarithms in f64)
    "ASINH": (_odd(mpmath.asinh), 1e-12, 0.25, 9),
    "ATANH": (_odd(mpmath.atanh), 1e-12, 0.25, 11),
}

if __name__ == "__main__":
    for name, (f, lo, hi, deg) in FITS.items():
        c, e = fit(f, lo, hi, deg)
        print(f"_{name}_P = {c}  # max rel. error {e:.2e}")
