"""Kernel + Schedule -> the text of a Triton module (one ``@triton.jit`` function).

Layout of a generated kernel
----------------------------
Pointwise: the domain is flattened; each program handles ``XBLOCK`` consecutive
flat points ``xoffs`` (masked at the tail), and each domain index is recovered
with ``//`` and ``%`` by static sizes. Reductions: the outer axes are flattened
into ``xoffs`` (a column, ``[XBLOCK, 1]``) and the reduce axes into ``roffs``
(a row, ``[1, RBLOCK]``). ``persistent`` loads a whole row as one block;
``loop`` walks the row ``RBLOCK`` at a time into a ``[XBLOCK, RBLOCK]``
accumulator reduced once after the loop. Prologue stores write body values
inside the row loop; the epilogue runs on ``[XBLOCK, 1]`` values after it.

An access ``offset + sum(stride * idx)`` is emitted as ``c * xoffs`` when the
strides are those of the flattened axes scaled by ``c`` (the contiguous case),
otherwise as a sum over the non-unit axes it steps along. Offsets are int32
unless a buffer or the domain could reach 2**31, then int64.

Values: every instruction becomes one variable (``v3`` in the body, ``e1`` in
the epilogue) in the *compute type* of its dtype: f16/bf16 in f32 (rounded at
casts, constants and stores), b8 as ``tl.int1`` (stored as one byte: bool
tensors are passed as uint8 views), others as themselves. Scalar ops come from
:data:`LOWERINGS`, one function per ``Instr.op``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Callable

from ..kernel import FLOAT_DTYPES, SCALAR_OPS, Access, Instr, Kernel
from ..schedule import Schedule
from . import TritonLoweringError
from ..collapse import collapse_axes
from .prelude import PRELUDES

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
    return convert(from_storage(cx.gen.load(buf, cx.instr.attrs["access"]), src), src, cx.dtype)


def lower_gather(cx: OpCtx) -> str:
    a = cx.instr.attrs
    src = cx.gen.kernel.inputs[a["buffer"]].dtype
    raw = cx.gen.gather(a["buffer"], a["access"], a["stride"], cx.args[0])
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
    "eq": _compare("eq", "=="), "ne": _compare("ne", "!="), "lt": _compare("lt", "<"),
    "le": _compare("le", "<="), "gt": _compare("gt", ">"), "ge": _compare("ge", ">="),
    "where": lower_where,
}
from .special import SPECIAL_LOWERINGS  # noqa: E402  (division, inverse trig/hyperbolic)

LOWERINGS.update(SPECIAL_LOWERINGS)

assert set(SCALAR_OPS) <= set(LOWERINGS), set(SCALAR_OPS) - set(LOWERINGS)


# --------------------------------------------------------------------------
# reductions


def identity_literal(kind: str, dtype: str) -> str:
    """Neutral element of ``kind`` for an accumulator of ``dtype`` (b8 accumulates as int8)."""
    if dtype == "b8":
        return "1" if kind in ("prod", "min") else "0"
    if kind in ("sum", "prod"):
        v: float = 0 if kind == "sum" else 1
        return _float_lit(float(v)) if dtype in FLOAT_DTYPES else str(v)
    if dtype in FLOAT_DTYPES:
        return _float_lit(-math.inf if kind == "max" else math.inf)
    if dtype == "u8":
        return "0" if kind == "max" else "255"
    w = INT_WIDTH[dtype]
    return str(-(1 << (w - 1)) if kind == "max" else (1 << (w - 1)) - 1)


def identity(kind: str, dtype: str) -> str:
    """The neutral element as a typed 0-d constant."""
    ty = "tl.int8" if dtype == "b8" else compute_ty(dtype)
    return f"tl.full([], {identity_literal(kind, dtype)}, {ty})"


def combiner(kind: str, dtype: str) -> str:
    """The ``@triton.jit`` combine function of the prelude for ``kind`` over ``dtype``."""
    if dtype == "b8":  # int8 0/1: any = max, all = min
        return "_ember_imax" if kind in ("sum", "max") else "_ember_imin"
    if kind == "sum":
        return "_ember_add"
    if kind == "prod":
        return "_ember_mul"
    if dtype in FLOAT_DTYPES:
        return "_ember_fmax" if kind == "max" else "_ember_fmin"
    return "_ember_imax" if kind == "max" else "_ember_imin"


# --------------------------------------------------------------------------
# the generator


def block_sizes(kernel: Kernel, schedule: Schedule) -> tuple[int, int]:
    """(XBLOCK, RBLOCK) of a schedule (RBLOCK is 1 for pointwise kernels)."""
    blk = tuple(schedule.block) or (1024,)
    x = blk[0]
    r = blk[1] if len(blk) > 1 else 1
    for b in (x, r):
        if b < 1 or b & (b - 1):
            raise TritonLoweringError(f"kernel {kernel.name!r}: block sizes must be powers "
                                      f"of two, got {schedule.block}")
    return x, r


# Masked-off lanes of the last block may compute offsets up to a block past the
# end; blocks never exceed 2**20 elements (Triton's limit), whatever a tuner picks.
BLOCK_SLACK = 1 << 20


def needs_int64(kernel: Kernel) -> bool:
    """Whether some offset of the kernel (or of a masked-off lane) may pass 2**31 - 1.

    Independent of block sizes, so a tuner may change them without regenerating.
    """
    dom = kernel.domain
    nouter = len(dom) - kernel.num_reduce
    if max([b.size for b in kernel.inputs + kernel.outputs] + [0]) + BLOCK_SLACK > INT32_MAX:
        return True
    if math.prod(dom) + BLOCK_SLACK > INT32_MAX:
        return True

    def bound(acc: Access, dims) -> int:
        return abs(acc.offset) + sum(abs(s) * max(d - 1, 0) for s, d in zip(acc.strides, dims))

    accs = [(i.attrs["access"], dom) for i in kernel.body if i.op in ("load", "gather")]
    accs += [(i.attrs["access"], dom[:nouter]) for i in kernel.epilogue
             if i.op in ("load", "gather")]
    if any(abs(i.attrs["stride"]) * i.attrs["extent"] + BLOCK_SLACK > INT32_MAX
           for i in kernel.body + kernel.epilogue if i.op == "gather"):
        return True
    accs += [(s.access, dom if (s.prologue or not kernel.num_reduce) else dom[:nouter])
             for s in kernel.stores]
    return any(bound(a, d) + BLOCK_SLACK > INT32_MAX for a, d in accs)


class _Gen:
    """Renders one kernel; ``load``/``index`` are the hooks the lowerings call."""

    def __init__(self, kernel: Kernel, schedule: Schedule, fn_name: str,
                 original: Kernel | None = None) -> None:
        self.kernel, self.schedule, self.fn_name = kernel, schedule, fn_name
        self.original = original or kernel
        self.lines: list[str] = []
        self.depth = 1
        dom = kernel.domain
        self.tile2d = is_tile2d(kernel, schedule)
        # axes from ``split`` on are the "r" part: the reduce axes, or the
        # innermost axis of a 2-D tiled pointwise kernel
        self.split = 1 if self.tile2d else kernel.num_reduce
        self.nouter = len(dom) - self.split
        self.xblock, self.rblock = block_sizes(kernel, schedule)
        self.i64 = needs_int64(kernel)
        self.ity = "tl.int64" if self.i64 else "tl.int32"
        self.in_epilogue = False
        self.index_vars: dict[int, str] = {}

    # -- text helpers
    def emit(self, line: str) -> None:
        self.lines.append("    " * self.depth + line)

    # -- addressing
    def _flat_strides(self, dims) -> list[int]:
        return [math.prod(dims[i + 1:]) for i in range(len(dims))]

    def _axes(self, part: str) -> list[int]:
        nd = len(self.kernel.domain)
        if not self.split:
            return list(range(nd)) if part == "x" else []
        return list(range(self.nouter)) if part == "x" else list(range(self.nouter, nd))

    def _part_expr(self, strides, part: str) -> str | None:
        """The offset contribution of the ``part`` axes ("x" or "r"), or None when zero."""
        dom = self.kernel.domain
        axes = [a for a in self._axes(part) if dom[a] > 1 and strides[a] != 0]
        if not axes:
            return None
        all_axes = self._axes(part)
        dims = [dom[a] for a in all_axes]
        flat = dict(zip(all_axes, self._flat_strides(dims)))
        base = "xoffs" if part == "x" else "roffs"
        live = [a for a in all_axes if dom[a] > 1]
        c = strides[live[0]] // flat[live[0]] if strides[live[0]] % flat[live[0]] == 0 else None
        if c is not None and all(strides[a] == c * flat[a] for a in live):
            return base if c == 1 else f"{c} * {base}"
        return " + ".join(f"{strides[a]} * {self.index_var(a)}" if strides[a] != 1
                          else self.index_var(a) for a in axes)

    def offset(self, acc: Access, rank_outer: bool) -> tuple[str, str | None]:
        """(offset expression, mask name or None for a constant address)."""
        strides = list(acc.strides)
        if rank_outer:  # an epilogue access: one stride per outer axis
            strides += [0] * self.kernel.num_reduce
        parts = {p: self._part_expr(strides, p) for p in ("x", "r")}
        terms = [e for e in (parts["x"], parts["r"]) if e]
        if acc.offset:
            terms.insert(0, str(acc.offset))
        expr = " + ".join(terms) if terms else "0"
        if not self.split:
            return expr, ("xmask" if parts["x"] else None)
        if parts["x"] and parts["r"]:
            return expr, "mask"
        if parts["x"]:
            return expr, "xmask"
        if parts["r"]:
            return expr, "rmask"
        return expr, None

    def index_var(self, axis: int) -> str:
        """The variable holding the domain index along ``axis`` (emitted once)."""
        if axis not in self.index_vars:
            dom = self.kernel.domain
            part = "r" if self.split and axis >= self.nouter else "x"
            axes = self._axes(part)
            dims = [dom[a] for a in axes]
            flat = dict(zip(axes, self._flat_strides(dims)))[axis]
            base = "xoffs" if part == "x" else "roffs"
            e = base if flat == 1 else f"({base} // {flat})"
            if axis != axes[0]:
                e = f"{e} % {dom[axis]}"
            name = f"i{axis}"
            self.emit(f"{name} = {e}")
            self.index_vars[axis] = name
        return self.index_vars[axis]

    # -- hooks for the lowerings
    def load(self, buf: int, acc: Access) -> str:
        expr, mask = self.offset(acc, rank_outer=self.in_epilogue)
        if mask is None:
            # A one-element load is a scalar; broadcast it to the block (one cached
            # address on a GPU): Triton's interpreter mishandles f64 scalars in the
            # bitwise ops of the NaN-aware helpers (maximum, pow, logical ops).
            return f"tl.load(in{buf} + {expr} + 0 * xoffs)"
        return f"tl.load(in{buf} + ({expr}), mask={mask}, other=0)"

    def gather(self, buf: int, acc: Access, stride: int, i: str) -> str:
        """A read at a computed address (the index block ``i`` is in range)."""
        expr, _ = self.offset(acc, rank_outer=self.in_epilogue)
        mask = "xmask" if self.in_epilogue else self.full_mask
        return f"tl.load(in{buf} + ({expr}) + {stride} * ({i}) + 0 * xoffs, mask={mask}, other=0)"

    def index(self, axis: int) -> str:
        if self.kernel.domain[axis] <= 1:
            return "tl.full([], 0, tl.int64)"
        v = self.index_var(axis)
        return f"{v}.to(tl.int64)" if not self.i64 else v

    # -- instruction lists
    def instrs(self, instrs, prefix: str) -> list[str]:
        names: list[str] = []
        for i, ins in enumerate(instrs):
            fn = LOWERINGS.get(ins.op)
            if fn is None:
                raise TritonLoweringError(f"kernel {self.kernel.name!r}: no Triton lowering for "
                                          f"op {ins.op!r}")
            cx = OpCtx(ins, [names[a] for a in ins.args], [instrs[a].dtype for a in ins.args], self)
            name = f"{prefix}{i}"
            self.emit(f"{name} = {fn(cx)}")
            names.append(name)
        return names

    def store(self, st, names, instrs, full: str, rank_outer: bool) -> None:
        out = self.kernel.outputs[st.output]
        val = to_storage(convert(names[st.value], instrs[st.value].dtype, out.dtype), out.dtype)
        expr, _ = self.offset(st.access, rank_outer=rank_outer)
        # the pointer always has the block's shape, so any value shape broadcasts to it
        self.emit(f"tl.store(out{st.output} + ({expr}) + {full}, {val}, mask={self.full_mask})")

    # -- whole kernels
    def render(self) -> str:
        k = self.kernel
        params = [f"in{i}" for i in range(len(k.inputs))] + [f"out{i}" for i in range(len(k.outputs))]
        params += ["XBLOCK: tl.constexpr", "RBLOCK: tl.constexpr"]
        head = ["@triton.jit", f"def {self.fn_name}({', '.join(params)}):"]
        pid = "tl.program_id(0).to(tl.int64)" if self.i64 else "tl.program_id(0)"
        arange = "tl.arange(0, {b})" + (".to(tl.int64)" if self.i64 else "")
        if math.prod(k.domain[:self.nouter]) == 0:
            self.emit("pass  # empty domain: never launched")
        elif self.tile2d:
            self.render_pointwise2d(pid, arange)
        elif not k.num_reduce:
            self.render_pointwise(pid, arange)
        else:
            self.render_reduction(pid, arange)
        doc = [f"    # {line}" for line in self.original.text().splitlines()]
        if k.domain != self.original.domain:
            doc.append(f"    # generated for the merged domain {list(k.domain)} "
                       f"num_reduce={k.num_reduce}")
        return "\n".join(head + doc + self.lines) + "\n"

    def render_pointwise(self, pid: str, arange: str) -> None:
        k = self.kernel
        n = math.prod(k.domain)
        self.emit(f"xoffs = {pid} * XBLOCK + {arange.format(b='XBLOCK')}")
        self.emit(f"xmask = xoffs < {n}")
        self.full_mask = "xmask"
        names = self.instrs(k.body, "v")
        zero = f"tl.full([XBLOCK], 0, {self.ity})"
        for st in k.stores:
            self.store(st, names, k.body, zero, rank_outer=False)

    def render_pointwise2d(self, pid: str, arange: str) -> None:
        # [XBLOCK rows of the leading axes, RBLOCK points of the innermost axis]:
        # a transposed read and a contiguous write both move whole tiles
        k = self.kernel
        rows, cols = math.prod(k.domain[:-1]), k.domain[-1]
        self.emit(f"xoffs = {pid} * XBLOCK + {arange.format(b='XBLOCK')}[:, None]")
        self.emit(f"xmask = xoffs < {rows}")
        pid1 = "tl.program_id(1).to(tl.int64)" if self.i64 else "tl.program_id(1)"
        self.emit(f"roffs = {pid1} * RBLOCK + {arange.format(b='RBLOCK')}[None, :]")
        self.emit(f"rmask = roffs < {cols}")
        self.emit("mask = xmask & rmask")
        self.full_mask = "mask"
        names = self.instrs(k.body, "v")
        full = f"tl.full([XBLOCK, RBLOCK], 0, {self.ity})"
        for st in k.stores:
            self.store(st, names, k.body, full, rank_outer=False)

    def render_reduction(self, pid: str, arange: str) -> None:
        k, sch = self.kernel, self.schedule
        outer, red = math.prod(k.outer), math.prod(k.reduce)
        self.emit(f"xoffs = {pid} * XBLOCK + {arange.format(b='XBLOCK')}[:, None]")
        self.emit(f"xmask = xoffs < {outer}")
        accs = [sch.accumulator(k, j) for j in range(len(k.reductions))]
        accty = ["tl.int8" if a == "b8" else compute_ty(a) for a in accs]
        # a row longer than the block must loop, whatever the schedule asked for
        looped = sch.reduction == "loop" or red > self.rblock
        prologue = [s for s in k.stores if s.prologue]
        full = f"tl.full([XBLOCK, RBLOCK], 0, {self.ity})"
        if red == 0:  # empty rows: every accumulator is its identity
            for j, r in enumerate(k.reductions):
                self.emit(f"r{j} = tl.full([XBLOCK, 1], {identity_literal(r.kind, accs[j])}, "
                          f"{accty[j]})")
        else:
            if looped:
                for j, r in enumerate(k.reductions):
                    self.emit(f"acc{j} = tl.full([XBLOCK, RBLOCK], {identity_literal(r.kind, accs[j])}, "
                              f"{accty[j]})")
                self.emit(f"for rbase in range(0, {red}, RBLOCK):")
                self.depth += 1
                self.emit(f"roffs = rbase + {arange.format(b='RBLOCK')}[None, :]")
            else:
                self.emit(f"roffs = {arange.format(b='RBLOCK')}[None, :]")
            self.emit(f"rmask = roffs < {red}")
            self.emit("mask = xmask & rmask")
            self.full_mask = "mask"
            saved = dict(self.index_vars)
            names = self.instrs(k.body, "v")
            for st in prologue:
                self.store(st, names, k.body, full, rank_outer=False)
            for j, r in enumerate(k.reductions):
                v = convert(names[r.value], k.body[r.value].dtype, r.dtype)
                v = f"{v}.to(tl.int8)" if accs[j] == "b8" else convert(v, r.dtype, accs[j])
                masked = f"tl.where(mask, {v}, {identity(r.kind, accs[j])})"
                comb = combiner(r.kind, accs[j])
                if looped:
                    self.emit(f"acc{j} = {comb}(acc{j}, {masked})")
                else:
                    self.emit(f"r{j} = tl.reduce({masked}, 1, {comb}, keep_dims=True)")
            if looped:
                self.depth -= 1
                for j, r in enumerate(k.reductions):
                    self.emit(f"r{j} = tl.reduce(acc{j}, 1, {combiner(r.kind, accs[j])}, "
                              f"keep_dims=True)")
            # reduce-axis indices are loop-local; outer ones stay valid
            self.index_vars = {a: v for a, v in saved.items() if a < self.nouter}
        for j, r in enumerate(k.reductions):
            if accs[j] == "b8":
                self.emit(f"a{j} = r{j} != 0")
            else:
                self.emit(f"a{j} = {convert(f'r{j}', accs[j], r.dtype)}")
        self.in_epilogue = True
        self.full_mask = "xmask"
        names = self.instrs(k.epilogue, "e")
        zero = f"tl.full([XBLOCK, 1], 0, {self.ity})"
        for st in k.stores:
            if not st.prologue:
                self.store(st, names, k.epilogue, zero, rank_outer=True)


def is_tile2d(kernel: Kernel, schedule: Schedule) -> bool:
    """Whether a pointwise kernel runs as 2-D tiles (a two-entry ``block``) over its
    merged domain (which then has at least two axes)."""
    return (not kernel.num_reduce and len(schedule.block) == 2 and len(kernel.domain) >= 2)


def launch_grid(kernel: Kernel, schedule: Schedule, xblock: int, rblock: int) -> tuple[int, ...]:
    """Programs per launch for block sizes ``xblock``/``rblock``."""
    if kernel.num_reduce:
        return (math.ceil(math.prod(kernel.outer) / xblock),)
    c = collapse_axes(kernel)
    if is_tile2d(c, schedule):
        return (math.ceil(math.prod(c.domain[:-1]) / xblock), math.ceil(c.domain[-1] / rblock))
    return (math.ceil(math.prod(kernel.domain) / xblock),)


def kernel_function_name(kernel: Kernel) -> str:
    """A Python identifier for the kernel's function."""
    name = re.sub(r"\W", "_", kernel.name) or "kernel"
    # never shadow the module's globals (tl, triton, libdevice, the _ember_ helpers)
    if name[0].isdigit() or name in ("tl", "triton", "libdevice") or name.startswith("_ember"):
        name = "k_" + name
    return name


def render(kernel: Kernel, schedule: Schedule, target: str) -> str:
    """The full module text for ``kernel`` under ``schedule`` for ``target`` ("cuda"/"interpret").

    Raises:
        TritonLoweringError: an op/dtype combination the contract does not define.
        ValueError: an ill-formed kernel (``Kernel.validate``).
    """
    if target not in TARGETS:
        raise ValueError(f"unknown Triton target {target!r}; expected one of {TARGETS}")
    kernel.validate()
    name = kernel_function_name(kernel)
    collapsed = collapse_axes(kernel)
    gen = _Gen(collapsed, schedule, name, kernel)
    body = gen.render()
    return (f"# Generated by ember for target {target!r}; {schedule.text()}\n"
            + HEADER + PRELUDES[target] + "\n\n" + body)


def signature(kernel: Kernel) -> dict[str, str]:
    """Triton's signature of the kernel function (for ahead-of-time compilation)."""
    sig = {f"in{i}": POINTER_SIG[b.dtype] for i, b in enumerate(kernel.inputs)}
    sig.update({f"out{i}": POINTER_SIG[b.dtype] for i, b in enumerate(kernel.outputs)})
    sig.update(XBLOCK="constexpr", RBLOCK="constexpr")
    return sig
