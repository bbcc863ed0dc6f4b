"""Triton source: dtypes, literals and the per-instruction lowering rules.

``LOWERINGS`` maps each kernel instruction (``codegen/kernel.py``) to a function
of an :class:`OpCtx` returning a Triton expression; ``source.py`` renders whole
kernels with them. Split from ``source.py`` to keep each file focused.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

from ..kernel import FLOAT_DTYPES, SCALAR_OPS, Instr
from . import TritonLoweringError

HALF = ("f16", "bf16")
UNSIGNED = ("u8", "b8")
INT_WIDTH = {"i8": 8, "i16": 16, "i32": 32, "i64": 64, "u8": 8, "b8": 1}
TL = {"f16": "tl.float16", "bf16": "tl.bfloat16", "f32": "tl.float32", "f64": "tl.float64",
      "i8": "tl.int8", "i16": "tl.int16", "i32": "tl.int32", "i64": "tl.int64",
      "u8": "tl.uint8", "b8": "tl.int1"}
# Triton signature strings of the pointer arguments (bool buffers travel as uint8)
POINTER_SIG = {"f16": "*fp16", "bf16": "*bf16", "f32": "*fp32", "f64": "*fp64", "i8": "*i8",
               "i16": "*i16", "i32": "*i32", "i64": "*i64", "u8": "*u8", "b8": "*u8"}
TARGETS = ("cuda", "interpret")
INT32_MAX = 2**31 - 1

HEADER = "import triton\nimport triton.language as tl\n"


# --------------------------------------------------------------------------
# types, constants, conversions (expression strings)


def compute_ty(dtype: str) -> str:
    """The Triton type values of ``dtype`` are held in."""
    return "tl.float32" if dtype in HALF else TL[dtype]


def const(dtype: str, value: Any) -> str:
    """``value`` as a 0-d constant of ``dtype``'s compute type (contract rounding/wrapping)."""
    if dtype == "b8":
        return f"tl.full([], {1 if bool(value) else 0}, tl.int1)"
    if dtype in FLOAT_DTYPES:
        v = float(value)
        if dtype != "f64":
            v = _f32(v)
        if dtype == "f16":
            v = _round_f16(v)
        elif dtype == "bf16":
            v = _round_bf16(v)
        return f"tl.full([], {_float_lit(v)}, {compute_ty(dtype)})"
    if isinstance(value, float):
        if not math.isfinite(value):
            raise TritonLoweringError(f"non-finite constant {value} for integer dtype {dtype}")
        value = int(value)  # truncation toward zero, like a cast
    w = INT_WIDTH[dtype]
    if dtype == "u8":
        v = int(value) % 256
    else:
        v = ((int(value) + (1 << (w - 1))) % (1 << w)) - (1 << (w - 1))
    return f"tl.full([], {v}, {TL[dtype]})"


def _f32(v: float) -> float:
    """Round a double to float the way torch does (overflow -> inf)."""
    import torch

    return torch.tensor(v, dtype=torch.float64).float().item()


def _round_f16(v: float) -> float:
    import torch

    return torch.tensor(v, dtype=torch.float32).half().float().item()


def _round_bf16(v: float) -> float:
    import torch

    return torch.tensor(v, dtype=torch.float32).bfloat16().float().item()


def _float_lit(v: float) -> str:
    if math.isnan(v):
        return 'float("nan")'
    if math.isinf(v):
        return 'float("inf")' if v > 0 else '-float("inf")'
    return repr(v)


def to_bool(x: str, dtype: str) -> str:
    """``x != 0`` as int1 (NaN != 0 is true)."""
    return x if dtype == "b8" else f"({x} != 0)"


def convert(x: str, src: str, dst: str) -> str:
    """Cast expression ``x`` (compute type of ``src``) to ``dst`` with the contract's semantics."""
    if src == dst:
        return x
    if dst == "b8":
        return to_bool(x, src)
    if src in FLOAT_DTYPES:
        if dst in FLOAT_DTYPES:
            if src == "f64":
                x = f"{x}.to(tl.float32)"  # f64 -> half goes through f32, like torch
            if dst == "f64":
                return f"{x}.to(tl.float64)"
            if dst == "f16":
                return f"{x}.to(tl.float16).to(tl.float32)"
            if dst == "bf16":
                return f"_ember_round_bf16({x})"
            return x
        if INT_WIDTH[dst] < 32:  # C-style: to int32, then wrap
            return f"{x}.to(tl.int32).to({TL[dst]})"
        return f"{x}.to({TL[dst]})"
    if dst in FLOAT_DTYPES:  # int -> f32 -> half, the double rounding torch does
        if dst == "f64":
            return f"{x}.to(tl.float64)"
        x = f"{x}.to(tl.float32)"
        return convert(x, "f32", dst) if dst in HALF else x
    return f"{x}.to({TL[dst]})"


def to_storage(x: str, dtype: str) -> str:
    """Compute-type value -> the element type of the buffer."""
    if dtype == "f16":
        return f"{x}.to(tl.float16)"
    if dtype == "bf16":
        return f"_ember_to_bf16({x})"
    if dtype == "b8":
        return f"{x}.to(tl.uint8)"
    return x


def from_storage(x: str, dtype: str) -> str:
    """Loaded element -> compute-type value (a stray bool byte like 2 reads as true)."""
    if dtype in HALF:
        return f"{x}.to(tl.float32)"
    if dtype == "b8":
        return f"({x} != 0)"
    return x


# --------------------------------------------------------------------------
# the per-instruction table


@dataclass
class OpCtx:
    """What a lowering sees: the instruction, operand expressions and dtypes, the generator."""

    instr: Instr
    args: list[str]
    arg_dtypes: list[str]
    gen: Any

    @property
    def dtype(self) -> str:
        return self.instr.dtype

    def fail(self, why: str) -> TritonLoweringError:
        return TritonLoweringError(
            f"kernel {self.gen.kernel.name!r}: cannot lower op {self.instr.op!r} "
            f"({self.instr}; operand dtypes {self.arg_dtypes}): {why}")

    def same_dtype_args(self) -> str:
        if len(set(self.arg_dtypes)) != 1:
            raise self.fail("operands must have equal dtypes")
        return self.arg_dtypes[0]

    def result(self, expr: str, dtype: str) -> str:
        return convert(expr, dtype, self.dtype)


def lower_load(cx: OpCtx) -> str:
    buf = cx.instr.attrs["buffer"]
    src = cx.gen.kernel.inputs[buf].dtype
    raw = cx.gen.load(buf, cx.instr.attrs["access"], cx.instr.attrs.get("within", ()))
    return convert(from_storage(raw, src), src, cx.dtype)


def lower_gather(cx: OpCtx) -> str:
    a = cx.instr.attrs
    src = cx.gen.kernel.inputs[a["buffer"]].dtype
    raw = cx.gen.gather(a["buffer"], a["access"], a["stride"], cx.args[0], a.get("within", ()))
    return convert(from_storage(raw, src), src, cx.dtype)


def lower_const(cx: OpCtx) -> str:
    try:
        return const(cx.dtype, cx.instr.attrs["value"])
    except (TypeError, ValueError, OverflowError) as e:
        raise cx.fail(str(e)) from None


def lower_index(cx: OpCtx) -> str:
    return convert(cx.gen.index(cx.instr.attrs["axis"]), "i64", cx.dtype)


def lower_reduced(cx: OpCtx) -> str:
    k = cx.instr.attrs["index"]
    return convert(f"a{k}", cx.gen.kernel.reductions[k].dtype, cx.dtype)


def lower_cast(cx: OpCtx) -> str:
    return convert(cx.args[0], cx.arg_dtypes[0], cx.dtype)


def _float_unary(name: str, fmt: str) -> Callable[[OpCtx], str]:
    def lower(cx: OpCtx) -> str:
        dt = cx.same_dtype_args()
        if dt not in FLOAT_DTYPES:
            raise cx.fail(f"{name} needs a float operand")
        return cx.result(fmt.format(x=cx.args[0]), dt)

    lower.__name__ = f"lower_{name}"
    return lower


def lower_sqrt(cx: OpCtx) -> str:
    dt = cx.same_dtype_args()
    if dt not in FLOAT_DTYPES:
        raise cx.fail("sqrt needs a float operand")
    # tl.sqrt is approximate for f32; sqrt_rn is IEEE (f32 only; f64 sqrt is exact)
    return cx.result(f"tl.sqrt({cx.args[0]})" if dt == "f64" else f"tl.sqrt_rn({cx.args[0]})", dt)


def lower_rsqrt(cx: OpCtx) -> str:
    dt = cx.same_dtype_args()
    if dt not in FLOAT_DTYPES:
        raise cx.fail("rsqrt needs a float operand")
    root = f"tl.sqrt({cx.args[0]})" if dt == "f64" else f"tl.sqrt_rn({cx.args[0]})"
    return cx.result(_div(const(dt, 1.0), root, dt), dt)


def lower_reciprocal(cx: OpCtx) -> str:
    dt = cx.same_dtype_args()
    if dt not in FLOAT_DTYPES:
        raise cx.fail("reciprocal of an integer needs a cast to float first")
    return cx.result(_div(const(dt, 1.0), cx.args[0], dt), dt)


def lower_sigmoid(cx: OpCtx) -> str:
    dt = cx.same_dtype_args()
    if dt not in FLOAT_DTYPES:
        raise cx.fail("sigmoid needs a float operand")
    one = const(dt, 1.0)
    return cx.result(_div(one, f"({one} + tl.exp(-{cx.args[0]}))", dt), dt)


def _div(a: str, b: str, dt: str) -> str:
    # f32 '/' may lower to an approximate division; div_rn is IEEE (f32 only)
    return f"({a} / {b})" if dt == "f64" else f"tl.math.div_rn({a}, {b})"


def lower_neg(cx: OpCtx) -> str:
    dt = cx.same_dtype_args()
    if dt == "b8":
        raise cx.fail("negation of a bool is not defined (torch raises)")
    if dt in FLOAT_DTYPES:
        return cx.result(f"(-{cx.args[0]})", dt)
    return cx.result(f"({const(dt, 0)} - {cx.args[0]})", dt)


def lower_abs(cx: OpCtx) -> str:
    dt = cx.same_dtype_args()
    if dt in UNSIGNED:
        return cx.result(cx.args[0], dt)
    return cx.result(f"tl.abs({cx.args[0]})", dt)


def lower_relu(cx: OpCtx) -> str:
    # where(x < 0, 0, x) keeps NaN and -0.0 like torch.relu
    dt = cx.same_dtype_args()
    if dt in UNSIGNED:
        return cx.result(cx.args[0], dt)
    zero, x = const(dt, 0), cx.args[0]
    return cx.result(f"tl.where({x} < {zero}, {zero}, {x})", dt)


def lower_logical_not(cx: OpCtx) -> str:
    dt = cx.arg_dtypes[0]
    x = cx.args[0]
    return cx.result(f"({x}.to(tl.int8) == 0)" if dt == "b8" else f"({x} == 0)", "b8")


def lower_signbit(cx: OpCtx) -> str:
    # floats: the top bit (f16/bf16 compute in f32, which keeps the sign, NaN's
    # too); signed integers: x < 0; unsigned and bool: never
    dt, x = cx.arg_dtypes[0], cx.args[0]
    if dt in FLOAT_DTYPES:
        ity = "tl.int64" if dt == "f64" else "tl.int32"
        return cx.result(f"({x}.to({ity}, bitcast=True) < 0)", "b8")
    if dt in UNSIGNED:
        return cx.result(f"({x} != {x})", "b8")  # False, in the value's shape
    return cx.result(f"({x} < 0)", "b8")


def _bitwise(name: str, op: str) -> Callable[[OpCtx], str]:
    def lower(cx: OpCtx) -> str:
        dt = cx.same_dtype_args()
        if dt in FLOAT_DTYPES:
            raise cx.fail("bitwise ops take integer or bool operands")
        return cx.result(f"({cx.args[0]} {op} {cx.args[1]})", dt)

    lower.__name__ = f"lower_{name}"
    return lower


def _shift(left: bool) -> Callable[[OpCtx], str]:
    # an amount outside [0, width) gives eager's value: 0, or for a right shift of
    # a signed value its sign (the shift itself is undefined there)
    def lower(cx: OpCtx) -> str:
        dt = cx.same_dtype_args()
        if dt in FLOAT_DTYPES or dt == "b8":
            raise cx.fail("shifts take integer operands")
        a, b = cx.args
        w = INT_WIDTH[dt]
        ok = f"(({b} >= 0) & ({b} < {w}))"
        amt = f"tl.where({ok}, {b}, 0).to({compute_ty(dt)})"
        if left:
            return cx.result(f"tl.where({ok}, {a} << {amt}, 0).to({compute_ty(dt)})", dt)
        out = f"({a} >> {w - 1})" if dt not in UNSIGNED else "0"
        return cx.result(f"tl.where({ok}, {a} >> {amt}, {out}).to({compute_ty(dt)})", dt)

    lower.__name__ = "lower_bitwise_" + ("left" if left else "right") + "_shift"
    return lower


def lower_bitwise_not(cx: OpCtx) -> str:
    dt, x = cx.arg_dtypes[0], cx.args[0]
    if dt in FLOAT_DTYPES:
        raise cx.fail("bitwise ops take integer or bool operands")
    return cx.result(f"({x} == 0)" if dt == "b8" else f"(~{x})", dt)


def _rounding(name: str, fmt: str) -> Callable[[OpCtx], str]:
    def lower(cx: OpCtx) -> str:
        dt = cx.same_dtype_args()
        if dt not in FLOAT_DTYPES:  # integers are already integral, as in torch
            return cx.result(cx.args[0], dt)
        return cx.result(fmt.format(x=cx.args[0]), dt)

    lower.__name__ = f"lower_{name}"
    return lower


def _arith(name: str, op: str | None, bool_op: str | None = None,
           float_only: bool = False) -> Callable[[OpCtx], str]:
    def lower(cx: OpCtx) -> str:
        dt = cx.same_dtype_args()
        a, b = cx.args
        if dt == "b8":
            if bool_op is None:
                raise cx.fail(f"{name} is not defined on bool")
            return cx.result(f"({a} {bool_op} {b})", dt)
        if float_only and dt not in FLOAT_DTYPES:
            raise cx.fail(f"{name} needs float operands")
        if name == "div":
            return cx.result(_div(a, b, dt), dt)
        if name == "pow":
            return cx.result(f"_ember_pow({a}, {b})", dt)
        return cx.result(f"({a} {op} {b})", dt)

    lower.__name__ = f"lower_{name}"
    return lower


def _minmax(name: str, fname: str, iname: str, bool_op: str) -> Callable[[OpCtx], str]:
    def lower(cx: OpCtx) -> str:
        dt = cx.same_dtype_args()
        a, b = cx.args
        if dt == "b8":
            return cx.result(f"({a} {bool_op} {b})", dt)
        fn = fname if dt in FLOAT_DTYPES else iname
        return cx.result(f"{fn}({a}, {b})", dt)

    lower.__name__ = f"lower_{name}"
    return lower


def _logical(name: str, op: str) -> Callable[[OpCtx], str]:
    def lower(cx: OpCtx) -> str:
        a, b = (to_bool(x, d) for x, d in zip(cx.args, cx.arg_dtypes))
        return cx.result(f"({a} {op} {b})", "b8")

    lower.__name__ = f"lower_{name}"
    return lower


def _compare(name: str, op: str) -> Callable[[OpCtx], str]:
    # float: ordered (false on NaN) except !=, which Triton emits as UNE (true on NaN)
    def lower(cx: OpCtx) -> str:
        dt = cx.same_dtype_args()
        a, b = cx.args
        if dt == "b8":  # int1 compares as signed (True < False); widen first
            a, b = f"{a}.to(tl.int8)", f"{b}.to(tl.int8)"
        return cx.result(f"({a} {op} {b})", "b8")

    lower.__name__ = f"lower_{name}"
    return lower


def lower_where(cx: OpCtx) -> str:
    c, a, b = cx.args
    cd, ad, bd = cx.arg_dtypes
    if ad != bd:
        raise cx.fail("where needs equal-dtype value operands")
    return cx.result(f"tl.where({to_bool(c, cd)}, {a}, {b})", ad)


LOWERINGS: dict[str, Callable[[OpCtx], str]] = {
    "load": lower_load, "gather": lower_gather, "const": lower_const, "index": lower_index,
    "reduced": lower_reduced, "cast": lower_cast,
    "neg": lower_neg, "abs": lower_abs, "relu": lower_relu, "logical_not": lower_logical_not,
    "signbit": lower_signbit,
    "exp": _float_unary("exp", "tl.exp({x})"),
    "exp2": _float_unary("exp2", "tl.exp2({x})"),
    "expm1": _float_unary("expm1", "_ember_expm1({x})"),
    "log": _float_unary("log", "tl.log({x})"),
    "log2": _float_unary("log2", "tl.log2({x})"),
    "log1p": _float_unary("log1p", "_ember_log1p({x})"),
    "tanh": _float_unary("tanh", "_ember_tanh({x})"),
    "sigmoid": lower_sigmoid,
    "erf": _float_unary("erf", "tl.math.erf({x})"),
    "sqrt": lower_sqrt, "rsqrt": lower_rsqrt, "reciprocal": lower_reciprocal,
    "sin": _float_unary("sin", "tl.sin({x})"),
    "cos": _float_unary("cos", "tl.cos({x})"),
    "floor": _rounding("floor", "tl.floor({x})"),
    "ceil": _rounding("ceil", "tl.ceil({x})"),
    "trunc": _rounding("trunc", "_ember_trunc({x})"),
    # bool + bool is logical or and bool * bool logical and in torch
    "add": _arith("add", "+", "|"), "sub": _arith("sub", "-"),
    "mul": _arith("mul", "*", "&"), "div": _arith("div", "/", float_only=True),
    "pow": _arith("pow", None, float_only=True),
    "maximum": _minmax("maximum", "_ember_fmax", "_ember_imax", "|"),
    "minimum": _minmax("minimum", "_ember_fmin", "_ember_imin", "&"),
    "logical_and": _logical("logical_and", "&"), "logical_or": _logical("logical_or", "|"),
    "bitwise_and": _bitwise("bitwise_and", "&"), "bitwise_or": _bitwise("bitwise_or", "|"),
    "bitwise_xor": _bitwise("bitwise_xor", "^"), "bitwise_not": lower_bitwise_not,
    "bitwise_left_shift": _shift(True), "bitwise_right_shift": _shift(False),
    "eq": _compare("eq", "=="), "ne": _compare("ne", "!="), "lt": _compare("lt", "<"),
    "le": _compare("le", "<="), "gt": _compare("gt", ">"), "ge": _compare("ge", ">="),
    "where": lower_where,
}
from .special import SPECIAL_LOWERINGS  # noqa: E402  (division, inverse trig/hyperbolic)

LOWERINGS.update(SPECIAL_LOWERINGS)

assert set(SCALAR_OPS) <= set(LOWERINGS), set(SCALAR_OPS) - set(LOWERINGS)
