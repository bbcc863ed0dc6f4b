"""MLIR lowerings of the special functions: erfc and lgamma (libm, in the operand's
type, as torch calls them), and digamma, the modified Bessel functions i0, i0e,
i1, i1e, erfcx, log_ndtr, ndtri and erfinv, computed in f64 for every float
dtype by the algorithms below (one rounding to f32 at the end for f32/f16/bf16
operands). The transcendental steps are math-dialect ops (libm calls; one per
lane in vector code), the rest polynomials and series written here, the same
algorithms as the Triton prelude (``triton/prelude_special.py``):

* digamma: reflection psi(x) = psi(1 - x) - pi / tan(pi x) for x < 0 (NaN at the
  poles; the tan term of the fractional part, in f64, as ATen computes it),
  recurrence up to y >= 10, then psi's asymptotic series (to 1/y**14).
* i0, i1 (and their exp(-|x|) scaled forms): the power series (positive terms,
  50 of them) for |x| <= 30, else Hankel's asymptotic series (25 terms).
* erfcx: exp(x**2) erfc(x) with x**2 split exactly (fma); beyond 25, the
  asymptotic series. For f32 and x < 0, x**2 rounded to f32 first, as eager's
  float kernel does (its result is off by up to ~4e-6 there; Ember matches it). log_ndtr: as ATen, log(erfcx(-x/sqrt 2)/2) - x**2/2 below
  -1, else log1p(-erfc(x/sqrt 2)/2).
* ndtri, erfinv: three Halley steps (cubic convergence) on erfc (erf for
  |x| <= 1/2 in erfinv) from Abramowitz & Stegun 26.2.23's starting point
  (absolute error < 4.5e-4).
"""

from __future__ import annotations

import math
from typing import Any, Callable

from mlir import ir
from mlir.dialects import arith
from mlir.dialects import math as mmath

from .lowering import CmpF, OpCtx, _libm, is_float, shaped
from .vmath import _f, _sel


class V:
    """An f64 MLIR value with arithmetic operators (constants adopt its shape)."""

    __slots__ = ("v",)

    def __init__(self, v):
        self.v = v

    def c(self, x: float) -> "V":
        return V(_f(self.v, float(x)))

    def _o(self, o) -> Any:
        return o.v if isinstance(o, V) else _f(self.v, float(o))

    def __add__(self, o): return V(arith.addf(self.v, self._o(o)))
    def __radd__(self, o): return V(arith.addf(self._o(o), self.v))
    def __sub__(self, o): return V(arith.subf(self.v, self._o(o)))
    def __rsub__(self, o): return V(arith.subf(self._o(o), self.v))
    def __mul__(self, o): return V(arith.mulf(self.v, self._o(o)))
    def __rmul__(self, o): return V(arith.mulf(self._o(o), self.v))
    def __truediv__(self, o): return V(arith.divf(self.v, self._o(o)))
    def __rtruediv__(self, o): return V(arith.divf(self._o(o), self.v))
    def __neg__(self): return V(arith.negf(self.v))

    def cmp(self, pred, o):
        return arith.cmpf(pred, self.v, self._o(o))

    def lt(self, o): return self.cmp(CmpF.OLT, o)
    def le(self, o): return self.cmp(CmpF.OLE, o)
    def gt(self, o): return self.cmp(CmpF.OGT, o)
    def eq(self, o): return self.cmp(CmpF.OEQ, o)
    def isnan(self): return arith.cmpf(CmpF.UNO, self.v, self.v)


def sel(c, a: V, b) -> V:
    return V(_sel(c, a.v, a._o(b)))


def sel2(c, a, b: V) -> V:
    return V(_sel(c, b._o(a), b.v))


def fn(name: str, x: V) -> V:
    return V(getattr(mmath, name)(x.v))


def _poly(z: V, coeffs: list[float]) -> V:
    r = z.c(coeffs[-1])
    for c in reversed(coeffs[:-1]):
        r = r * z + c
    return r


def _nan(x: V) -> V:
    return x.c(math.nan)


def _inf(x: V) -> V:
    return x.c(math.inf)


# digamma: psi(y) ~ log y - 1/(2y) - sum B_2k / (2k y^2k), in z = 1/y^2, y >= 10
_PSI_ASYM = [-1.0 / 12, 1.0 / 120, -1.0 / 252, 1.0 / 240, -1.0 / 132, 691.0 / 32760, -1.0 / 12]
_AS_C = [2.515517, 0.802853, 0.010328]
_AS_D = [1.0, 1.432788, 0.189269, 0.001308]
_SQRT_PI = math.sqrt(math.pi)
_RSQRT2 = 1 / math.sqrt(2.0)


def digamma_reflection(x: V) -> V:
    """-pi / tan(pi r), r = x - trunc(x), in f64, as ATen's calc_digamma computes it
    for float and double alike (bit for bit with eager's f64 results)."""
    return -math.pi / fn("tan", (x - fn("trunc", x)) * math.pi)


def digamma(x: V, refl: V) -> V:
    """psi(x), with ``refl`` = digamma_reflection(x) (used for x < 0)."""
    neg = x.lt(0.0)
    y = sel(neg, 1.0 - x, x)
    acc = x.c(0.0)
    for _ in range(10):
        small = y.lt(10.0)
        acc = sel(small, acc - 1.0 / y, acc)
        y = sel(small, y + 1.0, y)
    z = 1.0 / (y * y)
    res = acc + (fn("log", y) - 0.5 / y + z * _poly(z, _PSI_ASYM))
    res = sel(neg, res + refl, res)
    pole = arith.andi(neg, x.eq(fn("floor", x)))
    res = sel(pole, _nan(x), res)
    # psi(+0) = -inf, psi(-0) = +inf
    zero_inf = V(mmath.copysign(_inf(x).v, (-x).v))
    return sel(x.eq(0.0), zero_inf, res)


# trigamma: psi1(y) ~ 1/y + 1/(2y^2) + sum B_2k / y^(2k+1), in z = 1/y^2, y >= 10
_PSI1_ASYM = [1.0 / 6, -1.0 / 30, 1.0 / 42, -1.0 / 30, 5.0 / 66, -691.0 / 2730, 7.0 / 6]


def trigamma_reflection(x: V) -> V:
    """-pi**2 / sin(pi x)**2 in x's own type, as ATen's calc_trigamma computes it
    (for f32, pi * x rounded to f32 and sinf: near the poles eager's result is far
    from the exact value, and finite; matching eager is what counts)."""
    s = fn("sin", x * math.pi)
    return -(math.pi * math.pi) / (s * s)


def trigamma(x: V, refl: V) -> V:
    """psi1(x); for x < 1/2, refl + psi1(1 - x) negated, as ATen."""
    low = x.lt(0.5)
    y = sel(low, 1.0 - x, x)
    acc = x.c(0.0)
    for _ in range(10):
        small = y.lt(10.0)
        acc = sel(small, acc + 1.0 / (y * y), acc)
        y = sel(small, y + 1.0, y)
    z = 1.0 / (y * y)
    res = acc + (1.0 + 0.5 / y + z * _poly(z, _PSI1_ASYM)) / y
    return sel(low, -(res + refl), res)


def bessel_i(x: V, one: bool, scaled: bool) -> V:
    ax = fn("absf", x)
    q = ax * ax * 0.25
    term = x.c(1.0)
    s = term
    for k in range(1, 51):
        term = term * q * (1.0 / (k * (k + 1) if one else k * k))
        s = s + term
    if one:
        s = s * ax * 0.5
    mu = 4.0 if one else 0.0
    a = x.c(1.0)
    t = a
    for k in range(1, 26):
        a = a * ((2 * k - 1) ** 2 - mu) / (ax * (8.0 * k))
        t = t + a
    t = t / fn("sqrt", ax * (2 * math.pi))
    small = ax.le(30.0)
    r = sel(small, s * fn("exp", -ax), t) if scaled else sel(small, s, t * fn("exp", ax))
    return sel(x.lt(0.0), -r, r) if one else r


def erfcx(x: V, square: V | None = None) -> V:
    """exp(x**2) erfc(x); ``square``: x**2 as eager's float kernel rounds it (for
    x < 0 it computes 2 exp(x * x) - erfcx(-x) in float: matched, not bettered)."""
    xx = x * x
    lo = V(mmath.fma(x.v, x.v, (-xx).v))
    lo = sel(xx.lt(1e4), lo, 0.0)  # exp(x**2) overflows anyway (and inf - inf is NaN)
    if square is not None:
        neg = x.lt(0.0)
        xx, lo = sel(neg, square, xx), sel2(neg, 0.0, lo)
    direct = fn("exp", xx) * fn("exp", lo) * fn("erfc", x)
    z = 1.0 / (xx * 2.0)
    asym = (1.0 + z * _poly(z, [-1.0, 3.0, -15.0, 105.0, -945.0, 10395.0])) / (x * _SQRT_PI)
    return sel(x.gt(25.0), asym, direct)


def log_ndtr(x: V) -> V:
    t = x * _RSQRT2
    left = fn("log", erfcx(-t) * 0.5) - t * t
    right = fn("log1p", -fn("erfc", t) * 0.5)
    return sel(x.lt(-1.0), left, right)


def _ndtri_guess(q: V) -> V:
    t = fn("sqrt", fn("log", q) * -2.0)
    return t - _poly(t, _AS_C) / _poly(t, _AS_D)


def ndtri(p: V) -> V:
    upper = p.gt(0.5)
    q = sel(upper, 1.0 - p, p)
    z = _ndtri_guess(sel(q.gt(0.0), q, 0.5))
    for _ in range(3):
        f = fn("erfc", z * _RSQRT2) * 0.5 - q
        u = f / (fn("exp", z * z * -0.5) * (1 / math.sqrt(2 * math.pi)))
        z = z + u / (1.0 - z * u * 0.5)
    z = sel(q.eq(0.0), _inf(p), z)
    r = sel(upper, z, -z)
    bad = arith.ori(arith.ori(p.lt(0.0), p.gt(1.0)), p.isnan())
    return sel(bad, _nan(p), r)


def erfinv(x: V) -> V:
    a = fn("absf", x)
    big = a.gt(0.5)
    guess_q = sel(arith.andi(big, a.lt(1.0)), (1.0 - a) * 0.5, 0.25)
    y = sel(big, _ndtri_guess(guess_q) * _RSQRT2,
            a * (_SQRT_PI / 2) * (1.0 + a * a * (math.pi / 12)))
    for _ in range(3):
        f = sel(big, fn("erfc", y) - (1.0 - a), fn("erf", y) - a)
        d = fn("exp", -(y * y)) * (2 / _SQRT_PI)
        u = sel(big, -f / d, f / d)
        y = y - u / (1.0 + y * u)
    y = sel(a.eq(1.0), _inf(x), y)
    y = sel(a.gt(1.0), _nan(x), y)
    y = sel(x.lt(0.0), -y, y)
    return sel(x.eq(0.0), x, y)  # keeps -0.0


F64_CORES: dict[str, Callable[..., V]] = {
    "digamma": digamma, "trigamma": trigamma,
    "i0": lambda x: bessel_i(x, False, False), "i0e": lambda x: bessel_i(x, False, True),
    "i1": lambda x: bessel_i(x, True, False), "i1e": lambda x: bessel_i(x, True, True),
    "erfcx": erfcx, "log_ndtr": log_ndtr, "ndtri": ndtri, "erfinv": erfinv,
}


def f64_operand(cx: OpCtx, name: str):
    """(dtype, operand, the operand widened to f64) of a float-only unary op that
    computes in f64 (``cx.result`` of ``arith.truncf`` narrows back)."""
    dt = cx.same_dtype_args()
    if not is_float(dt):
        raise cx.fail(f"{name} needs a float operand")
    x = cx.args[0]
    return dt, x, x if dt == "f64" else arith.extf(shaped(ir.F64Type.get(), x), x)


def _core(name: str) -> Callable[[OpCtx], Any]:
    core = F64_CORES[name]

    def lower(cx: OpCtx):
        dt, x, d = f64_operand(cx, name)
        f64 = shaped(ir.F64Type.get(), x)
        if name == "digamma":
            r = core(V(d), digamma_reflection(V(d))).v
        elif name == "trigamma":
            refl = trigamma_reflection(V(x)).v
            r = core(V(d), V(refl if dt == "f64" else arith.extf(f64, refl))).v
        elif name == "erfcx" and dt != "f64":
            r = core(V(d), V(arith.extf(f64, arith.mulf(x, x)))).v
        else:
            r = core(V(d)).v
        return cx.result(r if dt == "f64" else arith.truncf(x.type, r), dt)

    lower.__name__ = f"lower_{name}"
    return lower


def _libm_fn(name: str) -> Callable[[OpCtx], Any]:
    def lower(cx: OpCtx):
        return _libm(cx, name)

    lower.__name__ = f"lower_{name}"
    return lower


SPECIAL_FN_LOWERINGS: dict[str, Callable[[OpCtx], Any]] = {
    "erfc": _libm_fn("erfc"), "lgamma": _libm_fn("lgamma"),
    **{name: _core(name) for name in F64_CORES},
}
