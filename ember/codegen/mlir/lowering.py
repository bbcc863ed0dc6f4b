"""Scalar-op lowerings: one named function per ``Instr.op``, in :data:`LOWERINGS`.

Every lowering receives an :class:`OpCtx` and returns one MLIR ``Value`` in the
*compute type* of the instruction's dtype (see :func:`compute_type`): f16/bf16
are computed in f32 (rounded where torch would round: casts, consts, stores),
b8 lives in registers as i1, u8 as an i8 with unsigned semantics.

Ops whose operand dtypes make no sense for them (``div`` on integers, ``exp``
on i32, ...) raise :class:`LoweringError`: the fusion pass is expected to
insert casts, and guessing a semantics here could produce wrong code.
"""

from __future__ import annotations

import math as _pymath
from typing import Any, Callable

from mlir import ir
from mlir.dialects import arith, func, vector
from mlir.dialects import math as mmath

from ..kernel import FLOAT_DTYPES, SCALAR_OPS, Instr
from . import LoweringError

HALF_DTYPES = ("f16", "bf16")
UNSIGNED_DTYPES = ("u8", "b8")
INT_WIDTH = {"i8": 8, "i16": 16, "i32": 32, "i64": 64, "u8": 8, "b8": 1}

CmpF = arith.CmpFPredicate
CmpI = arith.CmpIPredicate


def storage_type(dtype: str) -> ir.Type:
    """Element type of a memref holding ``dtype`` (b8 is one byte)."""
    if dtype == "f16":
        return ir.F16Type.get()
    if dtype == "bf16":
        return ir.BF16Type.get()
    if dtype == "f32":
        return ir.F32Type.get()
    if dtype == "f64":
        return ir.F64Type.get()
    return ir.IntegerType.get_signless(8 if dtype == "b8" else INT_WIDTH[dtype])


def compute_type(dtype: str) -> ir.Type:
    """Register type that values of ``dtype`` are computed in."""
    if dtype in HALF_DTYPES:
        return ir.F32Type.get()
    return storage_type(dtype) if dtype != "b8" else ir.IntegerType.get_signless(1)


def is_float(dtype: str) -> bool:
    return dtype in FLOAT_DTYPES


def is_vector(t: ir.Type) -> bool:
    return t.typeid == ir.VectorType.static_typeid


def shaped(t: ir.Type, like) -> ir.Type:
    """``t``, or a vector of ``t`` with the shape of ``like`` if that is a vector
    (value or type): lowerings are generic over scalars and vectors."""
    if like is None:
        return t
    lt = like if isinstance(like, ir.Type) else like.type
    if is_vector(lt):
        return ir.VectorType.get(ir.VectorType(lt).shape, t)
    return t


def splat(value, t: ir.Type):
    """A constant of type ``t`` (scalar, or every lane of a vector) from an attribute."""
    if is_vector(t):
        return arith.constant(t, ir.DenseElementsAttr.get_splat(t, value))
    return arith.constant(t, value)


class OpCtx:
    """What a lowering function sees: the instruction, its operand values and
    dtypes, and ``env``, the kernel builder's hooks (``kernel_name``,
    ``load(buffer, access)``, ``index(axis)``, ``reduced(k)`` and
    ``libm_decl(name, type)``)."""

    __slots__ = ("instr", "args", "arg_dtypes", "env")

    def __init__(self, instr: Instr, args: list, arg_dtypes: list[str], env: Any):
        self.instr, self.args, self.arg_dtypes, self.env = instr, args, arg_dtypes, env

    @property
    def dtype(self) -> str:
        return self.instr.dtype

    def fail(self, why: str) -> LoweringError:
        return LoweringError(
            f"kernel {self.env.kernel_name!r}: cannot lower op {self.instr.op!r} "
            f"({self.instr}; operand dtypes {self.arg_dtypes}): {why}"
        )

    def same_dtype_args(self) -> str:
        """The common operand dtype; the contract makes operands match."""
        if len(set(self.arg_dtypes)) != 1:
            raise self.fail("operands must have equal dtypes")
        return self.arg_dtypes[0]

    def result(self, value, dtype: str):
        """``value`` (of ``dtype``) converted to this instruction's dtype."""
        return convert(value, dtype, self.dtype)


# --------------------------------------------------------------------------
# constants and conversions


def const(dtype: str, value: Any, like=None):
    """``value`` as a constant of ``dtype``, in its compute type (a splat vector
    when ``like`` is a vector value or type)."""
    ct = compute_type(dtype)
    if dtype == "b8":
        return splat(ir.IntegerAttr.get(ct, 1 if bool(value) else 0), shaped(ct, like))
    if is_float(dtype):
        v = float(value)
        if dtype in HALF_DTYPES:
            # torch rounds a double to half through float; so do we.
            v = ir.FloatAttr.get(ir.F32Type.get(), v).value
            v = ir.FloatAttr.get(storage_type(dtype), v).value
        return splat(ir.FloatAttr.get(ct, v), shaped(ct, like))
    if isinstance(value, float):
        if not _pymath.isfinite(value):
            raise LoweringError(f"non-finite constant {value} for integer dtype {dtype}")
        value = int(value)  # truncation toward zero, like a cast
    w = INT_WIDTH[dtype]
    v = ((int(value) + (1 << (w - 1))) % (1 << w)) - (1 << (w - 1))
    return splat(ir.IntegerAttr.get(ct, v), shaped(ct, like))


def to_bool(v, dtype: str):
    """``v != 0`` as i1 (NaN != 0 is true)."""
    if dtype == "b8":
        return v
    if is_float(dtype):
        return arith.cmpf(CmpF.UNE, v, const(dtype, 0.0, v))
    return arith.cmpi(CmpI.ne, v, const(dtype, 0, v))


def _round_half(v, dtype: str):
    """Round an f32 value to f16/bf16 precision, staying in f32."""
    if dtype == "bf16":
        i32 = shaped(ir.IntegerType.get_signless(32), v)
        bits = arith.extui(i32, _bf16_bits(v))
        return arith.bitcast(v.type, arith.shli(bits, arith.constant(i32, _splat(i32, 16))))
    return arith.extf(shaped(ir.F32Type.get(), v), arith.truncf(shaped(storage_type(dtype), v), v))


def _bf16_bits(v):
    """The bf16 nearest an f32 ``v`` (ties to even) as i16 bits, in integer arithmetic as
    ATen rounds: subnormals kept (x86's vcvtneps2bf16, what LLVM's ``truncf`` becomes
    with AVX512-BF16, flushes them to zero); a NaN keeps its sign and top payload bits,
    made quiet (copysign's NaNs keep their sign, as in eager)."""
    i32 = shaped(ir.IntegerType.get_signless(32), v)

    def c(x):
        return arith.constant(i32, _splat(i32, x))

    bits = arith.bitcast(i32, v)
    lsb = arith.andi(arith.shrui(bits, c(16)), c(1))
    r = arith.shrui(arith.addi(bits, arith.addi(c(0x7FFF), lsb)), c(16))
    r = arith.select(arith.cmpf(CmpF.UNO, v, v), arith.ori(arith.shrui(bits, c(16)), c(0x40)), r)
    return arith.trunci(shaped(ir.IntegerType.get_signless(16), v), r)


def convert(v, src: str, dst: str):
    """Cast ``v`` from ``src`` to ``dst`` with the contract's cast semantics."""
    if src == dst:
        return v
    if dst == "b8":
        return to_bool(v, src)
    f32 = shaped(ir.F32Type.get(), v)
    tgt = shaped(compute_type(dst), v)
    if is_float(src):
        if is_float(dst):
            if src == "f64":
                v = arith.truncf(f32, v)  # f64->half goes through f32, like torch
            if dst == "f64":
                return arith.extf(tgt, v)
            return _round_half(v, dst) if dst in HALF_DTYPES else v
        w = INT_WIDTH[dst]
        if w < 32:
            # C-style: convert to int32 then wrap (torch gives 255 for -1.0 -> u8)
            return arith.trunci(tgt, _float_to_int(v, 32))
        return _float_to_int(v, w)
    unsigned = src in UNSIGNED_DTYPES
    if is_float(dst):
        # half targets: int -> f32 -> half, the double rounding torch does
        r = arith.uitofp(tgt, v) if unsigned else arith.sitofp(tgt, v)
        return _round_half(r, dst) if dst in HALF_DTYPES else r
    ws, wd = INT_WIDTH[src], INT_WIDTH[dst]
    if ws == wd:
        return v  # i8 <-> u8 reinterpret
    if ws < wd:
        return arith.extui(tgt, v) if unsigned else arith.extsi(tgt, v)
    return arith.trunci(tgt, v)


def _float_to_int(v, w: int):
    """``v`` truncated to a ``w``-bit int as x86's conversion (what eager gives):
    NaN and values out of range give the smallest int. (LLVM's ``fptosi`` of
    them is poison: constant folding then produced garbage.)"""
    it = shaped(ir.IntegerType.get_signless(w), v)
    ft = v.type
    lim = float(2 ** (w - 1))
    lo = arith.constant(ft, _splat(ft, -lim))
    hi = arith.constant(ft, _splat(ft, lim))
    ok = arith.andi(arith.cmpf(arith.CmpFPredicate.OGE, v, lo),
                    arith.cmpf(arith.CmpFPredicate.OLT, v, hi))
    smallest = arith.constant(it, _splat(it, -(2 ** (w - 1))))
    return arith.select(ok, arith.fptosi(it, v), smallest)


def _splat(t, value):
    """A constant attribute of type ``t`` (scalar or vector) holding ``value``."""
    et = ir.VectorType(t).element_type if is_vector(t) else t
    if et.typeid == ir.IntegerType.static_typeid:
        scalar = ir.IntegerAttr.get(et, value)
    else:
        scalar = ir.FloatAttr.get(et, value)
    return ir.DenseElementsAttr.get_splat(t, scalar) if is_vector(t) else scalar


def to_storage(v, dtype: str):
    """Compute-type value -> memref element value."""
    if dtype == "bf16":
        return arith.bitcast(shaped(storage_type(dtype), v), _bf16_bits(v))
    if dtype in HALF_DTYPES:
        return arith.truncf(shaped(storage_type(dtype), v), v)
    if dtype == "b8":
        return arith.extui(shaped(storage_type(dtype), v), v)
    return v


def from_storage(v, dtype: str):
    """Memref element value -> compute-type value."""
    if dtype in HALF_DTYPES:
        return arith.extf(shaped(ir.F32Type.get(), v), v)
    if dtype == "b8":
        # compare rather than trunci: a stray byte like 2 must still read as true
        t = shaped(storage_type("b8"), v)
        return arith.cmpi(CmpI.ne, v, splat(ir.IntegerAttr.get(storage_type("b8"), 0), t))
    return v


# --------------------------------------------------------------------------
# leaf instructions


def lower_load(cx: OpCtx):
    buf = cx.instr.attrs["buffer"]
    src = cx.env.buffer_dtype(buf)
    raw = cx.env.load(buf, cx.instr.attrs["access"], cx.instr.attrs.get("within", ()))
    return convert(from_storage(raw, src), src, cx.dtype)


def lower_reload(cx: OpCtx):
    a = cx.instr.attrs
    src = cx.env.k.outputs[a["output"]].dtype
    return convert(from_storage(cx.env.reload(a["output"], a["access"]), src), src, cx.dtype)


def lower_gather(cx: OpCtx):
    a = cx.instr.attrs
    src = cx.env.buffer_dtype(a["buffer"])
    raw = cx.env.gather(a["buffer"], a["access"], a["stride"], a["extent"], cx.args[0],
                        a.get("within", ()))
    return convert(from_storage(raw, src), src, cx.dtype)


def lower_const(cx: OpCtx):
    try:
        return const(cx.dtype, cx.instr.attrs["value"])
    except (LoweringError, TypeError, ValueError, OverflowError) as e:
        raise cx.fail(str(e)) from None


def lower_index(cx: OpCtx):
    iv = cx.env.index(cx.instr.attrs["axis"])
    return convert(arith.index_cast(shaped(ir.IntegerType.get_signless(64), iv), iv), "i64", cx.dtype)


def lower_reduced(cx: OpCtx):
    value, dtype = cx.env.reduced(cx.instr.attrs["index"])
    return convert(value, dtype, cx.dtype)


def lower_cast(cx: OpCtx):
    return convert(cx.args[0], cx.arg_dtypes[0], cx.dtype)


# --------------------------------------------------------------------------
# unary


def _vmath(cx: OpCtx, name: str, dt: str):
    """The polynomial f32 lowering of ``name`` (scalar or vector operand), else None.

    Scalars take the same polynomial as vectors, never libm: a value that two
    kernels both compute (fusion recomputes cheap producers) must have the same
    bits in both, whether a kernel computes it in vector lanes or as a scalar
    (``x < x`` would be true otherwise)."""
    if dt == "f64":
        return None
    from .vmath import NEEDS_ENV, VMATH

    f = VMATH.get(name)
    if f is None:
        return None
    return f(cx.args[0], cx.env) if name in NEEDS_ENV else f(cx.args[0])


def _float_unary(name: str, op: Callable) -> Callable[[OpCtx], Any]:
    def lower(cx: OpCtx):
        dt = cx.same_dtype_args()
        if not is_float(dt):
            raise cx.fail(f"{name} needs a float operand")
        v = _vmath(cx, name, dt)
        return cx.result(v if v is not None else op(cx.args[0]), dt)

    lower.__name__ = f"lower_{name}"
    return lower


def _libm(cx: OpCtx, stem: str):
    """Call libm ``stem``/``stemf`` (for ops whose MLIR lowering is inexact)."""
    dt = cx.same_dtype_args()
    if not is_float(dt):
        raise cx.fail(f"{stem} needs a float operand")
    v = _vmath(cx, stem, dt)
    if v is not None:
        return cx.result(v, dt)
    t = compute_type(dt)
    name = stem if dt == "f64" else stem + "f"
    cx.env.libm_decl(name, t)
    x = cx.args[0]
    if not is_vector(x.type):
        return cx.result(func.call([t], name, [x]), dt)
    r = x  # f64 vectors: one libm call per lane
    for lane in range(ir.VectorType(x.type).shape[0]):
        e = vector.extract(x, [], [lane])
        r = vector.insert(func.call([t], name, [e]), r, [], [lane])
    return cx.result(r, dt)


def lower_neg(cx: OpCtx):
    dt = cx.same_dtype_args()
    if is_float(dt):
        return cx.result(arith.negf(cx.args[0]), dt)
    if dt == "b8":
        raise cx.fail("negation of a bool is not defined (torch raises)")
    return cx.result(arith.subi(const(dt, 0, cx.args[0]), cx.args[0]), dt)


def lower_abs(cx: OpCtx):
    dt = cx.same_dtype_args()
    if is_float(dt):
        return cx.result(mmath.absf(cx.args[0]), dt)
    if dt in UNSIGNED_DTYPES:
        return cx.result(cx.args[0], dt)
    return cx.result(mmath.absi(cx.args[0]), dt)


def lower_relu(cx: OpCtx):
    # select(x < 0, 0, x) keeps NaN and -0.0 like torch.relu (maximumf(x, 0)
    # would turn -0.0 into +0.0).
    dt = cx.same_dtype_args()
    x = cx.args[0]
    if dt in UNSIGNED_DTYPES:
        return cx.result(x, dt)
    zero = const(dt, 0, x)
    neg = arith.cmpf(CmpF.OLT, x, zero) if is_float(dt) else arith.cmpi(CmpI.slt, x, zero)
    return cx.result(arith.select(neg, zero, x), dt)


def lower_logical_not(cx: OpCtx):
    dt = cx.arg_dtypes[0]
    b = to_bool(cx.args[0], dt)
    return cx.result(arith.xori(b, const("b8", True, b)), "b8")


def lower_signbit(cx: OpCtx):
    # floats: the top bit of the bits (f16/bf16 compute in f32, which keeps the
    # sign, NaN's included); signed integers: x < 0; unsigned and bool: never
    dt = cx.arg_dtypes[0]
    x = cx.args[0]
    if is_float(dt):
        ct = compute_type(dt)
        it = ir.IntegerType.get_signless(ir.FloatType(ct).width)
        if is_vector(x.type):
            it = ir.VectorType.get(ir.VectorType(x.type).shape, it)
        bits = arith.bitcast(it, x)
        return cx.result(arith.cmpi(arith.CmpIPredicate.slt, bits, arith.constant(
            it, ir.DenseElementsAttr.get_splat(it, ir.IntegerAttr.get(it.element_type, 0))
            if is_vector(x.type) else ir.IntegerAttr.get(it, 0))), "b8")
    if dt in UNSIGNED_DTYPES:
        return cx.result(const("b8", False, x), "b8")
    return cx.result(arith.cmpi(arith.CmpIPredicate.slt, x, const(dt, 0, x)), "b8")


def lower_expm1(cx: OpCtx):
    # convert-math-to-llvm turns math.expm1 into exp(x) - 1, which cancels
    # catastrophically near 0; libm's expm1 is exact to ~1 ulp.
    return _libm(cx, "expm1")


def _recip(x, dt):
    return arith.divf(const(dt, 1.0, x), x)


lower_exp = _float_unary("exp", mmath.exp)
lower_exp2 = _float_unary("exp2", mmath.exp2)
lower_log = _float_unary("log", mmath.log)
lower_log2 = _float_unary("log2", mmath.log2)
# log1p/erf become libm calls in jit.py's pipeline (approximate-log1p=false)
lower_log1p = _float_unary("log1p", mmath.log1p)
lower_erf = _float_unary("erf", mmath.erf)
lower_tanh = _float_unary("tanh", mmath.tanh)
lower_sqrt = _float_unary("sqrt", mmath.sqrt)
lower_sin = _float_unary("sin", mmath.sin)
lower_cos = _float_unary("cos", mmath.cos)


def lower_sigmoid(cx: OpCtx):
    dt = cx.same_dtype_args()
    if not is_float(dt):
        raise cx.fail("sigmoid needs a float operand")
    v = _vmath(cx, "sigmoid", dt)
    if v is not None:
        return cx.result(v, dt)
    x = cx.args[0]
    e = mmath.exp(arith.negf(x))
    return cx.result(_recip(arith.addf(const(dt, 1.0, x), e), dt), dt)


def lower_rsqrt(cx: OpCtx):
    dt = cx.same_dtype_args()
    if not is_float(dt):
        raise cx.fail("rsqrt needs a float operand")
    return cx.result(_recip(mmath.sqrt(cx.args[0]), dt), dt)


def lower_reciprocal(cx: OpCtx):
    dt = cx.same_dtype_args()
    if not is_float(dt):
        raise cx.fail("reciprocal of an integer needs a cast to float first")
    return cx.result(_recip(cx.args[0], dt), dt)


def _rounding(name: str, op: Callable) -> Callable[[OpCtx], Any]:
    def lower(cx: OpCtx):
        dt = cx.same_dtype_args()
        if not is_float(dt):  # integers are already integral, as in torch
            return cx.result(cx.args[0], dt)
        return cx.result(op(cx.args[0]), dt)

    lower.__name__ = f"lower_{name}"
    return lower


lower_floor = _rounding("floor", mmath.floor)
lower_ceil = _rounding("ceil", mmath.ceil)
lower_trunc = _rounding("trunc", mmath.trunc)


# --------------------------------------------------------------------------
# binary / ternary


def _arith_binary(name: str, fop, iop, bop=None) -> Callable[[OpCtx], Any]:
    def lower(cx: OpCtx):
        dt = cx.same_dtype_args()
        a, b = cx.args
        if is_float(dt):
            return cx.result(fop(a, b), dt)
        if dt == "b8":
            if bop is None:
                raise cx.fail(f"{name} is not defined on bool")
            return cx.result(bop(a, b), dt)
        if iop is None:
            raise cx.fail(f"{name} needs float operands")
        return cx.result(iop(a, b), dt)

    lower.__name__ = f"lower_{name}"
    return lower


# bool + bool is logical or and bool * bool logical and in torch
lower_add = _arith_binary("add", arith.addf, arith.addi, arith.ori)
lower_sub = _arith_binary("sub", arith.subf, arith.subi)
lower_mul = _arith_binary("mul", arith.mulf, arith.muli, arith.andi)
lower_div = _arith_binary("div", arith.divf, None)
def _constant_of(v):
    """The float a value is a constant (or a broadcast constant) of, else None."""
    op = v.owner
    for _ in range(2):
        if not isinstance(op, ir.Operation) and hasattr(op, "operation"):
            op = op.operation
        if not isinstance(op, ir.Operation):
            return None
        if op.name == "vector.broadcast":
            op = op.operands[0].owner
            continue
        if op.name == "arith.constant":
            a = op.attributes["value"]
            try:
                if isinstance(a, ir.DenseElementsAttr) or "dense" in str(a):
                    a = ir.DenseFPElementsAttr(a).get_splat_value()
                return ir.FloatAttr(a).value
            except Exception:
                return None
        return None
    return None


def _pow_by(x, e: float, dt: str):
    """x ** e for the exponents torch itself special-cases, else None."""
    if e == 1.0:
        return x
    if e == 2.0:
        return arith.mulf(x, x)
    if e == 3.0:
        return arith.mulf(arith.mulf(x, x), x)
    if e == 0.5:
        return mmath.sqrt(x)
    if e == -1.0:
        return _recip(x, dt)
    if e == -2.0:
        return _recip(arith.mulf(x, x), dt)
    if e == -0.5:
        return _recip(mmath.sqrt(x), dt)
    return None


def lower_pow(cx: OpCtx):
    dt = cx.same_dtype_args()
    if not is_float(dt):
        raise cx.fail("pow needs float operands")
    x, y = cx.args
    e = _constant_of(y)
    r = _pow_by(x, e, dt) if e is not None else None
    if r is None and dt != "f64":  # scalars too: the same bits as in vector lanes
        from .vmath import v_pow

        r = v_pow(x, y)
    return cx.result(r if r is not None else mmath.powf(x, y), dt)


def _minmax(name: str, fop, sop, uop) -> Callable[[OpCtx], Any]:
    def lower(cx: OpCtx):
        dt = cx.same_dtype_args()
        op = fop if is_float(dt) else uop if dt in UNSIGNED_DTYPES else sop
        return cx.result(op(*cx.args), dt)

    lower.__name__ = f"lower_{name}"
    return lower


# arith.maximumf/minimumf propagate NaN (maxnumf would not)
lower_maximum = _minmax("maximum", arith.maximumf, arith.maxsi, arith.maxui)
lower_minimum = _minmax("minimum", arith.minimumf, arith.minsi, arith.minui)


def lower_logical_and(cx: OpCtx):
    a, b = (to_bool(v, d) for v, d in zip(cx.args, cx.arg_dtypes))
    return cx.result(arith.andi(a, b), "b8")


def _bitwise(op) -> Callable[[OpCtx], Any]:
    def lower(cx: OpCtx):
        dt = cx.same_dtype_args()
        if is_float(dt):
            raise cx.fail("bitwise ops take integer or bool operands")
        return cx.result(op(*cx.args), dt)

    return lower


def lower_bitwise_not(cx: OpCtx):
    dt = cx.arg_dtypes[0]
    if is_float(dt):
        raise cx.fail("bitwise ops take integer or bool operands")
    x = cx.args[0]
    ones = arith.constant(x.type, _splat(x.type, -1 if dt != "b8" else 1))
    return cx.result(arith.xori(x, ones), dt)


def _shift(left: bool) -> Callable[[OpCtx], Any]:
    # LLVM's shifts are poison by the width or more: an amount outside [0, width)
    # gives eager's value instead (0; a right shift of a signed value, its sign)
    def lower(cx: OpCtx):
        dt = cx.same_dtype_args()
        if is_float(dt) or dt == "b8":
            raise cx.fail("shifts take integer operands")
        a, b = cx.args
        w = ir.IntegerType(ir.VectorType(a.type).element_type if is_vector(a.type)
                           else a.type).width
        unsigned = dt in UNSIGNED_DTYPES
        # unsigned compare: a negative amount is a large one
        ok = arith.cmpi(arith.CmpIPredicate.ult, b, arith.constant(b.type, _splat(b.type, w)))
        amt = arith.select(ok, b, const(dt, 0, b))
        if left:
            return cx.result(arith.select(ok, arith.shli(a, amt), const(dt, 0, a)), dt)
        if unsigned:
            return cx.result(arith.select(ok, arith.shrui(a, amt), const(dt, 0, a)), dt)
        sign = arith.shrsi(a, arith.constant(a.type, _splat(a.type, w - 1)))
        return cx.result(arith.select(ok, arith.shrsi(a, amt), sign), dt)

    lower.__name__ = "lower_bitwise_" + ("left" if left else "right") + "_shift"
    return lower


def lower_logical_or(cx: OpCtx):
    a, b = (to_bool(v, d) for v, d in zip(cx.args, cx.arg_dtypes))
    return cx.result(arith.ori(a, b), "b8")


def _compare(name: str, fpred, spred, upred) -> Callable[[OpCtx], Any]:
    def lower(cx: OpCtx):
        dt = cx.same_dtype_args()
        a, b = cx.args
        if is_float(dt):
            r = arith.cmpf(fpred, a, b)
        else:
            r = arith.cmpi(upred if dt in UNSIGNED_DTYPES else spred, a, b)
        return cx.result(r, "b8")

    lower.__name__ = f"lower_{name}"
    return lower


# ordered predicates (false on NaN) except ne, which is true on NaN like torch
lower_eq = _compare("eq", CmpF.OEQ, CmpI.eq, CmpI.eq)
lower_ne = _compare("ne", CmpF.UNE, CmpI.ne, CmpI.ne)
lower_lt = _compare("lt", CmpF.OLT, CmpI.slt, CmpI.ult)
lower_le = _compare("le", CmpF.OLE, CmpI.sle, CmpI.ule)
lower_gt = _compare("gt", CmpF.OGT, CmpI.sgt, CmpI.ugt)
lower_ge = _compare("ge", CmpF.OGE, CmpI.sge, CmpI.uge)


def lower_where(cx: OpCtx):
    c, a, b = cx.args
    cd, ad, bd = cx.arg_dtypes
    if ad != bd:
        raise cx.fail("where needs equal-dtype value operands")
    return cx.result(arith.select(to_bool(c, cd), a, b), ad)


LOWERINGS: dict[str, Callable[[OpCtx], Any]] = {
    "load": lower_load, "gather": lower_gather, "const": lower_const, "index": lower_index,
    "reduced": lower_reduced, "cast": lower_cast, "reload": lower_reload,
    "neg": lower_neg, "abs": lower_abs, "relu": lower_relu, "signbit": lower_signbit,
    "logical_not": lower_logical_not,
    "exp": lower_exp, "exp2": lower_exp2, "expm1": lower_expm1,
    "log": lower_log, "log2": lower_log2, "log1p": lower_log1p,
    "tanh": lower_tanh, "sigmoid": lower_sigmoid, "erf": lower_erf,
    "sqrt": lower_sqrt, "rsqrt": lower_rsqrt, "reciprocal": lower_reciprocal,
    "sin": lower_sin, "cos": lower_cos,
    "floor": lower_floor, "ceil": lower_ceil, "trunc": lower_trunc,
    "add": lower_add, "sub": lower_sub, "mul": lower_mul, "div": lower_div,
    "pow": lower_pow, "maximum": lower_maximum, "minimum": lower_minimum,
    "logical_and": lower_logical_and, "logical_or": lower_logical_or,
    "bitwise_and": _bitwise(arith.andi), "bitwise_or": _bitwise(arith.ori),
    "bitwise_xor": _bitwise(arith.xori), "bitwise_not": lower_bitwise_not,
    "bitwise_left_shift": _shift(True), "bitwise_right_shift": _shift(False),
    "eq": lower_eq, "ne": lower_ne, "lt": lower_lt, "le": lower_le,
    "gt": lower_gt, "ge": lower_ge,
    "where": lower_where,
}
from .special import SPECIAL_LOWERINGS  # noqa: E402  (division, inverse trig/hyperbolic)

LOWERINGS.update(SPECIAL_LOWERINGS)

assert set(SCALAR_OPS) <= set(LOWERINGS), set(SCALAR_OPS) - set(LOWERINGS)


# --------------------------------------------------------------------------
# reductions


def reduce_identity(kind: str, dtype: str, like=None):
    """Neutral element of ``kind`` for an accumulator of ``dtype`` (a splat
    vector when ``like`` is a vector)."""
    if kind == "sum":
        return const(dtype, 0, like)
    if kind == "prod":
        return const(dtype, 1, like)
    if is_float(dtype):
        return const(dtype, -_pymath.inf if kind == "max" else _pymath.inf, like)
    if dtype in UNSIGNED_DTYPES:
        return const(dtype, 0 if kind == "max" else (1 << INT_WIDTH[dtype]) - 1, like)
    w = INT_WIDTH[dtype]
    return const(dtype, -(1 << (w - 1)) if kind == "max" else (1 << (w - 1)) - 1, like)


def reduce_combine(kind: str, dtype: str, acc, v):
    """``acc (kind) v``; max/min propagate NaN like torch.amax/amin."""
    if is_float(dtype):
        op = {"sum": arith.addf, "prod": arith.mulf,
              "max": arith.maximumf, "min": arith.minimumf}[kind]
    elif dtype == "b8":
        op = {"sum": arith.ori, "prod": arith.andi, "max": arith.ori, "min": arith.andi}[kind]
    elif dtype == "u8":
        op = {"sum": arith.addi, "prod": arith.muli, "max": arith.maxui, "min": arith.minui}[kind]
    else:
        op = {"sum": arith.addi, "prod": arith.muli, "max": arith.maxsi, "min": arith.minsi}[kind]
    return op(acc, v)
