"""Polynomial f32 math for vector code (no libm calls inside vector loops).

(``pow`` computes its core in f64; see :func:`v_pow`.)

LLVM turns ``llvm.exp.v16f32`` and friends into one scalar libm call per lane,
and these MLIR wheels register no ``math-polynomial-approximation`` pass, so
vector loops get their transcendental functions here: range reduction plus a
minimax-style polynomial (Cephes' single-precision coefficients where noted,
our own Chebyshev fits for erf), built with arith/math ops on any f32-typed
value, scalar or vector. Every function handles NaN, +-inf, -0.0 and
denormals like torch; measured errors (ulp against float64) are in
docs/vector_math.md and checked by tests/codegen/test_vmath_accuracy.py.

``sin``/``cos`` reduce arguments with a three-part pi/4 (exact for
|x| <= 8192); lanes beyond that (and inf/NaN) take a branch that calls libm
per lane, which is rare and keeps huge arguments exact.
"""

from __future__ import annotations

import math as _pymath

from mlir import ir
from mlir.dialects import arith, func, scf, vector
from mlir.dialects import math as mmath

from .lowering import CmpF, CmpI, is_vector, shaped

__all__ = ["VMATH"]


def _f(x, v: float):
    t = x.type
    et = ir.VectorType(t).element_type if is_vector(t) else t
    attr = ir.FloatAttr.get(et, v)
    if is_vector(t):
        return arith.constant(t, ir.DenseElementsAttr.get_splat(t, attr))
    return arith.constant(t, attr)


def _i(x, v: int):
    """An i32 constant shaped like ``x``."""
    i32 = ir.IntegerType.get_signless(32)
    t = shaped(i32, x)
    attr = ir.IntegerAttr.get(i32, v)
    if is_vector(t):
        return arith.constant(t, ir.DenseElementsAttr.get_splat(t, attr))
    return arith.constant(t, attr)


def _bits(x):
    return arith.bitcast(shaped(ir.IntegerType.get_signless(32), x), x)


def _float(i, like):
    return arith.bitcast(like.type, i)


def _fma(a, b, c):
    return mmath.fma(a, b, c)


def _horner(x, coeffs):
    """c0 + c1 x + c2 x^2 + ... (coefficients lowest first), with FMAs."""
    r = _f(x, coeffs[-1])
    for c in reversed(coeffs[:-1]):
        r = _fma(r, x, _f(x, c))
    return r


def _sel(c, a, b):
    return arith.select(c, a, b)


def _isnan(x):
    return arith.cmpf(CmpF.UNO, x, x)


def _pow2i(n, like):
    """2**n as f32 for an i32 ``n`` in [-126, 127]."""
    return _float(arith.shli(arith.addi(n, _i(n, 127)), _i(n, 23)), like)


def _scale(y, n):
    """y * 2**n for i32 n in [-252, 254], in two exact steps (one rounding)."""
    n1 = arith.shrsi(n, _i(n, 1))
    return arith.mulf(arith.mulf(y, _pow2i(n1, y)), _pow2i(arith.subi(n, n1), y))


# Cephes expf: e**r - 1 - r = r**2 * P(r) on |r| <= ln2/2
_EXP_P = [5.0000001201e-1, 1.6666665459e-1, 4.1665795894e-2, 8.3334519073e-3,
          1.3981999507e-3, 1.9875691500e-4]
_LN2_HI, _LN2_LO = 0.693359375, -2.12194440e-4
_LOG2E = 1.4426950408889634


def _clamp(x, lo: float, hi: float):
    """x clamped to [lo, hi]; NaN becomes lo (callers restore NaN at the end)."""
    x = _sel(arith.cmpf(CmpF.ULT, x, _f(x, lo)), _f(x, lo), x)
    return _sel(arith.cmpf(CmpF.OGT, x, _f(x, hi)), _f(x, hi), x)


def _exp_reduce(x):
    """x = n ln2 + r, |r| <= ln2/2: returns (r, n as i32, n as float)."""
    n = mmath.roundeven(arith.mulf(x, _f(x, _LOG2E)))
    r = _fma(n, _f(x, -_LN2_HI), x)
    r = _fma(n, _f(x, -_LN2_LO), r)
    return r, arith.fptosi(shaped(ir.IntegerType.get_signless(32), x), n), n


def _expm1_r(r):
    """e**r - 1 for |r| <= ln2/2."""
    return _fma(arith.mulf(r, r), _horner(r, _EXP_P), r)


def v_exp(x):
    xc = _clamp(x, -104.0, 89.0)
    r, n, _ = _exp_reduce(xc)
    y = arith.addf(_expm1_r(r), _f(x, 1.0))
    return _sel(_isnan(x), x, _scale(y, n))


def v_exp2(x):
    xc = _clamp(x, -152.0, 129.0)
    n = mmath.roundeven(xc)
    r = arith.mulf(arith.subf(xc, n), _f(x, _pymath.log(2.0)))
    y = arith.addf(_expm1_r(r), _f(x, 1.0))
    ni = arith.fptosi(shaped(ir.IntegerType.get_signless(32), x), n)
    return _sel(_isnan(x), x, _scale(y, ni))


def v_expm1(x):
    # expm1(x) = 2**n (expm1(r) + 1) - 1 = 2**n expm1(r) + (2**n - 1): exact
    # for small x (n = 0); large x goes through exp (which overflows right).
    xc = _clamp(x, -88.0, 88.0)
    r, n, _ = _exp_reduce(xc)
    s = _pow2i(n, x)
    y = _fma(s, _expm1_r(r), arith.subf(s, _f(x, 1.0)))
    big = arith.cmpf(CmpF.OGT, x, _f(x, 88.0))
    y = _sel(big, v_exp(x), y)
    # NaN stays NaN; -0.0 stays -0.0 (s*expm1(r) + 0 would give +0.0)
    return _sel(arith.cmpf(CmpF.UEQ, x, _f(x, 0.0)), x, y)


# Cephes logf: log(1+m) = m - m**2/2 + m**3 P(m), sqrt(1/2) <= 1+m < sqrt(2)
_LOG_P = [3.3333331174e-1, -2.4999993993e-1, 2.0000714765e-1, -1.6668057665e-1,
          1.4249322787e-1, -1.2420140846e-1, 1.1676998740e-1, -1.1514610310e-1,
          7.0376836292e-2]


def _log_parts(x):
    """x = 2**e (1 + m) with m in [sqrt(1/2) - 1, sqrt(2) - 1); returns (m, e, y)
    where log(1 + m) = m + y. Denormals are scaled up first. Garbage for x <= 0,
    inf, NaN (callers select those)."""
    tiny = arith.cmpf(CmpF.OLT, x, _f(x, 1.1754943508222875e-38))
    xs = _sel(tiny, arith.mulf(x, _f(x, 8388608.0)), x)  # * 2**23
    bits = _bits(xs)
    e = arith.subi(arith.shrsi(bits, _i(x, 23)), _i(x, 126))
    e = _sel(tiny, arith.subi(e, _i(x, 23)), e)
    # mantissa in [0.5, 1)
    mf = _float(arith.ori(arith.andi(bits, _i(x, 0x007FFFFF)), _i(x, 0x3F000000)), x)
    small = arith.cmpf(CmpF.OLT, mf, _f(x, 0.707106781186547524))
    e = _sel(small, arith.subi(e, _i(x, 1)), e)
    m = _sel(small, arith.subf(arith.addf(mf, mf), _f(x, 1.0)), arith.subf(mf, _f(x, 1.0)))
    z = arith.mulf(m, m)
    y = arith.mulf(arith.mulf(z, m), _horner(m, _LOG_P))
    y = _fma(z, _f(x, -0.5), y)
    ef = arith.sitofp(x.type, e)
    return m, ef, y


def _log_special(x, r):
    """log-family special cases: x < 0 or NaN -> NaN, 0 -> -inf, +inf -> +inf."""
    r = _sel(arith.cmpf(CmpF.OEQ, x, _f(x, _pymath.inf)), x, r)
    r = _sel(arith.cmpf(CmpF.OEQ, x, _f(x, 0.0)), _f(x, -_pymath.inf), r)
    return _sel(arith.cmpf(CmpF.OGE, x, _f(x, 0.0)), r, _f(x, _pymath.nan))


def v_log(x):
    m, e, y = _log_parts(x)
    r = _fma(e, _f(x, _LN2_LO), y)
    r = arith.addf(m, r)
    r = _fma(e, _f(x, _LN2_HI), r)
    return _log_special(x, r)


def v_log2(x):
    m, e, y = _log_parts(x)
    t = arith.addf(m, y)  # log(1 + m)
    return _log_special(x, _fma(t, _f(x, _LOG2E), e))


def v_log1p(x):
    # log1p(x) = log(u) * x / (u - 1) with u = 1 + x (Goldberg): the quotient
    # corrects the rounding of u; u == 1 means |x| < ulp, where log1p(x) = x.
    one = _f(x, 1.0)
    u = arith.addf(x, one)
    lu = v_log(u)
    r = arith.mulf(lu, arith.divf(x, arith.subf(u, one)))
    r = _sel(arith.cmpf(CmpF.OEQ, u, one), x, r)
    return _sel(arith.cmpf(CmpF.OGT, x, _f(x, 1e30)), lu, r)


# Cephes tanhf for |x| < 0.625: x + x**3 P(x**2)
_TANH_P = [-3.33332819422e-1, 1.33314422036e-1, -5.37397155531e-2, 2.06390887954e-2,
           -5.70498872745e-3]


def v_tanh(x):
    z = arith.mulf(x, x)
    small = _fma(arith.mulf(z, x), _horner(z, _TANH_P), x)
    ax = mmath.absf(x)
    # 1 - 2 / (e**(2|x|) + 1); exp overflows to inf for large |x|, giving 1
    big = arith.subf(_f(x, 1.0), arith.divf(
        _f(x, 2.0), arith.addf(v_exp(arith.addf(ax, ax)), _f(x, 1.0))))
    big = mmath.copysign(big, x)
    r = _sel(arith.cmpf(CmpF.OLT, ax, _f(x, 0.625)), small, big)
    return _sel(arith.cmpf(CmpF.UEQ, x, _f(x, 0.0)), x, r)  # keeps -0.0 and NaN


def v_sigmoid(x):
    # t = e**-|x| never overflows; sigmoid(x) = 1/(1+t) for x >= 0, t/(1+t) else
    # (so very negative x gives the tiny, even denormal, value instead of 0)
    one = _f(x, 1.0)
    t = v_exp(arith.negf(mmath.absf(x)))
    q = arith.divf(one, arith.addf(one, t))
    return _sel(arith.cmpf(CmpF.OLT, x, _f(x, 0.0)), arith.mulf(t, q), q)


# erf(x) / x = P(x**2) on |x| <= 1, and erf(x) = Q(x - 2.5) on [1, 3.92]:
# Chebyshev least-squares fits to mpmath's erf (degree 6 in x**2, max rel.
# error 1.4e-9; degree 14, max abs. error 7e-9), coefficients rounded to f32.
_ERF_A = [1.1283791065216064, -0.3761262595653534, 0.11283597350120544,
          -0.02685433067381382, 0.0051893130876123905, -0.0008018860244192183,
          7.882501813583076e-05]
_ERF_B = [0.9995930194854736, 0.002178218448534608, -0.005445561837404966,
          0.008351263590157032, -0.008623678237199783, 0.0061112381517887115,
          -0.0027941823936998844, 0.0005565639003179967, 0.0002537334512453526,
          -0.00026735643041320145, 8.487328159390017e-05, 1.642479946895037e-05,
          -1.7123440557043068e-05, 7.076077395140601e-07, 1.0944326049866504e-06]


def v_erf(x):
    ax = mmath.absf(x)
    inner = arith.mulf(x, _horner(arith.mulf(x, x), _ERF_A))
    t = arith.subf(_clamp(ax, 1.0, 3.92), _f(x, 2.5))
    outer = _horner(t, _ERF_B)
    outer = _sel(arith.cmpf(CmpF.OGE, ax, _f(x, 3.92)), _f(x, 1.0), outer)
    outer = mmath.copysign(outer, x)
    r = _sel(arith.cmpf(CmpF.OLE, ax, _f(x, 1.0)), inner, outer)
    return _sel(_isnan(x), x, r)


# Cephes sinf/cosf: pi/4 in three parts, polynomials on |r| <= pi/4
_FOPI = 1.27323954473516
_DP = (0.78515625, 2.4187564849853515625e-4, 3.77489497744594108e-8)
_SIN_P = [-1.6666654611e-1, 8.3321608736e-3, -1.9515295891e-4]
_COS_P = [4.166664568298827e-2, -1.388731625493765e-3, 2.443315711809948e-5]
_TRIG_LIMIT = 8192.0


def _trig(x, env, cos: bool):
    i32 = shaped(ir.IntegerType.get_signless(32), x)
    ax = mmath.absf(x)
    fast = arith.cmpf(CmpF.OLE, ax, _f(x, _TRIG_LIMIT))  # false for inf/NaN
    ax = _sel(fast, ax, _f(x, 0.0))
    j = arith.fptosi(i32, arith.mulf(ax, _f(x, _FOPI)))
    j = arith.andi(arith.addi(j, _i(x, 1)), _i(x, ~1))  # round up to even
    y = arith.sitofp(x.type, j)
    if cos:  # cos x = sin(x + pi/2): two octants on
        j = arith.addi(j, _i(x, 2))
    r = _fma(y, _f(x, -_DP[0]), ax)
    r = _fma(y, _f(x, -_DP[1]), r)
    r = _fma(y, _f(x, -_DP[2]), r)
    z = arith.mulf(r, r)
    sp = _fma(arith.mulf(z, r), _horner(z, _SIN_P), r)
    cp = _fma(arith.mulf(z, z), _horner(z, _COS_P), _fma(z, _f(x, -0.5), _f(x, 1.0)))
    use_cos = arith.cmpi(CmpI.ne, arith.andi(j, _i(x, 2)), _i(x, 0))
    res = _sel(use_cos, cp, sp)
    # quadrants 4..7 flip the sign; sin is odd (its input sign), cos even
    flip = arith.shli(arith.andi(j, _i(x, 4)), _i(x, 29))
    if not cos:
        flip = arith.xori(flip, arith.andi(_bits(x), _i(x, -0x80000000)))
    res = _float(arith.xori(_bits(res), flip), x)
    return _lanes_fallback(x, fast, res, "cosf" if cos else "sinf", env)


def _lanes_fallback(x, ok, res, libm: str, env):
    """``res`` where ``ok``, else libm ``libm`` of that lane, computed in a branch
    taken only when some lane is not ``ok``."""
    if env is None:
        return res
    f32 = ir.F32Type.get()
    env.libm_decl(libm, f32)
    if not is_vector(x.type):
        branch = scf.IfOp(ok, [f32], has_else=True)
        with ir.InsertionPoint(branch.then_block):
            scf.yield_([res])
        with ir.InsertionPoint(branch.else_block):
            scf.yield_([func.call([f32], libm, [x])])
        return branch.results[0]
    n = ir.VectorType(x.type).shape[0]
    i1 = ir.IntegerType.get_signless(1)
    true = arith.constant(shaped(i1, x), ir.DenseElementsAttr.get_splat(
        shaped(i1, x), ir.IntegerAttr.get(i1, 1)))
    bad = arith.xori(ok, true)
    anybad = vector.reduction(i1, vector.CombiningKind.OR, bad)
    branch = scf.IfOp(anybad, [x.type], has_else=True)
    with ir.InsertionPoint(branch.then_block):
        slow = res
        for lane in range(n):
            e = vector.extract(x, [], [lane])
            slow = vector.insert(func.call([f32], libm, [e]), slow, [], [lane])
        scf.yield_([_sel(ok, res, slow)])
    with ir.InsertionPoint(branch.else_block):
        scf.yield_([res])
    return branch.results[0]


def v_sin(x, env=None):
    return _trig(x, env, cos=False)


def v_cos(x, env=None):
    return _trig(x, env, cos=True)


#: op name -> f32 polynomial lowering (value -> value); sin/cos also take ``env``
VMATH = {
    "exp": v_exp, "exp2": v_exp2, "expm1": v_expm1, "log": v_log, "log2": v_log2,
    "log1p": v_log1p, "tanh": v_tanh, "sigmoid": v_sigmoid, "erf": v_erf,
    "sin": v_sin, "cos": v_cos,
}
NEEDS_ENV = frozenset({"sin", "cos"})


# pow: the core runs in f64, where log2 and exp2 by short series are accurate
# to ~1e-13, so y*log2|x| keeps the ~2**-24 absolute accuracy a float32 result
# needs even when |y log2 x| is ~100 (f32 log2 would lose ~7 bits there).
_LN2 = _pymath.log(2.0)


def _log2_f64(a):
    """log2(a) for an f64 value a > 0 (finite, normal); garbage otherwise."""
    i64 = shaped(ir.IntegerType.get_signless(64), a)

    def c(v):
        attr = ir.IntegerAttr.get(ir.IntegerType.get_signless(64), v)
        return arith.constant(i64, ir.DenseElementsAttr.get_splat(i64, attr)) if is_vector(a.type) \
            else arith.constant(i64, attr)

    bits = arith.bitcast(i64, a)
    e = arith.subi(arith.shrsi(bits, c(52)), c(1022))
    mf = arith.bitcast(a.type, arith.ori(arith.andi(bits, c((1 << 52) - 1)), c(0x3FE << 52)))
    small = arith.cmpf(CmpF.OLT, mf, _f(a, 0.7071067811865476))
    e = _sel(small, arith.subi(e, c(1)), e)
    mf = _sel(small, arith.addf(mf, mf), mf)            # mf in [sqrt(1/2), sqrt(2))
    m = arith.subf(mf, _f(a, 1.0))
    s = arith.divf(m, arith.addf(m, _f(a, 2.0)))         # log(1+m) = 2 atanh(s), |s| < 0.172
    z = arith.mulf(s, s)
    # 2 atanh(s) = 2 (s + s^3/3 + s^5/5 + ...): 9 terms leave < 1e-15 relative
    series = _horner(z, [2.0 / (2 * k + 1) for k in range(10)])
    ln = arith.mulf(s, series)
    return arith.addf(arith.sitofp(a.type, e), arith.mulf(ln, _f(a, 1.0 / _LN2)))


def _exp2_f64(t):
    """2**t for f64 t, clamped to [-160, 130] (beyond: 0 / inf after the f32 cast)."""
    i64 = shaped(ir.IntegerType.get_signless(64), t)
    t = _clamp(t, -160.0, 130.0)
    n = mmath.roundeven(t)
    g = arith.mulf(arith.subf(t, n), _f(t, _LN2))      # |g| <= ln2/2
    # e**g by Taylor to g**13 / 13!: remainder < 1e-16
    coeffs = [1.0 / _pymath.factorial(k) for k in range(14)]
    p = _horner(g, coeffs)
    ni = arith.fptosi(i64, n)
    one = ir.IntegerAttr.get(ir.IntegerType.get_signless(64), 1023)
    bias = arith.constant(i64, ir.DenseElementsAttr.get_splat(i64, one)) if is_vector(t.type) \
        else arith.constant(i64, one)
    fifty2 = ir.IntegerAttr.get(ir.IntegerType.get_signless(64), 52)
    sh = arith.constant(i64, ir.DenseElementsAttr.get_splat(i64, fifty2)) if is_vector(t.type) \
        else arith.constant(i64, fifty2)
    scale = arith.bitcast(t.type, arith.shli(arith.addi(ni, bias), sh))
    return arith.mulf(p, scale)


def v_pow(x, y):
    """x**y for f32 values with C99/torch special cases."""
    f64 = shaped(ir.F64Type.get(), x)
    ax = mmath.absf(x)
    adx = arith.extf(f64, ax)
    # log2|x| for finite nonzero |x|; 0 and inf get +-inf directly
    safe = _sel(arith.cmpf(CmpF.ONE, adx, _f(adx, 0.0)), adx, _f(adx, 1.0))
    safe = _sel(arith.cmpf(CmpF.OEQ, adx, _f(adx, _pymath.inf)), _f(adx, 1.0), safe)
    safe = _sel(_isnan(adx), _f(adx, 1.0), safe)
    lg = _log2_f64(safe)
    lg = _sel(arith.cmpf(CmpF.OEQ, adx, _f(adx, 0.0)), _f(adx, -_pymath.inf), lg)
    lg = _sel(arith.cmpf(CmpF.OEQ, adx, _f(adx, _pymath.inf)), _f(adx, _pymath.inf), lg)
    lg = _sel(_isnan(adx), adx, lg)
    t = arith.mulf(arith.extf(f64, y), lg)
    r = _sel(_isnan(t), t, _exp2_f64(_sel(_isnan(t), _f(t, 0.0), t)))
    r = arith.truncf(x.type, r)
    # sign and domain: x < 0 (or -0, -inf) with an odd integer y gives -r;
    # x < 0 finite with a non-integer y gives NaN
    ty = mmath.trunc(y)
    is_int = arith.cmpf(CmpF.OEQ, ty, y)
    half = arith.mulf(y, _f(y, 0.5))
    is_odd = arith.andi(is_int, arith.cmpf(CmpF.ONE, mmath.trunc(half), half))
    neg = arith.cmpi(CmpI.slt, _bits(x), _i(x, 0))
    r = _sel(arith.andi(neg, is_odd), arith.negf(r), r)
    bad = arith.andi(arith.cmpf(CmpF.OLT, x, _f(x, 0.0)),
                     arith.andi(arith.cmpf(CmpF.ONE, x, _f(x, -_pymath.inf)),
                                arith.xori(is_int, _true(x))))
    r = _sel(bad, _f(x, _pymath.nan), r)
    # |x| == 1 with y = +-inf, x == 1 with anything, y == 0 with anything: 1
    one = _f(x, 1.0)
    r = _sel(arith.andi(arith.cmpf(CmpF.OEQ, ax, one),
                        arith.cmpf(CmpF.OEQ, mmath.absf(y), _f(y, _pymath.inf))), one, r)
    r = _sel(arith.cmpf(CmpF.OEQ, x, one), one, r)
    return _sel(arith.cmpf(CmpF.OEQ, y, _f(y, 0.0)), one, r)


def _true(x):
    i1 = ir.IntegerType.get_signless(1)
    t = shaped(i1, x)
    attr = ir.IntegerAttr.get(i1, 1)
    return arith.constant(t, ir.DenseElementsAttr.get_splat(t, attr)) if is_vector(t) \
        else arith.constant(t, attr)
