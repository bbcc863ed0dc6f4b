"""MLIR lowerings of division with rounding, the remainders, and the inverse
trigonometric and hyperbolic functions (merged into ``lowering.LOWERINGS``).

Division (``floordiv``, ``truncdiv``, ``remainder``, ``fmod``) follows ATen exactly:
float floor division is ``c10::div_floor_floating`` (fmod-based, with its -0.0 and
half-way fix-ups), the remainder takes the divisor's sign and ``fmod`` the
dividend's. Integer division never traps: a zero divisor (which eager reports by
raising; the importer adds that check as an assert) and ``MIN / -1`` (which wraps
in eager) divide by 1 instead, which also gives the wrapped ``MIN`` quotient.

The inverse functions call libm in scalar and f64 code; f32 vector code (f16 and
bf16 compute in f32) runs the algorithms below with an f64 core and one rounding
at the end (polynomials: our own near-minimax fits, tools/fit_poly.py; errors in
docs/vector_math.md, checked by tests/codegen/test_special_math.py). The special
functions (erfc, lgamma, digamma, Bessel, ...) are in ``special_fns.py``.
"""

from __future__ import annotations

import math as _pymath
from typing import Any, Callable

from mlir import ir
from mlir.dialects import arith
from mlir.dialects import math as mmath

from ..polys import ASIN_P, ASINH_P, ATAN_A, ATAN_P, ATANH_P
from .lowering import (
    CmpF,
    CmpI,
    INT_WIDTH,
    UNSIGNED_DTYPES,
    OpCtx,
    _libm,
    const,
    is_float,
    shaped,
)
from .bits import BITS_LOWERINGS
from .vmath import _bits, _f, _fma, _horner, _i, _isnan, _log2_f64, _sel

# --------------------------------------------------------------------------
# division with rounding, remainders


def _int_parts(cx: OpCtx):
    """(dtype, a, b, safe b): b with 0 and (for MIN / -1) -1 replaced by 1."""
    dt = cx.same_dtype_args()
    if dt == "b8":
        raise cx.fail(f"{cx.instr.op} is not defined on bool (torch raises)")
    a, b = cx.args
    bad = arith.cmpi(CmpI.eq, b, const(dt, 0, b))
    if dt not in UNSIGNED_DTYPES:
        w = INT_WIDTH[dt]
        ovf = arith.andi(arith.cmpi(CmpI.eq, a, const(dt, -(1 << (w - 1)), a)),
                         arith.cmpi(CmpI.eq, b, const(dt, -1, b)))
        bad = arith.ori(bad, ovf)
    return dt, a, b, _sel(bad, const(dt, 1, b), b)


def _rem_needs_fix(r, b, dt: str, zero):
    """r != 0 and sign(r) != sign(b): the C remainder must move toward b's sign."""
    if is_float(dt):
        nz = arith.cmpf(CmpF.UNE, r, zero)
        differ = arith.xori(arith.cmpf(CmpF.OLT, r, zero), arith.cmpf(CmpF.OLT, b, zero))
    else:
        nz = arith.cmpi(CmpI.ne, r, zero)
        differ = arith.cmpi(CmpI.slt, arith.xori(r, b), zero)
    return arith.andi(nz, differ)


def lower_fmod(cx: OpCtx):
    if is_float(cx.same_dtype_args()):
        dt = cx.arg_dtypes[0]
        return cx.result(arith.remf(*cx.args), dt)
    dt, a, _, sb = _int_parts(cx)
    return cx.result((arith.remui if dt in UNSIGNED_DTYPES else arith.remsi)(a, sb), dt)


def lower_remainder(cx: OpCtx):
    # ATen: mod = fmod(a, b); if (mod != 0 && (b < 0) != (mod < 0)) mod += b
    if is_float(cx.same_dtype_args()):
        dt = cx.arg_dtypes[0]
        a, b = cx.args
        m = arith.remf(a, b)
        fix = _rem_needs_fix(m, b, dt, const(dt, 0.0, m))
        return cx.result(_sel(fix, arith.addf(m, b), m), dt)
    dt, a, b, sb = _int_parts(cx)
    if dt in UNSIGNED_DTYPES:
        return cx.result(arith.remui(a, sb), dt)
    r = arith.remsi(a, sb)
    return cx.result(_sel(_rem_needs_fix(r, b, dt, const(dt, 0, r)), arith.addi(r, b), r), dt)


def lower_truncdiv(cx: OpCtx):
    if is_float(cx.same_dtype_args()):
        dt = cx.arg_dtypes[0]
        return cx.result(mmath.trunc(arith.divf(*cx.args)), dt)
    dt, a, _, sb = _int_parts(cx)
    return cx.result((arith.divui if dt in UNSIGNED_DTYPES else arith.divsi)(a, sb), dt)


def lower_floordiv(cx: OpCtx):
    if is_float(cx.same_dtype_args()):
        return cx.result(_float_floordiv(*cx.args, cx.arg_dtypes[0]), cx.arg_dtypes[0])
    dt, a, b, sb = _int_parts(cx)
    if dt in UNSIGNED_DTYPES:
        return cx.result(arith.divui(a, sb), dt)
    q, r = arith.divsi(a, sb), arith.remsi(a, sb)
    fix = _rem_needs_fix(r, b, dt, const(dt, 0, r))
    return cx.result(_sel(fix, arith.subi(q, const(dt, 1, q)), q), dt)


def _float_floordiv(a, b, dt: str):
    """c10::div_floor_floating: a / b where b == 0, else the fmod-based quotient
    rounded to an integer (nearest, with -0.0 kept from a / b)."""
    zero, one = const(dt, 0.0, a), const(dt, 1.0, a)
    quot = arith.divf(a, b)
    m = arith.remf(a, b)
    div = arith.divf(arith.subf(a, m), b)
    div = _sel(_rem_needs_fix(m, b, dt, zero), arith.subf(div, one), div)
    fl = mmath.floor(div)
    up = arith.cmpf(CmpF.OGT, arith.subf(div, fl), const(dt, 0.5, a))
    fl = _sel(up, arith.addf(fl, one), fl)
    r = _sel(arith.cmpf(CmpF.OEQ, div, zero), mmath.copysign(zero, quot), fl)
    return _sel(arith.cmpf(CmpF.OEQ, b, zero), quot, r)


# --------------------------------------------------------------------------
# inverse trigonometric and hyperbolic functions of f32 vectors. The core runs in
# f64 (as pow's does): the range reductions' cancellations (pi/2 - 2 asin s,
# pi/4 + atan u, log(a + sqrt(a**2 + 1))) then cost nothing, and one rounding to
# f32 at the end gives ~0.5 ulp. Polynomials: f(x) = x + x z P(z), z = x**2, our
# own fits (tools/fit_poly.py), coefficients lowest first.

_ATAN_P, _ASIN_P, _ASINH_P, _ATANH_P = ATAN_P, ASIN_P, ASINH_P, ATANH_P
_PI = _pymath.pi
_LN2 = _pymath.log(2.0)
_ATAN_A = ATAN_A


def _odd(x, coeffs):
    """x + x z P(z), z = x**2."""
    z = arith.mulf(x, x)
    return _fma(arith.mulf(x, z), _horner(z, coeffs), x)


def _f64(x):
    return arith.extf(shaped(ir.F64Type.get(), x), x)


def _f32(d, like):
    return arith.truncf(like.type, d)


def _ln_f64(w):
    """log(w) for finite f64 w > 0 (garbage otherwise: callers select)."""
    return arith.mulf(_log2_f64(w), _f(w, _LN2))


def _atan_pos(a):
    """atan(a) for f64 a >= 0 (inf -> pi/2, NaN propagates)."""
    one = _f(a, 1.0)
    inv = arith.cmpf(CmpF.OGT, a, _f(a, 1.0 / _ATAN_A))
    mid = arith.cmpf(CmpF.OGT, a, _f(a, _ATAN_A))
    u = _sel(inv, arith.divf(one, a),
             _sel(mid, arith.divf(arith.subf(a, one), arith.addf(a, one)), a))
    r = _odd(u, _ATAN_P)
    r = _sel(inv, arith.subf(_f(a, _PI / 2), r), _sel(mid, arith.addf(r, _f(a, _PI / 4)), r))
    return r


def v_atan(x):
    return mmath.copysign(_f32(_atan_pos(_f64(mmath.absf(x))), x), x)  # -0.0, NaN kept


def v_atan2(y, x):
    ay, ax = _f64(mmath.absf(y)), _f64(mmath.absf(x))
    swap = arith.cmpf(CmpF.OGT, ay, ax)
    # t = min/max in [0, 1]; both zero: 0 (then pi for negative x), both inf: 1
    eq = arith.cmpf(CmpF.OEQ, ax, ay)
    t = _sel(eq, _sel(arith.cmpf(CmpF.OEQ, ax, _f(ax, 0.0)), _f(ax, 0.0), _f(ax, 1.0)),
             arith.divf(_sel(swap, ax, ay), _sel(swap, ay, ax)))
    r = _atan_pos(t)
    neg = arith.cmpi(CmpI.slt, _bits(x), _i(x, 0))  # the sign bit: -0.0 counts
    # swap: pi/2 - r (x >= 0) or pi/2 + r (x < 0); else r, or pi - r for x < 0
    rs = _sel(arith.xori(swap, neg), arith.negf(r), r)
    base = _sel(swap, _f(r, _PI / 2), _sel(neg, _f(r, _PI), _f(r, 0.0)))
    return mmath.copysign(_f32(arith.addf(base, rs), x), y)


def _asin_parts(x):
    """(p, big) in f64: asin|x| = p for |x| <= 1/2, else pi/2 - 2p."""
    a = _f64(mmath.absf(x))
    big = arith.cmpf(CmpF.OGT, a, _f(a, 0.5))
    s = _sel(big, mmath.sqrt(arith.mulf(arith.subf(_f(a, 1.0), a), _f(a, 0.5))), a)
    return _odd(s, _ASIN_P), big


def _nan_beyond_one(x, r):
    return _sel(arith.cmpf(CmpF.OGT, mmath.absf(x), _f(x, 1.0)), _f(x, _pymath.nan), r)


def v_asin(x):
    p, big = _asin_parts(x)
    r = _sel(big, arith.subf(_f(p, _PI / 2), arith.addf(p, p)), p)
    return _nan_beyond_one(x, mmath.copysign(_f32(r, x), x))


def v_acos(x):
    p, big = _asin_parts(x)
    two_p = arith.addf(p, p)
    neg = arith.cmpf(CmpF.OLT, x, _f(x, 0.0))
    # |x| > 1/2: 2p (x > 0) or pi - 2p (x < 0); else pi/2 - asin(x)
    big_r = _sel(neg, arith.subf(_f(p, _PI), two_p), two_p)
    small_r = arith.subf(_f(p, _PI / 2), mmath.copysign(p, _f64(x)))
    return _nan_beyond_one(x, _f32(_sel(big, big_r, small_r), x))


def _inf_nan(x, r):
    """r, but x itself where x is +-inf or NaN (odd functions: copysign after)."""
    return _sel(arith.cmpf(CmpF.UEQ, mmath.absf(x), _f(x, _pymath.inf)), x, r)


def v_asinh(x):
    a = _f64(mmath.absf(x))
    lg = _ln_f64(arith.addf(a, mmath.sqrt(_fma(a, a, _f(a, 1.0)))))
    r = _f32(_sel(arith.cmpf(CmpF.OLT, a, _f(a, 0.5)), _odd(a, _ASINH_P), lg), x)
    return mmath.copysign(_inf_nan(mmath.absf(x), r), x)


def v_acosh(x):
    d = _f64(x)
    one = _f(d, 1.0)
    w = arith.addf(d, mmath.sqrt(arith.mulf(arith.subf(d, one), arith.addf(d, one))))
    r = _inf_nan(x, _f32(_ln_f64(_sel(arith.cmpf(CmpF.OGE, d, one), w, one)), x))
    return _sel(arith.cmpf(CmpF.OLT, x, _f(x, 1.0)), _f(x, _pymath.nan), r)


def v_atanh(x):
    a = _f64(mmath.absf(x))
    one = _f(a, 1.0)
    q = arith.divf(arith.addf(one, a), arith.subf(one, a))  # >= 3 for a >= 1/2
    safe = _sel(arith.cmpf(CmpF.OLT, a, one), q, _f(a, 3.0))
    lg = arith.mulf(_ln_f64(safe), _f(a, 0.5))
    r = _f32(_sel(arith.cmpf(CmpF.OLT, a, _f(a, 0.5)), _odd(a, _ATANH_P), lg), x)
    r = _sel(arith.cmpf(CmpF.OEQ, mmath.absf(x), _f(x, 1.0)), _f(x, _pymath.inf), r)
    r = _sel(_isnan(x), x, r)
    return _nan_beyond_one(x, mmath.copysign(r, x))


#: op name -> f32 polynomial (value -> value), for tests and the lowerings below
VSPECIAL = {"asin": v_asin, "acos": v_acos, "atan": v_atan, "asinh": v_asinh,
            "acosh": v_acosh, "atanh": v_atanh}


def _unary(name: str) -> Callable[[OpCtx], Any]:
    poly = VSPECIAL[name]

    def lower(cx: OpCtx):
        dt = cx.same_dtype_args()
        if not is_float(dt):
            raise cx.fail(f"{name} needs a float operand")
        if dt != "f64":  # scalars too: the same bits as in vector lanes (lowering._vmath)
            return cx.result(poly(cx.args[0]), dt)
        return _libm(cx, name)

    lower.__name__ = f"lower_{name}"
    return lower


def lower_atan2(cx: OpCtx):
    dt = cx.same_dtype_args()
    if not is_float(dt):
        raise cx.fail("atan2 needs float operands")
    y, x = cx.args
    if dt != "f64":  # scalars too: the same bits as in vector lanes
        return cx.result(v_atan2(y, x), dt)
    # f64: math.atan2 becomes a libm atan2 call (per lane for vectors)
    return cx.result(mmath.atan2(y, x), dt)


from .special_bessel import BESSEL_LOWERINGS  # noqa: E402
from .special_fns import SPECIAL_FN_LOWERINGS  # noqa: E402
from .special_poly import POLY_LOWERINGS  # noqa: E402

SPECIAL_LOWERINGS: dict[str, Callable[[OpCtx], Any]] = {
    "floordiv": lower_floordiv, "truncdiv": lower_truncdiv,
    "remainder": lower_remainder, "fmod": lower_fmod,
    "atan2": lower_atan2,
    **{name: _unary(name) for name in VSPECIAL},
    **SPECIAL_FN_LOWERINGS, **BESSEL_LOWERINGS, **BITS_LOWERINGS, **POLY_LOWERINGS,
}
