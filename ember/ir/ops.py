"""The op table: every Ember IR op is declared here exactly once.

Each :class:`OpDef` gives the op's kind, its attributes (name -> type), its
shape/dtype rule and its eager reference (a torch implementation used by the
runtime for library/view steps and by tests as the ground truth). Codegen
lowerings are separate tables keyed by the same names; tests fail when an op
lacks an entry in a table that should have it.

Kinds:
    pointwise  elementwise with numpy broadcasting; operands share one dtype
               (comparisons give b8), except ``where``'s b8 condition.
    source     no tensor inputs (full, iota).
    constant   a tensor literal.
    reduction  sum/prod/amax/amin/mean over ``axes`` with ``keepdim``.
    view       reshape/permute/expand/slice/squeeze/unsqueeze: reindexing only.
    movement   cat: data movement that is not a view.
    library    ops run through a library kernel (torch's own, on any device): mm/bmm/addmm,
               convolution, sort, topk, kthvalue, linear algebra, cdist, searchsorted,
               histograms (``library_linalg.py``). ``Kind.MATMUL`` is another name
               for it (the matmuls were the first library ops).
    fallback   an ATen op Ember does not know, run eagerly.
    kernel     a fused region (created by the fusion pass).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any, Callable

import torch

from . import dtypes
from .graph import TensorType

if TYPE_CHECKING:
    from .graph import Node


class IRError(ValueError):
    """An op applied to inputs its shape/dtype rule rejects."""


class Kind(str, Enum):
    """What an op is, for every pass and backend (a ``str``, so it prints as its value)."""

    POINTWISE = "pointwise"
    SOURCE = "source"
    CONSTANT = "constant"
    REDUCTION = "reduction"
    SCAN = "scan"
    VIEW = "view"
    MOVEMENT = "movement"
    GATHER = "gather"
    SCATTER = "scatter"
    LIBRARY = "library"
    MATMUL = "library"  # an alias of LIBRARY (Enum: same value, same member)
    FALLBACK = "fallback"
    KERNEL = "kernel"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class OpDef:
    """Everything Ember knows about one op, in one place.

    Attributes:
        name: the IR op name.
        kind: see :class:`Kind`.
        attrs: attribute name -> accepted Python type(s).
        infer_rule: the shape/dtype rule.
        eager: the eager reference, ``(*tensors, **attrs) -> Tensor | tuple``.
        arity: number of tensor inputs (None: variadic).
        float_only: operands must be floating point.
        dtypes: the operand dtypes the op is defined on.
        instr: the kernel instruction (``codegen/kernel.py`` ``Instr.op``) a
            pointwise op lowers to; None for ops that are not scalar instructions.
        transcendental: expensive math (exp, erf, pow, ...): fusion counts the cost
            of recomputing it in several kernels.
        aten: ATen overloads (``"aten.exp.default"``) the importer maps 1:1 onto
            this op (operands promoted to the result dtype first).
        random: draws from the global random generator (a library step of an ATen op
            tagged ``nondeterministic_seeded``): passes never merge, drop or reorder it.
    """

    name: str
    kind: Kind
    attrs: dict[str, type | tuple[type, ...]]
    infer_rule: Callable[["Node"], list[TensorType]]
    eager: Callable[..., Any] | None
    arity: int | None
    float_only: bool = False
    dtypes: tuple[str, ...] = dtypes.DTYPES
    instr: str | None = None
    transcendental: bool = False
    aten: tuple[str, ...] = ()
    random: bool = False

    def normalize(self, attrs: dict[str, Any]) -> dict[str, Any]:
        unknown = set(attrs) - set(self.attrs)
        if unknown:
            raise IRError(f"{self.name}: unknown attributes {sorted(unknown)}")
        missing = set(self.attrs) - set(attrs)
        if missing:
            raise IRError(f"{self.name}: missing attributes {sorted(missing)}")
        out = {}
        for k, v in attrs.items():
            v = _freeze(v)
            if not isinstance(v, self.attrs[k]):
                raise IRError(f"{self.name}: attribute {k}={v!r} is not {self.attrs[k]}")
            if k == "dtype" and v is not None and v not in dtypes.ALL:
                raise IRError(f"{self.name}: unknown dtype {v!r}")
            out[k] = v
        return out

    def infer(self, node: "Node") -> list[TensorType]:
        if self.arity is not None and len(node.inputs) != self.arity:
            raise IRError(f"{self.name} takes {self.arity} inputs, got {len(node.inputs)}")
        out = self.infer_rule(node)
        if not set(dtypes.COMPLEX) & set(self.dtypes) and any(
                t.dtype in dtypes.COMPLEX for t in [*(v.type for v in node.inputs), *out]):
            raise IRError(f"{self.name}: complex values (only library steps take them)")
        return out


def _freeze(v: Any) -> Any:
    """Lists (at any depth) become tuples, so attributes are immutable and hashable."""
    return tuple(_freeze(x) for x in v) if isinstance(v, (list, tuple)) else v


OPS: dict[str, OpDef] = {}


def get_op(name: str) -> OpDef:
    try:
        return OPS[name]
    except KeyError:
        raise KeyError(f"unknown Ember op {name!r}") from None


def draws_random(n: "Node") -> bool:
    """Whether ``n`` draws from the global generator: a random library op, or a
    fallback (or eager node) of an ATen op tagged ``nondeterministic_seeded``."""
    if n.op == "fallback":
        target = resolve_target(n.attrs["target"])
        return torch.Tag.nondeterministic_seeded in getattr(target, "tags", ())
    if n.op == "eager":
        return get_op(n.attrs["of"]).random
    return get_op(n.op).random


def _register(op: OpDef) -> None:
    assert op.name not in OPS, op.name
    OPS[op.name] = op


# -- shape helpers ---------------------------------------------------------------
def broadcast_shapes(*shapes: tuple[int, ...]) -> tuple[int, ...]:
    rank = max((len(s) for s in shapes), default=0)
    out = []
    for i in range(rank):
        dims = {s[len(s) - rank + i] for s in shapes if len(s) - rank + i >= 0}
        dims.discard(1)
        if len(dims) > 1:
            raise IRError(f"shapes {shapes} do not broadcast")
        out.append(dims.pop() if dims else 1)
    return tuple(out)


def norm_axis(axis: int, rank: int) -> int:
    if not -max(rank, 1) <= axis < max(rank, 1):
        raise IRError(f"axis {axis} out of range for rank {rank}")
    return axis % max(rank, 1)


def _same_dtype(node: "Node") -> str:
    ds = {v.dtype for v in node.inputs}
    if len(ds) != 1:
        raise IRError(f"{node.op}: operands must share a dtype, got {sorted(ds)}")
    return ds.pop()


# -- pointwise --------------------------------------------------------------------
def _pointwise_rule(result: str | None, float_only: bool, name: str):
    def rule(node: "Node") -> list[TensorType]:
        dt = _same_dtype(node)
        if float_only and not dtypes.is_float(dt):
            raise IRError(f"{name} needs a float operand, got {dt}")
        if dtypes.is_float(dt) and name in _INT_ONLY:
            raise IRError(f"{name} needs an integer or bool operand, got {dt}")
        if dt == "b8" and name in _NO_BOOL:
            raise IRError(f"{name} is not defined on b8 (as in PyTorch)")
        if (dtypes.is_float(dt) or dt == "b8") and name in _SHIFTS:
            raise IRError(f"{name} needs integer operands, got {dt}")
        if dt in ("f16", "bf16") and name == "nextafter":
            raise IRError(f"nextafter of {dt}: kernels compute {dt} in f32, whose bits differ")
        if dt in ("f16", "bf16") and name in _NO_HALF:
            raise IRError(f"{name} is not defined on {dt} (as in PyTorch)")
        shape = broadcast_shapes(*(v.shape for v in node.inputs))
        return [TensorType(shape, result or dt)]

    return rule


def _where_rule(node: "Node") -> list[TensorType]:
    c, a, b = node.inputs
    if c.dtype != "b8":
        raise IRError(f"where: condition must be b8, got {c.dtype}")
    if a.dtype != b.dtype:
        raise IRError(f"where: branches must share a dtype, got {a.dtype}, {b.dtype}")
    return [TensorType(broadcast_shapes(c.shape, a.shape, b.shape), a.dtype)]


def _cast_rule(node: "Node") -> list[TensorType]:
    return [TensorType(node.inputs[0].shape, node.attrs["dtype"])]


def _relu(x):
    return torch.relu(x) if x.dtype != torch.bool else x


def _logical_not(x):
    return torch.logical_not(x)


def _divisor(a, b):
    """b for the integer division ops, with 0 and (a = MIN) / -1 replaced by 1: the IR
    ops are total, as the kernels compute them (the importer adds eager's
    ZeroDivisionError as an assert; eager's int32/int64 MIN / -1 traps)."""
    if a.dtype.is_floating_point or a.dtype == torch.bool:
        return b
    bad = b == 0
    if a.dtype != torch.uint8:
        bad = bad | ((a == torch.iinfo(a.dtype).min) & (b == -1))
    return torch.where(bad, torch.ones_like(b), b)


def _floordiv(a, b):
    return torch.div(a, _divisor(a, b), rounding_mode="floor")


def _truncdiv(a, b):
    return torch.div(a, _divisor(a, b), rounding_mode="trunc")


def _remainder(a, b):
    return torch.remainder(a, _divisor(a, b))


def _fmod(a, b):
    return torch.fmod(a, _divisor(a, b))


# Arithmetic PyTorch refuses on bool tensors.
_NO_BOOL = {"neg", "abs", "sub", "floordiv", "truncdiv", "remainder", "fmod"}
# Bitwise ops: integers and bool only (PyTorch refuses floats).
_INT_ONLY = {"bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not"}
# Shifts: integers only (not bool); a shift by a negative amount or by the width
# or more gives eager's value (0, or the sign for a right shift of a signed value).
_SHIFTS = {"bitwise_left_shift", "bitwise_right_shift"}
# Special functions PyTorch does not implement for f16/bf16.
_NO_HALF = {"erfcx", "log_ndtr", "ndtri"}
_T = True  # transcendental

# name, eager, float_only, transcendental, ATen overloads (1:1 imports)
_UNARY = [
    ("neg", torch.neg, False, False), ("abs", torch.abs, False, False),
    ("relu", _relu, False, False),
    ("exp", torch.exp, True, _T), ("exp2", torch.exp2, True, _T), ("expm1", torch.expm1, True, _T),
    ("log", torch.log, True, _T), ("log2", torch.log2, True, _T), ("log1p", torch.log1p, True, _T),
    ("tanh", torch.tanh, True, _T), ("sigmoid", torch.sigmoid, True, _T),
    ("erf", torch.erf, True, _T), ("sqrt", torch.sqrt, True, False),
    ("rsqrt", torch.rsqrt, True, False), ("reciprocal", torch.reciprocal, True, False),
    ("sin", torch.sin, True, _T), ("cos", torch.cos, True, _T),
    ("floor", torch.floor, True, False), ("ceil", torch.ceil, True, False),
    ("trunc", torch.trunc, True, False),
    ("asin", torch.asin, True, _T), ("acos", torch.acos, True, _T), ("atan", torch.atan, True, _T),
    ("asinh", torch.asinh, True, _T), ("acosh", torch.acosh, True, _T),
    ("atanh", torch.atanh, True, _T),
]
# Special functions: name, eager, the ATen overload imported 1:1 (all float-only,
# transcendental; integer operands are promoted by the importer as for exp).
_SPECIAL = [
    ("erfc", torch.erfc, "aten.erfc.default"), ("erfinv", torch.erfinv, "aten.erfinv.default"),
    ("lgamma", torch.lgamma, "aten.lgamma.default"),
    ("digamma", torch.digamma, "aten.digamma.default"),
    ("i0", torch.i0, "aten.i0.default"), ("i0e", torch.special.i0e, "aten.special_i0e.default"),
    ("i1", torch.special.i1, "aten.special_i1.default"),
    ("i1e", torch.special.i1e, "aten.special_i1e.default"),
    ("erfcx", torch.special.erfcx, "aten.special_erfcx.default"),
    ("log_ndtr", torch.special.log_ndtr, "aten.special_log_ndtr.default"),
    ("ndtri", torch.special.ndtri, "aten.special_ndtri.default"),
]
# Bessel and Airy functions (codegen/bessel_algos.py): torch.special.<name>, f32/f64 only
_BESSEL = ("bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "modified_bessel_i0",
           "modified_bessel_i1", "modified_bessel_k0", "modified_bessel_k1",
           "scaled_modified_bessel_k0", "scaled_modified_bessel_k1", "spherical_bessel_j0",
           "airy_ai")
_SPECIAL += [(n, getattr(torch.special, n), f"aten.special_{n}.default") for n in _BESSEL]
_NO_HALF |= set(_BESSEL) | {"nextafter"}  # nextafter steps in the dtype's own bits
# Orthogonal polynomials (codegen/poly_algos.py): torch.special.<name>(x, n), binary, f32/f64
# only; n (a tensor or a scalar, in the result dtype) is truncated to int64 as ATen does
POLY = ("chebyshev_polynomial_t", "chebyshev_polynomial_u", "chebyshev_polynomial_v",
        "chebyshev_polynomial_w", "shifted_chebyshev_polynomial_t",
        "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v",
        "shifted_chebyshev_polynomial_w", "hermite_polynomial_h", "hermite_polynomial_he",
        "laguerre_polynomial_l", "legendre_polynomial_p")
_NO_HALF |= set(POLY) | {"zeta"}  # zeta (codegen/zeta_algo.py): Hurwitz zeta(x, q), binary


def _trigamma(x):
    return torch.polygamma(1, x)

# name, eager, float_only, result dtype (None = operand dtype), transcendental, ATen overloads
_BINARY = [
    ("add", torch.add, False, None, False, ("Tensor", "Scalar")),
    ("sub", torch.sub, False, None, False, ("Tensor", "Scalar")),
    ("mul", torch.mul, False, None, False, ("Tensor", "Scalar")),
    ("div", torch.div, True, None, False, ("Tensor", "Scalar")),
    ("pow", torch.pow, True, None, _T, ("Tensor_Tensor", "Scalar")),
    ("maximum", torch.maximum, False, None, False, ("default",)),
    ("minimum", torch.minimum, False, None, False, ("default",)),
    ("logical_and", torch.logical_and, False, "b8", False, ()),
    ("logical_or", torch.logical_or, False, "b8", False, ()),
    ("atan2", torch.atan2, True, None, _T, ("default",)),
    # Integer and float division with rounding, and the two remainders, exactly as
    # ATen computes them (float floordiv: c10::div_floor_floating). Integer division
    # by zero (eager raises) divides by 1 here and in kernels; the importer guards
    # compiled integer divisions with an assert that raises eager's error.
    ("floordiv", _floordiv, False, None, False, ()),
    ("truncdiv", _truncdiv, False, None, False, ()),
    ("remainder", _remainder, False, None, False, ()),
    ("fmod", _fmod, False, None, False, ()),
    ("bitwise_and", torch.bitwise_and, False, None, False, ("Tensor", "Scalar")),
    ("bitwise_or", torch.bitwise_or, False, None, False, ("Tensor", "Scalar")),
    ("bitwise_xor", torch.bitwise_xor, False, None, False, ("Tensor", "Scalar")),
    ("bitwise_left_shift", torch.bitwise_left_shift, False, None, False,
     ("Tensor", "Tensor_Scalar", "Scalar_Tensor")),
    ("bitwise_right_shift", torch.bitwise_right_shift, False, None, False,
     ("Tensor", "Tensor_Scalar", "Scalar_Tensor")),
    ("eq", torch.eq, False, "b8", False, ()), ("ne", torch.ne, False, "b8", False, ()),
    ("lt", torch.lt, False, "b8", False, ()), ("le", torch.le, False, "b8", False, ()),
    ("gt", torch.gt, False, "b8", False, ()), ("ge", torch.ge, False, "b8", False, ()),
]
# Comparisons are imported with torch.result_type promotion (frontend/importer.py).
COMPARISONS = ("eq", "ne", "lt", "le", "gt", "ge")


def _operand_dtypes(name: str, float_only: bool) -> tuple[str, ...]:
    if float_only:
        return tuple(d for d in dtypes.FLOATS if d not in ("f16", "bf16") or name not in _NO_HALF)
    if name in _INT_ONLY:
        return tuple(d for d in dtypes.DTYPES if not dtypes.is_float(d))
    if name in _SHIFTS:
        return tuple(d for d in dtypes.DTYPES if not dtypes.is_float(d) and d != "b8")
    return tuple(d for d in dtypes.DTYPES if d != "b8") if name in _NO_BOOL else dtypes.DTYPES


def _pointwise(name: str, eager, arity: int, float_only: bool, result: str | None,
               transcendental: bool, aten: tuple[str, ...], rule=None) -> None:
    _register(OpDef(name, Kind.POINTWISE, {}, rule or _pointwise_rule(result, float_only, name),
                    eager, arity, float_only, _operand_dtypes(name, float_only), name,
                    transcendental, aten))


for _name, _fn, _fo, _tr in _UNARY:
    _pointwise(_name, (lambda f: lambda x: f(x))(_fn), 1, _fo, None, _tr,
               (f"aten.{_name}.default",))
for _name, _fn, _target in _SPECIAL:
    _pointwise(_name, (lambda f: lambda x: f(x))(_fn), 1, True, None, True, (_target,))
# polygamma(1, x); the importer maps aten.polygamma of order 0 / 1 to digamma / trigamma
_pointwise("trigamma", _trigamma, 1, True, None, True, ())
for _name in POLY:
    _pointwise(_name, (lambda f: lambda x, n: f(x, n))(getattr(torch.special, _name)), 2, True,
               None, True, tuple(f"aten.special_{_name}.{o}" for o in ("default", "x_scalar",
                                                                          "n_scalar")))
_pointwise("zeta", lambda x, q: torch.special.zeta(x, q), 2, True, None, True,
           tuple(f"aten.special_zeta.{o}" for o in ("default", "self_scalar", "other_scalar")))
_pointwise("logical_not", _logical_not, 1, False, "b8", False, ())
# the sign bit: of -0.0 and of a negative NaN too (the importer maps aten/prims signbit)
_pointwise("signbit", torch.signbit, 1, False, "b8", False, ())
_pointwise("bitwise_not", torch.bitwise_not, 1, False, None, False, ("aten.bitwise_not.default",))
for _name, _fn, _fo, _res, _tr, _overloads in _BINARY:
    _pointwise(_name, (lambda f: lambda a, b: f(a, b))(_fn), 2, _fo, _res, _tr,
               tuple(f"aten.{_name}.{o}" for o in _overloads))
_pointwise("where", torch.where, 3, False, None, False, (), rule=_where_rule)
# IEEE bit editing (codegen/mlir/bits.py); the importer maps aten.frexp to both halves
_pointwise("nextafter", torch.nextafter, 2, True, None, False, ("aten.nextafter.default",))
_pointwise("frexp_mantissa", lambda x: torch.frexp(x).mantissa, 1, True, None, False, ())
_pointwise("frexp_exponent", lambda x: torch.frexp(x).exponent, 1, True, "i32", False, ())
_register(OpDef("cast", Kind.POINTWISE, {"dtype": str}, _cast_rule,
                lambda x, dtype: x.to(dtypes.to_torch(dtype)), 1, instr="cast"))


# -- sources and constants ---------------------------------------------------------
def _full_rule(node: "Node") -> list[TensorType]:
    if any(s < 0 for s in node.attrs["shape"]):
        raise IRError(f"full: negative shape {node.attrs['shape']}")
    return [TensorType(node.attrs["shape"], node.attrs["dtype"])]


def _full(shape, value, dtype):
    return torch.full(shape, value, dtype=dtypes.to_torch(dtype))


def _iota_rule(node: "Node") -> list[TensorType]:
    if node.attrs["length"] < 0:
        raise IRError("iota: negative length")
    return [TensorType((node.attrs["length"],), node.attrs["dtype"])]


def _iota(length, start, step, dtype):
    return torch.arange(length, dtype=torch.float64 if isinstance(start + step, float)
                        else torch.int64).mul(step).add(start).to(dtypes.to_torch(dtype))


def _constant_rule(node: "Node") -> list[TensorType]:
    t = node.attrs["value"]
    return [TensorType(tuple(t.shape), dtypes.from_torch(t.dtype))]


_NUM = (bool, int, float)
_register(OpDef("full", Kind.SOURCE, {"shape": tuple, "value": _NUM, "dtype": str}, _full_rule,
                _full, 0))
# iota: start + step * i for i in range(length); the arange of core ATen.
_register(OpDef("iota", Kind.SOURCE, {"length": int, "start": _NUM, "step": _NUM, "dtype": str},
                _iota_rule, _iota, 0))
_register(OpDef("constant", Kind.CONSTANT, {"value": torch.Tensor}, _constant_rule,
                lambda value: value, 0, dtypes=dtypes.ALL))


# -- reductions --------------------------------------------------------------------
def _reduce_rule(node: "Node") -> list[TensorType]:
    (x,) = node.inputs
    axes = node.attrs["axes"]
    if tuple(sorted(set(axes))) != axes or any(not 0 <= a < max(x.rank, 1) for a in axes):
        raise IRError(f"{node.op}: axes {axes} must be sorted, unique, in [0, {x.rank})")
    if node.op == "mean" and not dtypes.is_float(x.dtype):
        raise IRError(f"mean needs a float operand, got {x.dtype}")
    if node.op in ("sum", "prod") and x.dtype == "b8":
        raise IRError(f"{node.op} of b8: cast to an integer dtype first (PyTorch sums bools as i64)")
    if node.op in ("amax", "amin") and any(x.shape[a] == 0 for a in axes if x.rank):
        raise IRError(f"{node.op} over a zero-size axis has no identity")
    if node.attrs["keepdim"]:
        shape = tuple(1 if i in axes else s for i, s in enumerate(x.shape))
    else:
        shape = tuple(s for i, s in enumerate(x.shape) if i not in axes)
    return [TensorType(shape, x.dtype)]


def _sum(x, axes, keepdim):
    # Ember's sum keeps the operand dtype (the importer casts first, as ATen's dtype= does).
    return torch.sum(x, axes, keepdim=keepdim, dtype=x.dtype) if axes else x.clone()


def _prod(x, axes, keepdim):
    out = x
    for a in sorted(axes, reverse=True):
        out = torch.prod(out, a, keepdim=keepdim, dtype=x.dtype)
    return out if axes else x.clone()


def _amax(x, axes, keepdim):
    return torch.amax(x, axes, keepdim=keepdim) if axes else x.clone()


def _amin(x, axes, keepdim):
    return torch.amin(x, axes, keepdim=keepdim) if axes else x.clone()


def _mean(x, axes, keepdim):
    return torch.mean(x, axes, keepdim=keepdim) if axes else x.clone()


for _name, _fn in (("sum", _sum), ("prod", _prod), ("amax", _amax), ("amin", _amin),
                   ("mean", _mean)):
    _register(OpDef(_name, Kind.REDUCTION, {"axes": tuple, "keepdim": bool}, _reduce_rule, _fn, 1))


# -- scans (inclusive, along one axis; the result keeps the operand's shape and dtype)
def _scan_rule(node: "Node") -> list[TensorType]:
    (x,), axis = node.inputs, node.attrs["axis"]
    if not 0 <= axis < max(x.rank, 1):
        raise IRError(f"{node.op}: axis {axis} out of range for rank {x.rank}")
    if x.dtype == "b8":
        raise IRError(f"{node.op} of b8: cast to an integer dtype first (PyTorch scans bools "
                      f"as i64)")
    return [TensorType(x.shape, x.dtype)]


def _scan(fn):
    # Ember's scans keep the operand dtype (the importer casts first, as ATen's dtype= does)
    return lambda x, axis: fn(x, axis, dtype=x.dtype) if x.dim() else x.clone()


_register(OpDef("cumsum", Kind.SCAN, {"axis": int}, _scan_rule, _scan(torch.cumsum), 1))
_register(OpDef("cumprod", Kind.SCAN, {"axis": int}, _scan_rule, _scan(torch.cumprod), 1))


# -- views -------------------------------------------------------------------------
def _reshape_rule(node: "Node") -> list[TensorType]:
    (x,), shape = node.inputs, node.attrs["shape"]
    if any(s < 0 for s in shape) or math.prod(shape) != x.type.numel:
        raise IRError(f"reshape: cannot reshape {x.shape} to {shape}")
    return [TensorType(shape, x.dtype)]


def _permute_rule(node: "Node") -> list[TensorType]:
    (x,), dims = node.inputs, node.attrs["dims"]
    if sorted(dims) != list(range(x.rank)):
        raise IRError(f"permute: {dims} is not a permutation of rank {x.rank}")
    return [TensorType(tuple(x.shape[d] for d in dims), x.dtype)]


def _expand_rule(node: "Node") -> list[TensorType]:
    (x,), shape = node.inputs, node.attrs["shape"]
    if len(shape) < x.rank:
        raise IRError(f"expand: {shape} has lower rank than {x.shape}")
    lead = len(shape) - x.rank
    for i, s in enumerate(x.shape):
        if s != 1 and s != shape[lead + i]:
            raise IRError(f"expand: cannot expand {x.shape} to {shape}")
    return [TensorType(shape, x.dtype)]


def _slice_rule(node: "Node") -> list[TensorType]:
    (x,), a = node.inputs, node.attrs
    if not 0 <= a["axis"] < x.rank or a["step"] < 1:
        raise IRError(f"slice: bad axis/step {a}")
    n = x.shape[a["axis"]]
    if not 0 <= a["start"] <= a["end"] <= n:
        raise IRError(f"slice: [{a['start']}:{a['end']}] out of [0, {n}] (normalize first)")
    length = (a["end"] - a["start"] + a["step"] - 1) // a["step"]
    shape = list(x.shape)
    shape[a["axis"]] = length
    return [TensorType(tuple(shape), x.dtype)]


def _squeeze_rule(node: "Node") -> list[TensorType]:
    (x,), axes = node.inputs, node.attrs["axes"]
    if any(not 0 <= a < x.rank or x.shape[a] != 1 for a in axes):
        raise IRError(f"squeeze: axes {axes} must be size-1 dims of {x.shape}")
    return [TensorType(tuple(s for i, s in enumerate(x.shape) if i not in axes), x.dtype)]


def _unsqueeze_rule(node: "Node") -> list[TensorType]:
    (x,), axis = node.inputs, node.attrs["axis"]
    if not 0 <= axis <= x.rank:
        raise IRError(f"unsqueeze: axis {axis} out of [0, {x.rank}]")
    shape = list(x.shape)
    shape.insert(axis, 1)
    return [TensorType(tuple(shape), x.dtype)]


def _unfold_rule(node: "Node") -> list[TensorType]:
    (x,), a = node.inputs, node.attrs
    axis, size, step = a["axis"], a["size"], a["step"]
    n = x.shape[axis] if x.rank else 1
    if not 0 <= axis < max(x.rank, 1) or size < 0 or step < 1 or size > n:
        raise IRError(f"unfold: bad axis/size/step {a} for {x.shape}")
    shape = list(x.shape) if x.rank else []
    if x.rank:
        shape[axis] = (n - size) // step + 1
    return [TensorType(tuple(shape) + (size,), x.dtype)]


def _as_strided_rule(node: "Node") -> list[TensorType]:
    # a view of a 1-D operand (the importer flattens a contiguous tensor first):
    # element i of the result is x[offset + sum(i_d * stride_d)]
    (x,), a = node.inputs, node.attrs
    size, stride, offset = a["size"], a["stride"], a["offset"]
    if x.rank != 1 or len(size) != len(stride) or offset < 0 or any(
            s < 0 for s in size + stride):
        raise IRError(f"as_strided: needs a 1-D operand and sizes/strides >= 0, got "
                      f"{x.shape} {a}")
    if math.prod(size) and offset + sum((n - 1) * st for n, st in zip(size, stride)) >= x.shape[0]:
        raise IRError(f"as_strided: {a} reaches past the {x.shape[0]} elements")
    return [TensorType(tuple(size), x.dtype)]


def _as_strided(x, size, stride, offset):
    # offsets and strides count elements of the (1-D, maybe strided) operand
    s0 = x.stride(0) if x.dim() else 1
    return x.as_strided(size, [st * s0 for st in stride], x.storage_offset() + offset * s0)


def _slice(x, axis, start, end, step):
    return x[(slice(None),) * axis + (slice(start, end, step),)]


def _squeeze(x, axes):
    return x.squeeze(axes) if axes else x.view(x.shape)


_register(OpDef("reshape", Kind.VIEW, {"shape": tuple}, _reshape_rule,
                lambda x, shape: x.reshape(shape), 1))
_register(OpDef("permute", Kind.VIEW, {"dims": tuple}, _permute_rule,
                lambda x, dims: x.permute(dims), 1, dtypes=dtypes.ALL))
_register(OpDef("expand", Kind.VIEW, {"shape": tuple}, _expand_rule,
                lambda x, shape: x.expand(shape), 1, dtypes=dtypes.ALL))
_register(OpDef("slice", Kind.VIEW, {"axis": int, "start": int, "end": int, "step": int},
                _slice_rule, _slice, 1, dtypes=dtypes.ALL))
_register(OpDef("squeeze", Kind.VIEW, {"axes": tuple}, _squeeze_rule, _squeeze, 1, dtypes=dtypes.ALL))
_register(OpDef("unsqueeze", Kind.VIEW, {"axis": int}, _unsqueeze_rule,
                lambda x, axis: x.unsqueeze(axis), 1, dtypes=dtypes.ALL))
_register(OpDef("unfold", Kind.VIEW, {"axis": int, "size": int, "step": int}, _unfold_rule,
                lambda x, axis, size, step: x.unfold(axis, size, step), 1))
_register(OpDef("as_strided", Kind.VIEW, {"size": tuple, "stride": tuple, "offset": int},
                _as_strided_rule, _as_strided, 1))


# -- data movement -----------------------------------------------------------------
def _cat_rule(node: "Node") -> list[TensorType]:
    xs, axis = node.inputs, node.attrs["axis"]
    if not xs:
        raise IRError("cat: needs at least one input")
    dt = _same_dtype(node)
    rank = xs[0].rank
    if not 0 <= axis < rank:
        raise IRError(f"cat: axis {axis} out of range for rank {rank}")
    for x in xs:
        if x.rank != rank or any(x.shape[i] != xs[0].shape[i] for i in range(rank) if i != axis):
            raise IRError(f"cat: shapes {[x.shape for x in xs]} differ off axis {axis}")
    shape = list(xs[0].shape)
    shape[axis] = sum(x.shape[axis] for x in xs)
    return [TensorType(tuple(shape), dt)]


_register(OpDef("cat", Kind.MOVEMENT, {"axis": int}, _cat_rule,
                lambda *xs, axis: torch.cat(xs, axis), None))


def _take_rule(node: "Node") -> list[TensorType]:
    x, idx = node.inputs
    axis = node.attrs["axis"]
    if not 0 <= axis < x.rank:
        raise IRError(f"take: axis {axis} out of range for {x.shape}")
    if idx.dtype not in ("i32", "i64"):
        raise IRError(f"take: indices must be i32 or i64, not {idx.dtype}")
    if x.shape[axis] == 0 and idx.type.numel:
        raise IRError("take: indexing an empty axis")
    return [TensorType(x.shape[:axis] + idx.shape + x.shape[axis + 1:], x.dtype)]


def _take(x, idx, axis, wrap):
    flat = idx.reshape(-1).long()
    if wrap:  # advanced indexing: -1 is the last element
        flat = torch.where(flat < 0, flat + x.shape[axis], flat)
    out = torch.index_select(x, axis, flat)  # raises on an index out of range
    return out.reshape(x.shape[:axis] + idx.shape + x.shape[axis + 1:])


# take(x, idx, axis): x with its axis ``axis`` replaced by the dims of ``idx``, each
# element read at the position idx holds (embedding, index_select, x[idx]). With
# ``wrap`` negative indices count from the end. Indices out of range are an error
# (eager's), checked by the importer's assertion; kernels clamp them for safety.
_register(OpDef("take", Kind.GATHER, {"axis": int, "wrap": bool}, _take_rule, _take, 2))


def _take_along_rule(node: "Node") -> list[TensorType]:
    x, idx = node.inputs
    axis = node.attrs["axis"]
    if idx.dtype not in ("i32", "i64"):
        raise IRError(f"take_along: indices must be i32 or i64, not {idx.dtype}")
    if idx.rank != x.rank or not 0 <= axis < x.rank:
        raise IRError(f"take_along: indices {idx.shape} and {x.shape} differ in rank or axis")
    if any(i > n for d, (i, n) in enumerate(zip(idx.shape, x.shape)) if d != axis):
        raise IRError(f"take_along: indices {idx.shape} larger than {x.shape} off axis {axis}")
    if x.shape[axis] == 0 and idx.type.numel:
        raise IRError("take_along: indexing an empty axis")
    return [TensorType(idx.shape, x.dtype)]


# take_along(x, idx, axis): torch.gather; out[p] = x[p with p[axis] = idx[p]].
_register(OpDef("take_along", Kind.GATHER, {"axis": int}, _take_along_rule,
                lambda x, idx, axis: torch.gather(x, axis, idx.long()), 2))


# -- matmul (library ops) ------------------------------------------------------------------------
def _mm_rule(node: "Node") -> list[TensorType]:
    a, b = node.inputs[-2:]
    dt = _same_dtype(node)
    if dt == "b8":
        raise IRError(f"{node.op} is not defined on b8")
    batch = node.op == "bmm"
    rank = 3 if batch else 2
    if a.rank != rank or b.rank != rank or a.shape[-1] != b.shape[-2] or (
            batch and a.shape[0] != b.shape[0]):
        raise IRError(f"{node.op}: bad operand shapes {a.shape} @ {b.shape}")
    if node.op == "addmm":
        broadcast_shapes(node.inputs[0].shape, (a.shape[0], b.shape[1]))
    return [TensorType(a.shape[:-1] + b.shape[-1:], dt)]


def _addmm(bias, a, b, beta, alpha):
    return torch.addmm(bias, a, b, beta=beta, alpha=alpha)


_register(OpDef("mm", Kind.LIBRARY, {}, _mm_rule, torch.mm, 2))
_register(OpDef("bmm", Kind.LIBRARY, {}, _mm_rule, torch.bmm, 2))
_register(OpDef("addmm", Kind.LIBRARY, {"beta": _NUM, "alpha": _NUM}, _mm_rule, _addmm, 3))


# -- fallback and kernel --------------------------------------------------------------
def _explicit_types(node: "Node") -> list[TensorType]:
    raise IRError(f"{node.op} nodes need explicit output types")


# target: the ATen overload's qualified name ("aten.foo.default"); args/kwargs: the
# call's arguments with tensors replaced by InputRef(i) into node.inputs.
_register(OpDef("fallback", Kind.FALLBACK, {"target": str, "args": tuple, "kwargs": tuple},
                _explicit_types, None, None))
_register(OpDef("kernel", Kind.KERNEL, {"name": str}, _explicit_types, None, None))


def _eager_rule(node: "Node") -> list[TensorType]:
    from .graph import Node as _Node

    op = get_op(node.attrs["of"])
    if op.kind not in (Kind.POINTWISE, Kind.SOURCE, Kind.REDUCTION, Kind.SCAN, Kind.VIEW,
                       Kind.MOVEMENT, Kind.GATHER, Kind.SCATTER, Kind.LIBRARY):
        raise IRError(f"eager: {op.name} is not an op that runs eagerly")
    attrs = op.normalize(dict(node.attrs["attrs"]))
    return op.infer(_Node(op.name, node.inputs, attrs))


# An Ember op (``of``) that runs on the eager side (partition moved it there): its eager
# reference is called with ``attrs`` (name, value pairs). Types follow the op's rule.
_register(OpDef("eager", Kind.FALLBACK, {"of": str, "attrs": tuple}, _eager_rule, None, None,
                dtypes=dtypes.ALL))


def resolve_target(name: str) -> Callable[..., Any]:
    """The ATen/prims overload named ``"aten.add.Tensor"`` (a fallback node's target)."""
    ns, op, overload = name.split(".")
    return getattr(getattr(getattr(torch.ops, ns), op), overload)


@dataclass(frozen=True, slots=True)
class InputRef:
    """A tensor argument of a fallback call: ``node.inputs[index]``."""

    index: int

    def __repr__(self) -> str:
        return f"${self.index}"


def ops_of_kind(*kinds: str) -> list[str]:
    return [name for name, op in OPS.items() if op.kind in kinds]


def kind_of(name: str) -> Kind:
    """The kind of op ``name`` (shorthand for ``get_op(name).kind``)."""
    return get_op(name).kind


# Kernel instructions that are pointwise ops: instruction name -> its op.
INSTR_OPS: dict[str, OpDef] = {op.instr: op for op in OPS.values()
                               if op.kind is Kind.POINTWISE and op.instr and op.instr != "cast"}
TRANSCENDENTAL = frozenset(op.name for op in OPS.values() if op.transcendental)

# Library ops beside matmul (convolution, sort, topk, kthvalue) register from their module.
from . import library as _library  # noqa: E402,F401  (registration)
# Linear algebra, distances, searching and histograms: library steps mirroring ATen overloads.
from . import library_linalg as _library_linalg  # noqa: E402,F401  (registration)
from . import library_random as _library_random  # noqa: E402,F401  (registration)
from . import library_order as _library_order  # noqa: E402,F401  (registration)
from . import library_fft as _library_fft  # noqa: E402,F401  (registration)
from . import library_scatter as _library_scatter  # noqa: E402,F401  (registration)
from . import scatter as _scatter  # noqa: E402,F401  (registration)
