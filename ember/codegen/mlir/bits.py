"""MLIR rules for the float bit-manipulation instructions: ``nextafter`` (f32, f64) and
``frexp_mantissa``/``frexp_exponent`` (every float dtype; f16/bf16 through f32, where
their values, mantissas and exponents are exact). The value is bitcast to the integer
of its width and the IEEE fields are edited there, as C's nextafter/frexp do."""

from __future__ import annotations

from typing import Any, Callable

from mlir import ir
from mlir.dialects import arith
from mlir.dialects import math as mmath

from .lowering import CmpF, CmpI, OpCtx, is_float, is_vector, shaped
from .vmath import _f as _fconst
from .vmath import _sel


def _int_type(x, dt: str) -> ir.Type:
    """The integer type of the compute width of ``dt``, shaped like ``x``."""
    width = 64 if dt == "f64" else 32  # f16/bf16 compute in f32
    return shaped(ir.IntegerType.get_signless(width), x)


def _iconst(t: ir.Type, v: int):
    if is_vector(t):
        et = ir.VectorType(t).element_type
        return arith.constant(t, ir.DenseElementsAttr.get_splat(t, ir.IntegerAttr.get(et, v)))
    return arith.constant(t, ir.IntegerAttr.get(t, v))


def lower_nextafter(cx: OpCtx):
    """The float after ``x`` toward ``y``: y where they are equal, the smallest
    subnormal with y's sign from zero, NaN where either is NaN."""
    dt = cx.same_dtype_args()
    if dt not in ("f32", "f64"):
        raise cx.fail("nextafter steps in f32 or f64 bits only")
    x, y = cx.args
    it = _int_type(x, dt)
    bits = arith.bitcast(it, x)
    zero = _fconst(x, 0.0)
    up = arith.cmpi(CmpI.eq, arith.cmpf(CmpF.OLT, x, y), arith.cmpf(CmpF.OGT, x, zero))
    one = _iconst(it, 1)
    r = arith.bitcast(x.type, _sel(up, arith.addi(bits, one), arith.subi(bits, one)))
    tiny = mmath.copysign(arith.bitcast(x.type, one), y)
    r = _sel(arith.cmpf(CmpF.OEQ, x, zero), tiny, r)
    r = _sel(arith.cmpf(CmpF.OEQ, x, y), y, r)
    r = _sel(arith.cmpf(CmpF.UNO, x, y), arith.addf(x, y), r)
    return cx.result(r, dt)


def _frexp_parts(cx: OpCtx):
    """(mantissa, exponent as an integer of the value's width) of the compute value."""
    dt = cx.arg_dtypes[0]
    if not is_float(dt):
        raise cx.fail("frexp needs a float operand")
    x = cx.args[0]
    wide = dt == "f64"  # f16/bf16 compute in f32
    mbits, bias, scale_log2 = (52, 1023, 128) if wide else (23, 127, 64)
    it = _int_type(x, dt)
    emask = (1 << (11 if wide else 8)) - 1

    def field(v):
        return arith.andi(arith.shrui(arith.bitcast(it, v), _iconst(it, mbits)),
                          _iconst(it, emask))

    # subnormals: scale into the normal range first, then take the scale back off
    sub = arith.cmpi(CmpI.eq, field(x), _iconst(it, 0))
    xs = _sel(sub, arith.mulf(x, _fconst(x, 2.0 ** scale_log2)), x)
    e = arith.subi(field(xs), _iconst(it, bias - 1))
    e = _sel(sub, arith.subi(e, _iconst(it, scale_log2)), e)
    keep = _iconst(it, ~(emask << mbits))  # every bit but the exponent's (signed)
    m = arith.bitcast(x.type, arith.ori(arith.andi(arith.bitcast(it, xs), keep),
                                        _iconst(it, (bias - 1) << mbits)))
    # zero, inf and NaN are their own mantissa with exponent 0
    special = arith.ori(arith.cmpf(CmpF.OEQ, x, _fconst(x, 0.0)),
                        arith.ori(arith.cmpf(CmpF.UNO, x, x),
                                  arith.cmpf(CmpF.OEQ, mmath.absf(x), _fconst(x, float("inf")))))
    return _sel(special, x, m), _sel(special, _iconst(it, 0), e), dt, wide


def lower_frexp_mantissa(cx: OpCtx):
    m, _, dt, _ = _frexp_parts(cx)
    return cx.result(m, dt)


def lower_frexp_exponent(cx: OpCtx):
    _, e, _, wide = _frexp_parts(cx)
    return cx.result(e, "i64" if wide else "i32")


BITS_LOWERINGS: dict[str, Callable[[OpCtx], Any]] = {
    "nextafter": lower_nextafter, "frexp_mantissa": lower_frexp_mantissa,
    "frexp_exponent": lower_frexp_exponent,
}
