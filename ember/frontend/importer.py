"""Imports a functionalized, decomposed ATen FX graph into Ember IR.

Each ATen overload Ember knows has an import rule below that emits Ember ops
(doing type promotion explicitly: operands are cast to the computation dtype,
Python scalars become 0-d ``full`` constants). Anything else becomes a
``fallback`` node that calls the ATen op eagerly, with the reason recorded.
"""

from __future__ import annotations

import math
import operator
import re
from dataclasses import dataclass, field
from typing import Any, Callable

import torch
import torch.fx

from ..ir import dtypes
from ..ir.graph import Graph, TensorType, Value
from ..ir.ops import COMPARISONS, OPS, InputRef, IRError, resolve_target
from ..ir.printer import format_attr

aten = torch.ops.aten
prims = torch.ops.prims


class Unsupported(Exception):
    """This node cannot be imported as Ember ops (it becomes a fallback)."""


class ImportFailure(Exception):
    """The graph cannot be represented at all (it runs eagerly)."""


@dataclass
class Fallback:
    op: str
    reason: str
    loc: str | None


@dataclass
class Imported:
    graph: Graph
    fallbacks: list[Fallback]
    # The graph's last len(asserts) outputs are b8 conditions of ``aten._assert_async``
    # nodes, each with its message: the caller raises RuntimeError(msg) when one is false
    # (or (exception type, message)); or a tensor and a callable that checks it and raises
    # (linalg's error check on an info output, ``library_linalg.LinalgCheck``).
    asserts: list[Any] = field(default_factory=list)


def import_fx(gm: torch.fx.GraphModule, example_inputs: list[Any], name: str = "forward") -> Imported:
    """Builds an Ember graph from an ATen-level FX graph.

    Args:
        gm: the functionalized, decomposed graph (placeholders, call_function, output).
        example_inputs: real or fake tensors matching the placeholders.
    Returns:
        The graph and the fallbacks with reasons.
    Raises:
        ImportFailure: for graphs Ember cannot represent (non-tensor inputs or
            outputs, unsupported dtypes, symbolic shapes).
    """
    imp = _Importer(gm, name)
    return imp.run(example_inputs)


def _loc(node: torch.fx.Node) -> str | None:
    trace = node.meta.get("stack_trace")
    if not trace:
        return None
    frames = re.findall(r'File "([^"]+)", line (\d+)', trace)
    if not frames:
        return None
    path, line = frames[-1]
    return f"{path.rsplit('/', 1)[-1]}:{line}"


def _ttype(val: Any) -> TensorType:
    if not isinstance(val, torch.Tensor):
        raise ImportFailure(f"expected a tensor, got {type(val).__name__}")
    if any(not isinstance(s, int) for s in val.shape):
        raise ImportFailure("symbolic shapes are not supported yet (Ember compiles static shapes)")
    try:
        return TensorType(tuple(val.shape), dtypes.from_torch(val.dtype))
    except dtypes.UnsupportedDtype as e:
        raise ImportFailure(str(e)) from None


class _Importer:
    def __init__(self, gm: torch.fx.GraphModule, name: str) -> None:
        self.gm = gm
        self.g = Graph(name)
        self.env: dict[torch.fx.Node, Any] = {}
        self.fallbacks: list[Fallback] = []
        self.asserts: list[tuple[Value, Any]] = []
        self.loc: str | None = None

    # -- driving ---------------------------------------------------------------
    def run(self, example_inputs: list[Any]) -> Imported:
        placeholders = [n for n in self.gm.graph.nodes if n.op == "placeholder"]
        if len(placeholders) != len(example_inputs):
            raise ImportFailure("placeholder/example input count mismatch")
        for n, ex in zip(placeholders, example_inputs):
            try:
                ty = _ttype(ex)
            except ImportFailure as e:
                raise ImportFailure(f"graph input {n.name}: {e}") from None
            self.env[n] = self.g.add_input(ty.shape, ty.dtype, n.name)
        for n in self.gm.graph.nodes:
            self.loc = _loc(n)
            if n.op == "get_attr":  # a tensor literal of the user's code
                value = getattr(self.gm, n.target).detach().clone()
                self.env[n] = self.g.value("constant", value=value)
            elif n.op == "call_function":
                try:
                    self.env[n] = self.call(n)
                except ImportFailure as e:
                    name = _qualname(n.target)
                    if str(e).startswith(name):
                        raise
                    where = f" at {self.loc}" if self.loc else ""
                    raise ImportFailure(f"{name}{where}: {e}") from None
            elif n.op == "output":
                outs = n.args[0] if isinstance(n.args[0], (tuple, list)) else (n.args[0],)
                for o in outs:
                    v = self.env.get(o) if isinstance(o, torch.fx.Node) else None
                    if not isinstance(v, Value):
                        raise ImportFailure(f"graph output {o!r} is not a tensor")
                    self.g.outputs.append(v)
        self.g.outputs += [cond for cond, _ in self.asserts]
        return Imported(self.g, self.fallbacks, [msg for _, msg in self.asserts])

    def call(self, n: torch.fx.Node) -> Any:
        if n.target is operator.getitem:
            return self.env[n.args[0]][n.args[1]]
        rule = _RULES.get(n.target) or _RULES.get(getattr(n.target, "overloadpacket", None))
        if rule is not None and n.target not in COMPLEX_RULES and has_complex(n):
            return self.fallback(n, "complex values: no kernel computes with them (only the "
                                 "library steps of ir/library_fft.py take them)")
        if rule is not None:
            try:
                out = rule(self, n, *n.args, **n.kwargs)
                self._check_meta(n, out)
                return out
            except (Unsupported, IRError) as e:
                reason = str(e)
            except (TypeError, ValueError, KeyError) as e:  # a call shape the rule did not expect
                reason = f"import rule failed: {type(e).__name__}: {e}"
        else:
            reason = "no Ember lowering for this op"
        return self.fallback(n, reason)

    def _check_meta(self, n: torch.fx.Node, out: Any) -> None:
        val = n.meta.get("val")
        if isinstance(out, Value) and isinstance(val, torch.Tensor) and out.type != _ttype(val):
            raise Unsupported(f"import produced {out.type}, ATen says {_ttype(val)}")

    def fallback(self, n: torch.fx.Node, reason: str) -> Any:
        if not isinstance(n.target, torch._ops.OpOverload):
            raise ImportFailure(f"{n.target} is not an ATen op; it cannot run as a fallback")
        inputs: list[Value] = []

        def conv(a: Any) -> Any:
            if isinstance(a, torch.fx.Node):
                v = self.env[a]
                if not isinstance(v, Value):
                    raise ImportFailure(f"{n.target}: non-tensor FX argument {a}")
                inputs.append(v)
                return InputRef(len(inputs) - 1)
            if isinstance(a, (list, tuple)):
                return tuple(conv(x) for x in a)
            try:
                format_attr(a)
            except TypeError:
                raise ImportFailure(f"{n.target}: argument {a!r} cannot be represented") from None
            return a

        args = conv(tuple(n.args))
        kwargs = tuple((k, conv(v)) for k, v in n.kwargs.items())
        val = n.meta.get("val")
        vals = list(val) if isinstance(val, (tuple, list)) else [val]
        types = [_ttype(v) for v in vals]
        node = self.g.add("fallback", inputs, loc=self.loc, out_types=types,
                          target=_qualname(n.target), args=args, kwargs=kwargs)
        self.fallbacks.append(Fallback(_qualname(n.target), reason, self.loc))
        if isinstance(val, (tuple, list)):
            return list(node.outputs)
        return node.out

    # -- helpers used by rules ---------------------------------------------------
    def v(self, a: Any) -> Value:
        if isinstance(a, torch.fx.Node):
            v = self.env[a]
            if not isinstance(v, Value):
                raise Unsupported(f"argument {a} is not a tensor")
            return v
        raise Unsupported(f"expected a tensor argument, got {a!r}")

    def op(self, name: str, *inputs: Value, **attrs: Any) -> Value:
        return self.g.value(name, *inputs, loc=self.loc, **attrs)

    def cast(self, x: Value, dt: str) -> Value:
        return x if x.dtype == dt else self.op("cast", x, dtype=dt)

    def operand(self, a: Any, dt: str) -> Value:
        """A tensor or Python scalar argument, as a value of dtype ``dt``."""
        if isinstance(a, torch.fx.Node):
            return self.cast(self.v(a), dt)
        if isinstance(a, (bool, int, float)):
            return self.scalar(a, dt)
        raise Unsupported(f"unsupported operand {a!r}")

    def scalar(self, a: bool | int | float, dt: str) -> Value:
        if dtypes.is_float(dt):
            a = float(a)
        elif dt == "b8":
            a = bool(a)
        else:
            if isinstance(a, float) and not a.is_integer():
                raise Unsupported(f"scalar {a} for an integer op")
            a = int(a)
        return self.op("full", shape=(), value=a, dtype=dt)


def _qualname(target: Any) -> str:
    if isinstance(target, torch._ops.OpOverload):
        ns = target.namespace
        return f"{ns}.{target._opname}.{target._overloadname}"
    return getattr(target, "__name__", str(target))


# -- dtype helpers -------------------------------------------------------------------
def _meta_dtype(n: torch.fx.Node) -> str:
    val = n.meta.get("val")
    if not isinstance(val, torch.Tensor):
        raise Unsupported("no tensor metadata")
    return dtypes.from_torch(val.dtype)


def _result_type(imp: _Importer, a: Any, b: Any) -> str:
    """torch.result_type of two operands (tensors or Python scalars), from metadata."""

    def probe(x: Any) -> Any:
        if isinstance(x, torch.fx.Node):
            v = imp.v(x)
            return torch.empty((1,) * v.rank, dtype=dtypes.to_torch(v.dtype))
        return x

    pa, pb = probe(a), probe(b)
    if not isinstance(pa, torch.Tensor):
        pa, pb = pb, pa
    if not isinstance(pa, torch.Tensor):
        raise Unsupported("comparison of two Python scalars")
    return dtypes.from_torch(torch.result_type(pa, pb))


_RULES: dict[Any, Callable[..., Any]] = {}


def rule(*targets: Any):
    def deco(fn):
        for t in targets:
            _RULES[t] = fn
        return fn

    return deco


# -- pointwise ---------------------------------------------------------------------
def _unary(name: str):
    def imp_unary(imp: _Importer, n, x):
        return imp.op(name, imp.operand(x, _meta_dtype(n)))

    return imp_unary




def _binary(name: str, compare: bool = False):
    def imp_binary(imp: _Importer, n, a, b, *, alpha=1):
        dt = _result_type(imp, a, b) if compare else _meta_dtype(n)
        if dt in ("f16", "bf16") and name in ("mul", "div") and not isinstance(b, torch.fx.Node):
            # ATen computes an f16/bf16 mul/div by a Python scalar in f32 with the scalar
            # in f32 (not rounded to f16), rounding the result once.
            x = imp.cast(imp.operand(a, dt), "f32")
            return imp.cast(imp.op(name, x, imp.scalar(b, "f32")), dt)
        if dt in ("f16", "bf16") and alpha != 1:
            # ATen's vectorized f16/bf16 add/sub is fmadd(other, alpha, self) in f32 with
            # alpha and the operands rounded to f16: one rounding at the end.
            x, y = (imp.cast(imp.operand(v, dt), "f32") for v in (a, b))
            y = imp.op("mul", y, imp.cast(imp.scalar(alpha, dt), "f32"))
            return imp.cast(imp.op(name, x, y), dt)
        x, y = imp.operand(a, dt), imp.operand(b, dt)
        if alpha != 1:
            y = imp.op("mul", y, imp.scalar(alpha, dt))
        return imp.op(name, x, y)

    return imp_binary


# 1:1 pointwise imports come from the op table (OpDef.aten).
for _op in OPS.values():
    for _target in _op.aten:
        rule(resolve_target(_target))(_unary(_op.name) if _op.arity == 1 else _binary(_op.name))
for _name in COMPARISONS:
    rule(getattr(aten, _name).Tensor, getattr(aten, _name).Scalar)(_binary(_name, compare=True))
# x << y and x >> y
rule(aten.__lshift__.Tensor, aten.__lshift__.Scalar)(_binary("bitwise_left_shift"))
rule(aten.__rshift__.Tensor, aten.__rshift__.Scalar)(_binary("bitwise_right_shift"))


@rule(aten.pow.Tensor_Scalar)
def _pow_scalar(imp, n, x, exponent):
    # ATen computes x ** 0.5 as sqrt and x ** -0.5 as rsqrt, which differ from libm's
    # pow at -0.0 and -inf; follow ATen.
    if exponent in (0.5, -0.5) and dtypes.is_float(_meta_dtype(n)):
        return imp.op("sqrt" if exponent > 0 else "rsqrt", imp.operand(x, _meta_dtype(n)))
    return _binary("pow")(imp, n, x, exponent)


@rule(aten.logical_not.default)
def _logical_not(imp, n, x):
    return imp.op("logical_not", imp.cast(imp.v(x), "b8"))


@rule(aten.signbit.default)
def _signbit(imp, n, x):
    return imp.op("signbit", imp.v(x))  # of the operand's own dtype (no promotion)


@rule(aten.copysign.Tensor, aten.copysign.Scalar)
def _copysign(imp, n, a, b):
    # |a| with b's sign bit (-0.0 and a negative NaN count), in the result dtype
    dt = _meta_dtype(n)
    mag = imp.op("abs", imp.operand(a, dt))
    sign = imp.op("signbit", imp.operand(b, dt))
    return imp.op("where", sign, imp.op("neg", mag), mag)


@rule(aten.logical_and.default, aten.logical_or.default)
def _logical_bin(imp, n, a, b):
    name = n.target._opname
    return imp.op(name, imp.cast(imp.v(a), "b8"), imp.cast(imp.v(b), "b8"))


def overflows(value: Any, dt: str) -> bool:
    """Whether eager's checked conversion of the Python scalar ``value`` to ``dt``
    fails ("value cannot be converted to type ... without overflow"), as c10::overflows:
    inf/nan fit float dtypes; unsigned dtypes accept negatives down to -max (two's
    complement wrap); bool never overflows."""
    if dt == "b8" or isinstance(value, bool):
        return False
    if dtypes.is_float(dt):
        if not isinstance(value, (int, float)) or not math.isfinite(value):
            return False
        fi = torch.finfo(dtypes.to_torch(dt))
        return value < fi.min or value > fi.max
    ii = torch.iinfo(dtypes.to_torch(dt))
    if isinstance(value, float) and not math.isfinite(value):
        return True  # an integer dtype has no inf or nan
    if ii.min == 0 and value < 0:
        return -value > ii.max
    return value < ii.min or value > ii.max


def _check_scalars(n: torch.fx.Node, dt: str, *values: Any) -> None:
    """Ops whose eager kernels convert their scalar arguments with a checked conversion
    raise on out-of-range scalars; such a node runs eagerly, so it raises as eager does."""
    for v in values:
        if isinstance(v, (bool, int, float)) and overflows(v, dt):
            raise Unsupported(f"scalar {v!r} does not fit {dt}: eager raises 'value cannot "
                              "be converted ... without overflow', so this op runs eagerly")


@rule(aten.where.self, aten.where.ScalarSelf, aten.where.ScalarOther, aten.where.Scalar)
def _where(imp, n, c, a, b):
    dt = _meta_dtype(n)
    _check_scalars(n, dt, a, b)
    return imp.op("where", imp.cast(imp.v(c), "b8"), imp.operand(a, dt), imp.operand(b, dt))


@rule(aten.masked_fill.Scalar)
def _masked_fill(imp, n, x, mask, value):
    dt = _meta_dtype(n)
    _check_scalars(n, dt, value)
    return imp.op("where", imp.cast(imp.v(mask), "b8"), imp.operand(value, dt), imp.v(x))


@rule(aten.clamp.default, aten.clamp_min.default, aten.clamp_max.default)
def _clamp(imp, n, x, lo=None, hi=None):
    dt = _meta_dtype(n)
    _check_scalars(n, dt, lo, hi)
    if n.target is aten.clamp_max.default:
        lo, hi = None, lo
    return clamped(imp, imp.operand(x, dt), lo, hi, dt)


def clamped(imp: _Importer, out: Value, lo: Any, hi: Any, dt: str) -> Value:
    """``out`` clamped to the bounds that are not None (tensors or scalars), as ATen."""
    if lo is not None:
        out = _clamp_bound(imp, out, imp.operand(lo, dt), lower=True)
    if hi is not None:
        out = _clamp_bound(imp, out, imp.operand(hi, dt), lower=False)
    return out


def _clamp_bound(imp: _Importer, x: Value, bound: Value, lower: bool) -> Value:
    """ATen's clamp: std::max(x, lo) / std::min(x, hi) with a NaN operand propagating.
    Written with compare + where, not maximum/minimum, because std::max keeps x when
    the two compare equal: clamp(-0.0, min=0.0) is -0.0 in eager."""
    past = imp.op("lt", x, bound) if lower else imp.op("lt", bound, x)
    out = imp.op("where", past, bound, x)  # a NaN x compares false and stays
    if dtypes.is_float(x.dtype):
        out = imp.op("where", _isnan(imp, bound), bound, out)
    return out


@rule(aten._to_copy.default)
def _to_copy(imp, n, x, **kwargs):
    device = kwargs.get("device")
    if device is not None and torch.device(device).type != "cpu":
        raise Unsupported(f"copy to device {device}")
    dt = _meta_dtype(n)
    if dt in dtypes.COMPLEX:  # kernels have no complex values (ir/library_fft.py)
        return imp.op("complex_copy", imp.v(x), dtype=dt)
    return imp.op("cast", imp.v(x), dtype=dt)


@rule(prims.convert_element_type.default)
def _convert_element_type(imp, n, x, dtype):
    # what Dynamo's tensorified size arithmetic casts with (1/sqrt(head dim) in f64)
    return imp.op("cast", imp.v(x), dtype=_meta_dtype(n))


rule(aten.true_divide.Tensor)(_binary("div"))


@rule(aten.clone.default, aten.alias.default, aten.lift_fresh_copy.default)
def _clone(imp, n, x, **kwargs):
    # A fresh tensor in eager; 'cast' to the same dtype keeps it a distinct value, and
    # the simplifier only drops it when nothing can observe the aliasing.
    v = imp.v(x)
    if v.dtype in dtypes.COMPLEX:
        return imp.op("complex_copy", v, dtype=v.dtype)
    return imp.op("cast", v, dtype=v.dtype)



@rule(aten._assert_async.msg, aten._assert_async.default)
def _assert_async(imp, n, cond, msg="Expected Tensor with single nonzero value, but got zero"):
    # Kept as an extra b8 output that the runtime checks after the call (eager raises
    # RuntimeError(msg) when the condition is false); see Imported.asserts.
    c = imp.v(cond)
    if c.shape != ():
        raise ImportFailure(f"_assert_async on a tensor of shape {c.shape}")
    imp.asserts.append((imp.op("cast", c, dtype="b8"), msg))
    return None


# -- sources ------------------------------------------------------------------------
@rule(aten.full.default)
def _full(imp, n, size, value, **kwargs):
    dt = _meta_dtype(n)
    return imp.op("full", shape=tuple(size), value=_scalar_for(value, dt), dtype=dt)


def _scalar_for(value: Any, dt: str) -> Any:
    if overflows(value, dt):  # eager's fill raises; the op runs eagerly to raise alike
        raise Unsupported(f"fill value {value!r} does not fit {dt}: eager raises 'value "
                          "cannot be converted ... without overflow', so this op runs eagerly")
    if dtypes.is_float(dt):
        return float(value)
    return bool(value) if dt == "b8" else int(value)


@rule(aten.full_like.default)
def _full_like(imp, n, x, value, **kwargs):
    dt = _meta_dtype(n)
    shape = tuple(n.meta["val"].shape)
    return imp.op("full", shape=shape, value=_scalar_for(value, dt), dtype=dt)


@rule(aten.scalar_tensor.default)
def _scalar_tensor(imp, n, value, **kwargs):
    dt = _meta_dtype(n)
    return imp.op("full", shape=(), value=_scalar_for(value, dt), dtype=dt)


@rule(aten.empty.memory_format, aten.zeros.default)
def _empty(imp, n, size, **kwargs):
    dt = _meta_dtype(n)
    return imp.op("full", shape=tuple(size), value=_scalar_for(0, dt), dtype=dt)


@rule(aten.arange.start_step, aten.arange.default, aten.arange.start)
def _arange(imp, n, *args, **kwargs):
    val = n.meta["val"]
    start, step = (args[0], args[2] if len(args) > 2 else 1) if len(args) > 1 else (0, 1)
    if not all(isinstance(s, (int, float)) for s in (start, step)):
        raise Unsupported("arange with tensor bounds")
    return imp.op("iota", length=int(val.shape[0]), start=start, step=step,
                  dtype=dtypes.from_torch(val.dtype))


# -- reductions -----------------------------------------------------------------------
def _axes(dims: Any, rank: int) -> tuple[int, ...]:
    if dims is None or (isinstance(dims, (list, tuple)) and len(dims) == 0):
        return tuple(range(rank))
    if isinstance(dims, int):
        dims = [dims]
    return tuple(sorted({d % max(rank, 1) for d in dims})) if rank else ()


def _reduction(name: str):
    def imp_reduce(imp: _Importer, n, x, dims=None, keepdim=False, *, dtype=None):
        if isinstance(dims, bool):  # prod.dim_int(x, dim, keepdim) vs sum.default(x, dtype)
            dims, keepdim = None, dims
        v = imp.cast(imp.v(x), _meta_dtype(n))
        return imp.op(name, v, axes=_axes(dims, v.rank), keepdim=bool(keepdim))

    return imp_reduce


rule(aten.sum.dim_IntList, aten.sum.default, prims.sum.default)(_reduction("sum"))
rule(aten.mean.dim, aten.mean.default)(_reduction("mean"))
rule(aten.amax.default)(_reduction("amax"))


def _scan(name: str):
    def imp_scan(imp: _Importer, n, x, dim, *, dtype=None):
        # ATen scans in the result dtype (int and bool operands give i64)
        v = imp.cast(imp.v(x), _meta_dtype(n))
        return imp.op(name, v, axis=dim % max(v.rank, 1))

    return imp_scan


rule(aten.cumsum.default)(_scan("cumsum"))
rule(aten.cumprod.default)(_scan("cumprod"))
rule(aten.amin.default)(_reduction("amin"))


@rule(aten.any.default, aten.any.dim, aten.any.dims, aten.all.default, aten.all.dim,
      aten.all.dims)
def _any_all(imp, n, x, dims=None, keepdim=False):
    # any = amax of the values as bools, all = amin (ATen returns bool, uint8 for uint8)
    if _meta_dtype(n) != "b8":
        raise Unsupported(f"{n.target._opname} with a non-bool result")
    v = imp.cast(imp.v(x), "b8")
    axes = _axes(dims, v.rank)
    if any(v.shape[a] == 0 for a in axes):
        raise Unsupported(f"{n.target._opname} over an empty dim (amax/amin have no identity)")
    op = "amax" if n.target._opname == "any" else "amin"
    return imp.op(op, v, axes=axes, keepdim=bool(keepdim))


@rule(aten.max.default, aten.min.default)
def _max_all(imp, n, x):
    # max(x)/min(x) over all elements = amax/amin over every axis (NaN propagates alike)
    v = imp.v(x)
    op = "amax" if n.target is aten.max.default else "amin"
    if v.type.numel == 0:
        raise Unsupported(f"{n.target._opname}() of an empty tensor (eager raises)")
    return imp.op(op, v, axes=tuple(range(v.rank)), keepdim=False)


rule(aten.prod.dim_int, aten.prod.default)(_reduction("prod"))


def _var(imp: _Importer, x: Value, dims: Any, correction: Any, keepdim: bool) -> tuple[Value, Value]:
    # var = sum((x - mean)^2) / (N - correction); two passes, as eager, for accuracy.
    axes = _axes(dims, x.rank)
    if not dtypes.is_float(x.dtype):
        raise Unsupported("var of a non-float tensor")
    if x.dtype in ("f16", "bf16"):
        # eager computes f16/bf16 statistics in f32 and rounds the results once
        var, mean = _var(imp, imp.cast(x, "f32"), dims, correction, keepdim)
        return imp.cast(var, x.dtype), imp.cast(mean, x.dtype)
    count = math.prod(x.shape[a] for a in axes) if x.rank else 1
    corr = 1 if correction is None else correction
    mean_k = imp.op("mean", x, axes=axes, keepdim=True)
    d = imp.op("sub", x, mean_k)
    ssq = imp.op("sum", imp.op("mul", d, d), axes=axes, keepdim=keepdim)
    var = imp.op("div", ssq, imp.scalar(max(count - corr, 0), x.dtype))
    mean = mean_k if keepdim else imp.op("squeeze", mean_k, axes=axes)
    return var, mean


@rule(aten.var_mean.correction)
def _var_mean(imp, n, x, dims=None, *, correction=None, keepdim=False):
    return list(_var(imp, imp.v(x), dims, correction, keepdim))


@rule(aten.var.correction)
def _var_only(imp, n, x, dims=None, *, correction=None, keepdim=False):
    return _var(imp, imp.v(x), dims, correction, keepdim)[0]


@rule(aten._native_batch_norm_legit_no_training.default)
def _batch_norm_inference(imp, n, x, weight, bias, running_mean, running_var, momentum, eps):
    # (x - mean) * rsqrt(var + eps) * weight + bias, per channel (dim 1); the two other
    # results (saved statistics) are empty in inference.
    v = imp.v(x)
    dt = v.dtype
    if v.rank < 2 or not dtypes.is_float(dt):
        raise Unsupported("batch norm needs a float input of rank >= 2")
    if dt in ("f16", "bf16"):
        # eager normalizes f16/bf16 in f32 and rounds once
        v, dt = imp.cast(v, "f32"), "f32"

    def per_channel(t: Any) -> Value:
        c = imp.cast(imp.v(t), dt)
        for _ in range(v.rank - 2):
            c = imp.op("unsqueeze", c, axis=c.rank)
        return c

    scale = imp.op("rsqrt", imp.op("add", per_channel(running_var), imp.scalar(eps, dt)))
    out = imp.op("mul", imp.op("sub", v, per_channel(running_mean)), scale)
    if weight is not None:
        out = imp.op("mul", out, per_channel(weight))
    if bias is not None:
        out = imp.op("add", out, per_channel(bias))
    out = imp.cast(out, imp.v(x).dtype)
    extras = [imp.op("full", shape=tuple(m.shape), value=0.0, dtype=dtypes.from_torch(m.dtype))
              for m in n.meta["val"][1:]]
    return [out] + extras


# -- views and movement -----------------------------------------------------------------
@rule(aten.view.default, aten._unsafe_view.default, aten.reshape.default)
def _reshape(imp, n, x, shape):
    v = imp.v(x)
    out = tuple(n.meta["val"].shape)
    return v if out == v.shape else imp.op("reshape", v, shape=out)


@rule(aten.permute.default)
def _permute(imp, n, x, dims):
    v = imp.v(x)
    return imp.op("permute", v, dims=tuple(d % v.rank for d in dims))


@rule(aten.t.default, aten.transpose.int)
def _transpose(imp, n, x, d0=0, d1=1):
    v = imp.v(x)
    if v.rank < 2:
        return v
    dims = list(range(v.rank))
    d0, d1 = d0 % v.rank, d1 % v.rank
    dims[d0], dims[d1] = dims[d1], dims[d0]
    return imp.op("permute", v, dims=tuple(dims))


@rule(aten.expand.default)
def _expand(imp, n, x, size, **kwargs):
    v = imp.v(x)
    out = tuple(n.meta["val"].shape)
    return v if out == v.shape else imp.op("expand", v, shape=out)


@rule(aten.unfold.default)
def _unfold(imp, n, x, dim, size, step):
    v = imp.v(x)
    return imp.op("unfold", v, axis=dim % max(v.rank, 1), size=size, step=step)


@rule(aten.as_strided.default, aten.as_strided_copy.default)
def _as_strided(imp, n, x, size, stride, storage_offset=None):
    # as_strided addresses the storage: the same elements as a flattened tensor when
    # eager's operand is contiguous from its storage's start
    val = x.meta.get("val") if isinstance(x, torch.fx.Node) else None
    if not isinstance(val, torch.Tensor) or val.storage_offset() != 0 or not val.is_contiguous():
        raise Unsupported("as_strided of a tensor that is not contiguous from its storage's start")
    v = imp.v(x)
    flat = v if v.rank == 1 else imp.op("reshape", v, shape=(v.type.numel,))
    out = imp.op("as_strided", flat, size=tuple(size), stride=tuple(stride),
                 offset=int(storage_offset or 0))
    copy = n.target is aten.as_strided_copy.default  # a fresh tensor: a copy
    return imp.op("cast", out, dtype=out.dtype) if copy else out


@rule(aten.slice.Tensor)
def _slice(imp, n, x, dim=0, start=None, end=None, step=1):
    v = imp.v(x)
    dim = dim % v.rank
    size = v.shape[dim]
    start, end, step = slice(start, end, step).indices(size)
    end = max(end, start)
    if (start, end, step) == (0, size, 1):
        return v
    return imp.op("slice", v, axis=dim, start=start, end=end, step=step)


@rule(aten.select.int)
def _select(imp, n, x, dim, index):
    v = imp.v(x)
    dim = dim % v.rank
    index = index % v.shape[dim]
    s = imp.op("slice", v, axis=dim, start=index, end=index + 1, step=1)
    return imp.op("squeeze", s, axes=(dim,))


@rule(aten.split_with_sizes.default, aten.split.Tensor)
def _split(imp, n, x, sizes, dim=0):
    v = imp.v(x)
    dim = dim % v.rank
    if isinstance(sizes, int):  # split.Tensor: chunks of `sizes`, the last may be shorter
        sizes = [min(sizes, v.shape[dim] - s) for s in range(0, v.shape[dim], sizes)] or [0]
    out, start = [], 0
    for size in sizes:
        end = start + size
        out.append(v if (start, end) == (0, v.shape[dim]) else
                   imp.op("slice", v, axis=dim, start=start, end=end, step=1))
        start = end
    return out


@rule(aten.squeeze.default, aten.squeeze.dim, aten.squeeze.dims)
def _squeeze(imp, n, x, dims=None):
    v = imp.v(x)
    if dims is None:
        axes = tuple(i for i, s in enumerate(v.shape) if s == 1)
    else:
        dims = [dims] if isinstance(dims, int) else dims
        axes = tuple(sorted({d % max(v.rank, 1) for d in dims if v.rank and v.shape[d] == 1}))
    return imp.op("squeeze", v, axes=axes) if axes else v


@rule(aten.unsqueeze.default)
def _unsqueeze(imp, n, x, dim):
    v = imp.v(x)
    return imp.op("unsqueeze", v, axis=dim % (v.rank + 1))


@rule(prims.broadcast_in_dim.default)
def _broadcast_in_dim(imp, n, x, shape, bdims):
    v = imp.v(x)
    for i in range(len(shape)):
        if i not in bdims:
            v = imp.op("unsqueeze", v, axis=i)
    return v if v.shape == tuple(shape) else imp.op("expand", v, shape=tuple(shape))


@rule(aten.cat.default)
def _cat(imp, n, xs, dim=0):
    dt = _meta_dtype(n)
    vals = [imp.cast(imp.v(x), dt) for x in xs]
    vals = [v for v in vals if v.shape != (0,)]  # legacy: 1-d empty tensors are skipped
    rank = len(n.meta["val"].shape)
    if len(vals) == 1:
        # one part (HF's caches concatenate onto an empty 1-d tensor): its values,
        # with no copy; eager's result would be a contiguous copy, so a
        # non-contiguous part keeps its own strides here
        return imp.op("cast", vals[0], dtype=dt)
    if not vals:
        return imp.op("cast", imp.v(xs[0]), dtype=dt)
    return imp.op("cat", *vals, axis=dim % rank)


# -- matmul ------------------------------------------------------------------------------
@rule(aten.mm.default, aten.bmm.default)
def _mm(imp, n, a, b):
    dt = _meta_dtype(n)
    return imp.op(n.target._opname, imp.cast(imp.v(a), dt), imp.cast(imp.v(b), dt))


@rule(aten.addmm.default)
def _addmm(imp, n, bias, a, b, *, beta=1, alpha=1):
    dt = _meta_dtype(n)
    return imp.op("addmm", imp.cast(imp.v(bias), dt), imp.cast(imp.v(a), dt),
                  imp.cast(imp.v(b), dt), beta=beta, alpha=alpha)


# -- small helpers shared with frontend/composites.py ---------------------------------------
def _isnan(imp: _Importer, x: Value) -> Value:
    return imp.op("ne", x, x)  # only NaN differs from itself


def _isinf(imp: _Importer, x: Value) -> Value:
    return imp.op("eq", imp.op("abs", x), imp.scalar(math.inf, x.dtype))


def _false_like(imp: _Importer, x: Value) -> Value:
    return imp.op("full", shape=x.shape, value=False, dtype="b8")


# Rules for composite ATen ops written with existing Ember ops register on import.
# (registration)
from . import argreduce, complexes, composites, indexing, library, library_linalg  # noqa: E402,F401,I001
from .complexes import COMPLEX_RULES, has_complex  # noqa: E402  (used by _Importer.call)
from . import scatter  # noqa: E402,F401
from . import pooling  # noqa: E402,F401
