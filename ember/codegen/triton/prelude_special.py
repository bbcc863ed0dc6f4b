"""Prelude helpers for the special functions (erfc, lgamma, digamma, Bessel i0/i1,
erfcx, log_ndtr, ndtri, erfinv): f64 cores written with Triton builtins, the
same algorithms as ``codegen/mlir/special_fns.py`` (see there). Both targets share
the cores; only ``_ember_erfc64`` and ``_ember_lgamma64`` differ: libdevice on the
GPU, builtins-only forms under the interpreter (which has no libdevice).
"""

from __future__ import annotations

import math


def _poly(z: str, coeffs: list[float]) -> str:
    expr = repr(coeffs[-1])
    for c in reversed(coeffs[:-1]):
        expr = f"({expr}) * {z} + {c!r}"
    return expr


_SQRT_PI = math.sqrt(math.pi)
_SQRT2 = math.sqrt(2.0)
# digamma: psi(y) ~ log y - 1/(2y) - sum B_2k / (2k y^2k), in 1/y^2, y >= 10
_PSI_ASYM = [-1.0 / 12, 1.0 / 120, -1.0 / 252, 1.0 / 240, -1.0 / 132, 691.0 / 32760, -1.0 / 12]
# trigamma: psi1(y) ~ 1/y + 1/(2y^2) + sum B_2k / y^(2k+1), in 1/y^2, y >= 10
_PSI1_ASYM = [1.0 / 6, -1.0 / 30, 1.0 / 42, -1.0 / 30, 5.0 / 66, -691.0 / 2730, 7.0 / 6]
# lgamma: Stirling's series sum B_2k / (2k (2k-1) y^(2k-1)), in 1/y^2, y >= 10
_STIRLING = [1.0 / 12, -1.0 / 360, 1.0 / 1260, -1.0 / 1680, 1.0 / 1188, -691.0 / 360360,
             1.0 / 156]
# A&S 26.2.23: a starting point for ndtri / erfinv (absolute error < 4.5e-4)
_AS_C = [2.515517, 0.802853, 0.010328]
_AS_D = [1.0, 1.432788, 0.189269, 0.001308]

COMMON = f'''

@triton.jit
def _ember_digamma(x):
    # -pi / tan(pi r), r = x - trunc(x), in f64, as ATen computes it for float and double
    d = x.to(tl.float64)
    a = (d - _ember_trunc(d)) * {math.pi!r}
    return _ember_digamma64(d, -{math.pi!r} * tl.cos(a) / tl.sin(a))


@triton.jit
def _ember_digamma64(x, refl):
    # psi(x) = psi(1 - x) + refl for x < 0 (NaN at the poles, x <= -2**52
    # included), then psi(y) = psi(y + n) - sum 1/(y + k) up to y >= 10, then the
    # asymptotic series; psi(+-0) = -+inf
    neg = x < 0
    y = tl.where(neg, 1.0 - x, x)
    acc = tl.full(x.shape, 0.0, tl.float64)
    for _k in range(10):
        small = y < 10.0
        acc = tl.where(small, acc - 1.0 / y, acc)
        y = tl.where(small, y + 1.0, y)
    z = 1.0 / (y * y)
    asym = tl.log(y) - 0.5 / y + z * ({_poly("z", _PSI_ASYM)})
    res = acc + asym
    res = tl.where(neg, res + refl, res)
    res = tl.where(neg & (x == tl.floor(x)), float("nan"), res)
    inf = tl.where(1.0 / x < 0, 1.0, -1.0) / (x * 0.0 + 0.0)
    return tl.where(x == 0, inf, res)


@triton.jit
def _ember_trigamma(x):
    # -pi**2 / sin(pi x)**2 in x's own type, as ATen computes it (see special_fns.py)
    s = tl.sin(x * {math.pi!r})
    return _ember_trigamma64(x.to(tl.float64), (-{math.pi * math.pi!r} / (s * s)).to(tl.float64))


@triton.jit
def _ember_trigamma64(x, refl):
    low = x < 0.5
    y = tl.where(low, 1.0 - x, x)
    acc = tl.full(x.shape, 0.0, tl.float64)
    for _k in range(10):
        small = y < 10.0
        acc = tl.where(small, acc + 1.0 / (y * y), acc)
        y = tl.where(small, y + 1.0, y)
    z = 1.0 / (y * y)
    res = acc + (1.0 + 0.5 / y + z * ({_poly("z", _PSI1_ASYM)})) / y
    return tl.where(low, -(res + refl), res)


@triton.jit
def _ember_bessel_i64(x, ONE: tl.constexpr, SCALED: tl.constexpr):
    # I0 (ONE = False) or I1 (True) of |x| times exp(-|x|) when SCALED: the power
    # series (positive terms) up to 30, then the asymptotic series
    ax = tl.abs(x)
    q = ax * ax * 0.25
    term = tl.full(x.shape, 1.0, tl.float64)
    s = term
    for k in range(1, 51):
        if ONE:
            term = term * q * (1.0 / (k * (k + 1)))
        else:
            term = term * q * (1.0 / (k * k))
        s = s + term
    if ONE:
        s = s * ax * 0.5
    mu = 4.0 if ONE else 0.0
    a = tl.full(x.shape, 1.0, tl.float64)
    t = a
    for k in range(1, 26):
        a = a * ((2 * k - 1) * (2 * k - 1) - mu) / (8.0 * k * ax)
        t = t + a
    t = t / tl.sqrt({2 * math.pi!r} * ax)
    if SCALED:
        r = tl.where(ax <= 30.0, s * tl.exp(-ax), t)
    else:
        r = tl.where(ax <= 30.0, s, t * tl.exp(ax))
    if ONE:
        r = tl.where(x < 0, -r, r)
    return r


@triton.jit
def _ember_erfcx(x):
    # f32: x**2 rounded to f32 for x < 0, as eager's float kernel computes it
    xx = (x * x).to(tl.float64)
    return _ember_erfcx64(x.to(tl.float64), xx, x.dtype != tl.float64)


@triton.jit
def _ember_erfcx64(x, square, ROUNDED: tl.constexpr):
    # exp(x**2) erfc(x), x**2 split exactly; beyond 25 the asymptotic series
    xx = x * x
    lo = tl.fma(x, x, -xx)
    lo = tl.where(xx < 1e4, lo, 0.0)  # exp(x**2) overflows anyway (and inf - inf is NaN)
    if ROUNDED:
        xx = tl.where(x < 0, square, xx)
        lo = tl.where(x < 0, 0.0, lo)
    direct = tl.exp(xx) * tl.exp(lo) * _ember_erfc64(x)
    z = 1.0 / (2.0 * xx)
    asym = (1.0 + z * ({_poly("z", [-1.0, 3.0, -15.0, 105.0, -945.0, 10395.0])})) / (
        x * {_SQRT_PI!r})
    return tl.where(x > 25.0, asym, direct)


@triton.jit
def _ember_log_ndtr64(x):
    t = x * {1 / _SQRT2!r}
    left = tl.log(_ember_erfcx64(-t, t, False) * 0.5) - t * t
    return tl.where(x < -1.0, left, _ember_log1p(-_ember_erfc64(t) * 0.5))


@triton.jit
def _ember_ndtri_guess(q):
    # z > 0 with ndtr(-z) ~ q, for 0 < q <= 1/2
    t = tl.sqrt(-2.0 * tl.log(q))
    return t - ({_poly("t", _AS_C)}) / ({_poly("t", _AS_D)})


@triton.jit
def _ember_ndtri64(p):
    # solve ndtr(-z) = q = min(p, 1 - p) by three Halley steps from A&S 26.2.23
    upper = p > 0.5
    q = tl.where(upper, 1.0 - p, p)
    z = _ember_ndtri_guess(tl.where(q > 0, q, 0.5))
    for _k in range(3):
        f = 0.5 * _ember_erfc64(z * {1 / _SQRT2!r}) - q
        u = f / (tl.exp(-0.5 * z * z) * {1 / math.sqrt(2 * math.pi)!r})
        z = z + u / (1.0 - 0.5 * z * u)
    z = tl.where(q == 0, float("inf"), z)
    r = tl.where(upper, z, -z)
    return tl.where((p < 0) | (p > 1) | (p != p), float("nan"), r)


@triton.jit
def _ember_erfinv64(x):
    # Halley on erf(y) = a (a <= 1/2) or erfc(y) = 1 - a (a > 1/2), 3 steps
    a = tl.abs(x)
    big = a > 0.5
    y = tl.where(big, _ember_ndtri_guess(tl.where(big & (a < 1), (1.0 - a) * 0.5, 0.25))
                 * {1 / _SQRT2!r},
                 a * {_SQRT_PI / 2!r} * (1.0 + a * a * {math.pi / 12!r}))
    for _k in range(3):
        f = tl.where(big, _ember_erfc64(y) - (1.0 - a), tl.math.erf(y) - a)
        d = tl.exp(-y * y) * {2 / _SQRT_PI!r}
        u = tl.where(big, -f / d, f / d)
        y = y - u / (1.0 + y * u)
    y = tl.where(a == 1.0, float("inf"), y)
    y = tl.where(a > 1.0, float("nan"), y)
    return tl.where(x < 0, -y, tl.where(x == 0, x, y))
'''

CUDA = '''

@triton.jit
def _ember_erfc64(x):
    return libdevice.erfc(x)


@triton.jit
def _ember_lgamma64(x):
    return libdevice.lgamma(x)
'''

INTERPRET = f'''

@triton.jit
def _ember_erfc64(x):
    # 1 - erf(x) below 2 (relative error < 5e-14), Laplace's continued fraction above
    t = tl.maximum(x, 2.0)
    for k in range(60, 0, -1):
        t = tl.maximum(x, 2.0) + (k * 0.5) / t
    cf = tl.exp(-x * x) / ({_SQRT_PI!r} * t)
    return tl.where(x < 2.0, 1.0 - tl.math.erf(x), cf)


@triton.jit
def _ember_lgamma64(x):
    # lgamma(x) = log(pi / |sin(pi x)|) - lgamma(1 - x) for x < 0; up to y >= 10 by
    # lgamma(y) = lgamma(y + n) - log(y (y + 1) ... ), then Stirling's series
    neg = x < 0
    y = tl.where(neg, 1.0 - x, x)
    p = tl.full(x.shape, 1.0, tl.float64)
    for _k in range(10):
        small = y < 10.0
        p = tl.where(small, p * y, p)
        y = tl.where(small, y + 1.0, y)
    z = 1.0 / (y * y)
    st = (y - 0.5) * tl.log(y) - y + {0.5 * math.log(2 * math.pi)!r} + ({_poly("z", _STIRLING)}) / y
    res = st - tl.log(p)
    r = x - tl.floor(x + 0.5)
    refl = {math.log(math.pi)!r} - tl.log(tl.abs(tl.sin({math.pi!r} * r)))
    res = tl.where(neg, refl - res, res)
    res = tl.where((x <= 0) & (x == tl.floor(x)), float("inf"), res)
    return tl.where(tl.abs(x) == float("inf"), float("inf"), res)
'''

#: op -> the prelude call for an operand ``{x}`` (of any float dtype)
CALLS = {
    "erfc": "_ember_erfc64({x}.to(tl.float64)).to({x}.dtype)",
    "lgamma": "_ember_lgamma64({x}.to(tl.float64)).to({x}.dtype)",
    "digamma": "_ember_digamma({x}).to({x}.dtype)",
    "trigamma": "_ember_trigamma({x}).to({x}.dtype)",
    "i0": "_ember_bessel_i64({x}.to(tl.float64), False, False).to({x}.dtype)",
    "i0e": "_ember_bessel_i64({x}.to(tl.float64), False, True).to({x}.dtype)",
    "i1": "_ember_bessel_i64({x}.to(tl.float64), True, False).to({x}.dtype)",
    "i1e": "_ember_bessel_i64({x}.to(tl.float64), True, True).to({x}.dtype)",
    "erfcx": "_ember_erfcx({x}).to({x}.dtype)",
    "log_ndtr": "_ember_log_ndtr64({x}.to(tl.float64)).to({x}.dtype)",
    "ndtri": "_ember_ndtri64({x}.to(tl.float64)).to({x}.dtype)",
    "erfinv": "_ember_erfinv64({x}.to(tl.float64)).to({x}.dtype)",
}
