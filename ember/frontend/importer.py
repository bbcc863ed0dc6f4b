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
    # nodes, each with its message: the caller raises RuntimeError(msg) when one is false.
    asserts: list[str] = field(default_factory=list)


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
        self.asserts: list[tuple[Value, str]] = []
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


@rule(aten.logical_and.default, aten.logical_or.default)
def _logical_bin(imp, n, a, b):
    name = n.target._opname
    return imp.op(name, imp.cast(imp.v(a), "b8"), imp.cast(imp.v(b), "b8"))


@rule(aten.bitwise_and.Tensor, aten.bitwise_or.Tensor)
def _bitwise_bool(imp, n, a, b):
    x, y = imp.v(a), imp.v(b)
    if x.dtype != "b8" or y.dtype != "b8":
        raise Unsupported("bitwise ops on integers")
    return imp.op("logical_and" if n.target is aten.bitwise_and.Tensor else "logical_or", x, y)


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
    out = imp.operand(x, dt)
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
    return imp.op("cast", imp.v(x), dtype=_meta_dtype(n))


@rule(aten.clone.default, aten.alias.default, aten.lift_fresh_copy.default)
def _clone(imp, n, x, **kwargs):
    # A fresh tensor in eager; 'cast' to the same dtype keeps it a distinct value, and
    # the simplifier only drops it when nothing can observe the aliasing.
    v = imp.v(x)
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
        return imp.op("cast", vals[0], dtype=dt)
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


# -- composites written with existing Ember ops (conformance work, docs/conformance.md) --------
def _isnan(imp: _Importer, x: Value) -> Value:
    return imp.op("ne", x, x)  # only NaN differs from itself


def _isinf(imp: _Importer, x: Value) -> Value:
    return imp.op("eq", imp.op("abs", x), imp.scalar(math.inf, x.dtype))


def _false_like(imp: _Importer, x: Value) -> Value:
    return imp.op("full", shape=x.shape, value=False, dtype="b8")


@rule(aten.isnan.default)
def _isnan_rule(imp, n, x):
    v = imp.v(x)
    return _isnan(imp, v) if dtypes.is_float(v.dtype) else _false_like(imp, v)


@rule(aten.isinf.default)
def _isinf_rule(imp, n, x):
    v = imp.v(x)
    return _isinf(imp, v) if dtypes.is_float(v.dtype) else _false_like(imp, v)


@rule(aten.sign.default)
def _sign(imp, n, x):
    # ATen: (0 < x) - (x < 0), so sign(NaN) = 0 and sign(-0.0) = +0.0; bool: x itself.
    v = imp.v(x)
    if v.dtype == "b8":
        return imp.op("cast", v, dtype="b8")
    zero = imp.scalar(0, v.dtype)
    pos = imp.cast(imp.op("gt", v, zero), v.dtype)
    neg = imp.cast(imp.op("lt", v, zero), v.dtype)
    return imp.op("sub", pos, neg)


@rule(aten.clamp.Tensor)
def _clamp_tensor(imp, n, x, lo=None, hi=None):
    # min(max(x, lo), hi) with NaN in any operand propagating, as ATen's clamp kernel.
    dt = _meta_dtype(n)
    if dt == "b8":
        raise Unsupported("clamp of bool tensors")
    out = imp.operand(x, dt)
    if lo is not None:
        out = _clamp_bound(imp, out, imp.operand(lo, dt), lower=True)
    if hi is not None:
        out = _clamp_bound(imp, out, imp.operand(hi, dt), lower=False)
    return out


@rule(aten.fmax.default, aten.fmin.default)
def _fmax(imp, n, a, b):
    # fmax/fmin ignore a NaN operand (NaN only when both are NaN).
    dt = _meta_dtype(n)
    x, y = imp.operand(a, dt), imp.operand(b, dt)
    op = "maximum" if n.target is aten.fmax.default else "minimum"
    out = imp.op(op, x, y)
    if not dtypes.is_float(dt):
        return out
    out = imp.op("where", _isnan(imp, x), y, out)
    return imp.op("where", _isnan(imp, y), x, out)


@rule(aten.hypot.default)
def _hypot(imp, n, a, b):
    # sqrt(a^2 + b^2) computed in f64 for f32/f16/bf16 operands (no overflow or
    # underflow of the squares there; one rounding at the end), and hypot(+-inf, NaN) =
    # inf as in C's hypot.
    dt = _meta_dtype(n)
    if dt not in ("f32", "f16", "bf16"):
        raise Unsupported(f"hypot of {dt} (needs a wider type for the squares)")
    x, y = imp.operand(a, dt), imp.operand(b, dt)
    x64, y64 = imp.cast(x, "f64"), imp.cast(y, "f64")
    r = imp.op("sqrt", imp.op("add", imp.op("mul", x64, x64), imp.op("mul", y64, y64)))
    inf = imp.op("logical_or", _isinf(imp, x), _isinf(imp, y))
    r = imp.op("where", inf, imp.scalar(math.inf, "f64"), r)
    if dt != "f32":  # eager computes f16/bf16 hypot in f32 and rounds once
        r = imp.cast(r, "f32")
    return imp.cast(r, dt)


@rule(aten.bitwise_not.default)
def _bitwise_not(imp, n, x):
    v = imp.v(x)
    if v.dtype != "b8":
        raise Unsupported("bitwise_not of integers (no bitwise instructions)")
    return imp.op("logical_not", v)


@rule(aten.bitwise_xor.Tensor)
def _bitwise_xor(imp, n, a, b):
    x, y = imp.v(a), imp.v(b)
    if x.dtype != "b8" or y.dtype != "b8":
        raise Unsupported("bitwise ops on integers")
    return imp.op("ne", x, y)


def _round_half_even(imp: _Importer, v: Value) -> Value:
    """nearbyint: floor, then up when the rest is over one half, or exactly one half and
    the floor is odd; a zero result keeps v's sign (round(-0.3) = -0.0)."""
    dt = v.dtype
    f = imp.op("floor", v)
    rest = imp.op("sub", v, f)
    half = imp.scalar(0.5, dt)
    f_half = imp.op("mul", f, half)
    odd = imp.op("ne", imp.op("floor", f_half), f_half)
    up = imp.op("logical_or", imp.op("gt", rest, half),
                imp.op("logical_and", imp.op("eq", rest, half), odd))
    r = imp.op("where", up, imp.op("add", f, imp.scalar(1, dt)), f)
    # x - floor(x) is NaN for +-inf, and floor(inf) = inf: keep infinities as they are
    r = imp.op("where", _isinf(imp, v), v, r)
    zero = imp.op("eq", r, imp.scalar(0, dt))
    return imp.op("where", zero, imp.op("mul", v, imp.scalar(0, dt)), r)


@rule(aten.round.default)
def _round(imp, n, x):
    v = imp.v(x)
    if not dtypes.is_float(v.dtype):
        return imp.op("cast", v, dtype=v.dtype)
    return _round_half_even(imp, v)


@rule(aten.round.decimals)
def _round_decimals(imp, n, x, *, decimals=0):
    # ATen: nearbyint(x * 10^d) / 10^d, or nearbyint(x / 10^-d) * 10^-d for d < 0, in
    # opmath (f32 for f16/bf16) with 10^d rounded to it; one rounding at the end.
    v = imp.v(x)
    if not dtypes.is_float(v.dtype):
        raise Unsupported("round(decimals=...) of integers")
    dt = "f32" if v.dtype in ("f16", "bf16") else v.dtype
    w = imp.cast(v, dt)
    p = imp.scalar(float(10 ** abs(decimals)), dt)
    if decimals >= 0:
        r = imp.op("div", _round_half_even(imp, imp.op("mul", w, p)), p)
    else:
        r = imp.op("mul", _round_half_even(imp, imp.op("div", w, p)), p)
    return imp.cast(r, v.dtype)


@rule(aten.repeat.default)
def _repeat(imp, n, x, repeats):
    # x[a, b].repeat(r0, r1, r2) = expand(unsqueeze) to [r0, r1, a, r2, b] -> reshape.
    v = imp.v(x)
    repeats = tuple(repeats)
    lead = len(repeats) - v.rank
    if lead < 0:
        raise Unsupported("repeat with fewer repeats than dims (eager raises)")
    out_shape = tuple(n.meta["val"].shape)
    if math.prod(out_shape) == 0:
        return imp.op("full", shape=out_shape, value=_scalar_for(0, v.dtype), dtype=v.dtype)
    shape = (1,) * lead + v.shape
    u = imp.op("reshape", v, shape=shape) if shape != v.shape else v
    inter, big = [], []
    for i, s in enumerate(shape):
        inter += [1, s]
        big += [repeats[i], s]
    u = imp.op("reshape", u, shape=tuple(inter))
    u = imp.op("expand", u, shape=tuple(big))
    u = imp.op("cast", u, dtype=v.dtype)  # materialize the broadcast before merging dims
    return imp.op("reshape", u, shape=out_shape)


@rule(aten.constant_pad_nd.default)
def _constant_pad(imp, n, x, pad, value=0):
    # pad = (last_lo, last_hi, prev_lo, prev_hi, ...): negative parts slice, positive
    # parts concatenate blocks of `value`.
    v = imp.v(x)
    dt = v.dtype
    _check_scalars(n, dt, value)
    fill = _scalar_for(value, dt)
    out = v
    for k in range(len(pad) // 2):
        axis = v.rank - 1 - k
        lo, hi = pad[2 * k], pad[2 * k + 1]
        size = out.shape[axis]
        start, end = max(-lo, 0), size - max(-hi, 0)
        if start > end:
            raise Unsupported("padding removes more than the dim (eager raises)")
        if (start, end) != (0, size):
            out = imp.op("slice", out, axis=axis, start=start, end=end, step=1)
        parts = []
        for width in (max(lo, 0), None, max(hi, 0)):
            if width is None:
                parts.append(out)
            elif width:
                shape = list(out.shape)
                shape[axis] = width
                parts.append(imp.op("full", shape=tuple(shape), value=fill, dtype=dt))
        if len(parts) > 1:
            out = imp.op("cat", *parts, axis=axis)
    if out is v:
        out = imp.op("cast", v, dtype=dt)  # a fresh tensor, as eager
    return out


@rule(aten.convolution.default)
def _convolution(imp, n, x, w, bias, stride, padding, dilation, transposed, output_padding,
                 groups):
    # The convolution runs as an ATen fallback without its bias; the bias add is an Ember
    # op, so it fuses with what follows (Inductor splits it the same way).
    out_t = _ttype(n.meta["val"])
    if bias is None or out_t.dtype not in ("f32", "f64"):
        # (f16/bf16: oneDNN adds the bias before rounding once; a split would round twice)
        raise Unsupported("convolution (no Ember lowering; runs through ATen)")
    inputs = [imp.v(x), imp.v(w)]
    args = (InputRef(0), InputRef(1), None, tuple(stride), tuple(padding), tuple(dilation),
            transposed, tuple(output_padding), groups)
    conv = imp.g.add("fallback", inputs, loc=imp.loc, out_types=[out_t],
                     target="aten.convolution.default", args=args, kwargs=()).out
    imp.fallbacks.append(Fallback("aten.convolution.default",
                                  "convolution (no Ember lowering; runs through ATen without "
                                  "its bias, which is an Ember add)", imp.loc))
    b = imp.cast(imp.v(bias), out_t.dtype)
    b = imp.op("reshape", b, shape=(b.type.numel,) + (1,) * (len(out_t.shape) - 2))
    return imp.op("add", conv, b)


def _via_f64(imp: _Importer, n: torch.fx.Node, x: Any, body: Callable[[Value], Value],
             f64_ok: bool) -> Value:
    """A function written with several rounding ops, computed in f64 for f32/f16/bf16
    operands and rounded once (as eager's one libm call is); for f64 operands only where
    the formula holds over f64's whole range (``f64_ok``)."""
    v = imp.v(x)
    dt = _meta_dtype(n)
    if not dtypes.is_float(dt) or (dt == "f64" and not f64_ok):
        raise Unsupported(f"{n.target._opname} of {dt}")
    r = body(imp.cast(imp.cast(v, dt), "f64"))
    if dt in ("f16", "bf16"):
        r = imp.cast(r, "f32")  # eager computes f16/bf16 in f32 and rounds once
    return imp.cast(r, dt)


@rule(aten.tan.default)
def _tan(imp, n, x):
    return _via_f64(imp, n, x, lambda v: imp.op("div", imp.op("sin", v), imp.op("cos", v)), True)


@rule(aten.log10.default)
def _log10(imp, n, x):
    return _via_f64(imp, n, x, lambda v: imp.op("div", imp.op("log", v),
                                                 imp.scalar(math.log(10), "f64")), True)


@rule(aten.sinh.default)
def _sinh(imp, n, x):
    # (expm1(x) - expm1(-x)) / 2: no cancellation near 0, sinh(-0.0) = -0.0; f64 only
    # where exp does not overflow before sinh does (so not for f64 operands).
    def body(v):
        d = imp.op("sub", imp.op("expm1", v), imp.op("expm1", imp.op("neg", v)))
        return imp.op("mul", d, imp.scalar(0.5, "f64"))

    return _via_f64(imp, n, x, body, False)


@rule(aten.cosh.default)
def _cosh(imp, n, x):
    def body(v):
        s = imp.op("add", imp.op("exp", v), imp.op("exp", imp.op("neg", v)))
        return imp.op("mul", s, imp.scalar(0.5, "f64"))

    return _via_f64(imp, n, x, body, False)


@rule(aten.div.Tensor_mode, aten.div.Scalar_mode)
def _div_mode(imp, n, a, b, *, rounding_mode=None):
    # trunc of floats is std::trunc(a / b) in ATen (the quotient rounded to the dtype
    # first); floor needs fmod, and integer division has no instruction yet.
    if rounding_mode is None:
        return _binary("div")(imp, n, a, b)
    dt = _meta_dtype(n)
    if rounding_mode != "trunc" or not dtypes.is_float(dt):
        raise Unsupported(f"div with rounding_mode={rounding_mode!r} on {dt} (needs "
                          "integer division or fmod instructions)")
    return imp.op("trunc", _binary("div")(imp, n, a, b))


@rule(aten.logical_xor.default)
def _logical_xor(imp, n, a, b):
    return imp.op("ne", imp.cast(imp.v(a), "b8"), imp.cast(imp.v(b), "b8"))


@rule(aten.copy.default)
def _copy(imp, n, dst, src, non_blocking=False):
    # the value of dst.copy_(src): src broadcast to dst's shape, converted to its dtype
    d, v = imp.v(dst), imp.v(src)
    v = imp.cast(v, d.dtype)
    if v.shape != d.shape:
        v = imp.op("expand", v, shape=d.shape)
    return imp.op("cast", v, dtype=d.dtype)


@rule(aten.view_copy.default, aten.permute_copy.default, aten.narrow_copy.default)
def _view_copies(imp, n, x, *args):
    base = {"view_copy": _reshape, "permute_copy": _permute, "narrow_copy": _narrow}
    v = base[n.target._opname](imp, n, x, *args)
    return imp.op("cast", v, dtype=v.dtype)


def _narrow(imp, n, x, dim, start, length):
    v = imp.v(x)
    dim = dim % v.rank
    start = start % v.shape[dim] if start < 0 else start
    return _slice(imp, n, x, dim, start, start + length)


@rule(aten.unbind_copy.int)
def _unbind_copy(imp, n, x, dim=0):
    v = imp.v(x)
    dim = dim % v.rank
    return [imp.op("cast", _select(imp, n, x, dim, i), dtype=v.dtype) for i in range(v.shape[dim])]


@rule(aten.slice_scatter.default)
def _slice_scatter(imp, n, x, src, dim=0, start=None, end=None, step=1):
    # step 1: x[:start] ++ src ++ x[end:] along dim
    v = imp.v(x)
    dim = dim % v.rank
    start, end, step = slice(start, end, step).indices(v.shape[dim])
    end = max(end, start)
    if step != 1:
        raise Unsupported("slice_scatter with a step (needs a strided store)")
    s = imp.cast(imp.v(src), v.dtype)
    parts = []
    if start > 0:
        parts.append(imp.op("slice", v, axis=dim, start=0, end=start, step=1))
    parts.append(s)
    if end < v.shape[dim]:
        parts.append(imp.op("slice", v, axis=dim, start=end, end=v.shape[dim], step=1))
    return imp.op("cat", *parts, axis=dim) if len(parts) > 1 else imp.op("cast", s, dtype=v.dtype)


@rule(aten.diagonal.default)
def _diagonal(imp, n, x, offset=0, dim1=0, dim2=1):
    # Move dim1, dim2 last, merge them (n*m), and take every (m+1)-th element from the
    # first diagonal element: an affine slice.
    v = imp.v(x)
    r = v.rank
    d1, d2 = dim1 % r, dim2 % r
    rows, cols = v.shape[d1], v.shape[d2]
    others = [i for i in range(r) if i not in (d1, d2)]
    length = max(0, min(rows, cols - offset) if offset >= 0 else min(rows + offset, cols))
    out_shape = tuple(v.shape[i] for i in others) + (length,)
    if length == 0:
        return imp.op("full", shape=out_shape, value=_scalar_for(0, v.dtype), dtype=v.dtype)
    u = v
    if others + [d1, d2] != list(range(r)):
        u = imp.op("permute", u, dims=tuple(others + [d1, d2]))
    u = imp.op("reshape", u, shape=out_shape[:-1] + (rows * cols,))
    start = offset if offset >= 0 else -offset * cols
    return imp.op("slice", u, axis=r - 2, start=start, end=start + (length - 1) * (cols + 1) + 1,
                  step=cols + 1)


@rule(aten.addmv.default)
def _addmv(imp, n, bias, mat, vec, *, beta=1, alpha=1):
    # beta * bias + alpha * (mat @ vec) as addmm of a one-column matrix (beta = 0 ignores
    # bias, NaN included, in both)
    dt = _meta_dtype(n)
    m, v = imp.cast(imp.v(mat), dt), imp.cast(imp.v(vec), dt)
    b = imp.cast(imp.v(bias), dt)
    b = imp.op("unsqueeze", b, axis=b.rank) if b.rank == 1 else b
    out = imp.op("addmm", b, m, imp.op("unsqueeze", v, axis=1), beta=beta, alpha=alpha)
    return imp.op("squeeze", out, axes=(1,))


@rule(aten.addbmm.default)
def _addbmm(imp, n, bias, b1, b2, *, beta=1, alpha=1):
    # sum_b b1[b] @ b2[b] is one mm over the batch laid along K: [n, B*k] @ [B*k, m]
    dt = _meta_dtype(n)
    x, y = imp.cast(imp.v(b1), dt), imp.cast(imp.v(b2), dt)
    bsz, rows, k = x.shape
    x = imp.op("reshape", imp.op("permute", x, dims=(1, 0, 2)), shape=(rows, bsz * k))
    y = imp.op("reshape", y, shape=(bsz * k, y.shape[2]))
    return imp.op("addmm", imp.cast(imp.v(bias), dt), x, y, beta=beta, alpha=alpha)


@rule(aten.angle.default)
def _angle(imp, n, x):
    # real inputs: pi where x < 0, else 0; NaN stays NaN (ATen's angle_impl)
    dt = _meta_dtype(n)
    v = imp.cast(imp.v(x), dt)
    if not dtypes.is_float(dt):
        raise Unsupported(f"angle with a {dt} result")
    r = imp.op("where", imp.op("lt", v, imp.scalar(0, dt)), imp.scalar(math.pi, dt),
               imp.scalar(0, dt))
    return imp.op("where", _isnan(imp, v), v, r)


@rule(aten._native_batch_norm_legit_functional.default)
def _batch_norm_training(imp, n, x, weight, bias, running_mean, running_var, training, momentum,
                         eps):
    # Training-mode batch norm, functional: batch statistics over every dim but 1, the
    # output normalized with the biased variance, and the updated running stats
    # (momentum * batch + (1 - momentum) * running, the variance unbiased), as ATen's
    # CPU kernel. Results: out, save_mean, save_invstd, new running mean, new running var.
    if not training:
        raise Unsupported("functional batch norm in eval mode")
    v = imp.v(x)
    if v.rank < 2 or not dtypes.is_float(v.dtype):
        raise Unsupported("batch norm needs a float input of rank >= 2")
    metas = [dtypes.from_torch(m.dtype) for m in n.meta["val"]]
    dt = "f32" if v.dtype in ("f16", "bf16") else v.dtype  # eager normalizes in f32
    w = imp.cast(v, dt)
    axes = [0] + list(range(2, v.rank))
    count = math.prod(v.shape[a] for a in axes)
    mean = imp.op("mean", w, axes=tuple(axes), keepdim=True)
    d = imp.op("sub", w, mean)
    ssq = imp.op("sum", imp.op("mul", d, d), axes=tuple(axes), keepdim=True)
    var = imp.op("div", ssq, imp.scalar(count, dt))
    invstd = imp.op("rsqrt", imp.op("add", var, imp.scalar(eps, dt)))

    def per_channel(t: Any) -> Value:
        c = imp.cast(imp.v(t), dt)
        return imp.op("reshape", c, shape=(c.type.numel,) + (1,) * (v.rank - 2))

    # ATen's CPU transform: alpha = invstd * w, beta = b - mean * alpha, out = x * alpha + beta
    alpha = invstd if weight is None else imp.op("mul", invstd, per_channel(weight))
    beta = imp.op("neg", imp.op("mul", mean, alpha))
    if bias is not None:
        beta = imp.op("sub", per_channel(bias), imp.op("mul", mean, alpha))
    out = imp.op("add", imp.op("mul", w, alpha), beta)
    flat = (v.shape[1],)
    save_mean = imp.op("reshape", mean, shape=flat)
    save_invstd = imp.op("reshape", invstd, shape=flat)
    unbiased = imp.op("reshape", imp.op("div", ssq, imp.scalar(count - 1, dt)), shape=flat)
    new_stats = []
    for stat, batch in ((running_mean, save_mean), (running_var, unbiased)):
        # in opmath (f32 for f16/bf16 stats), rounded once, as ATen's update
        r = imp.v(stat)
        rdt = "f32" if r.dtype in ("f16", "bf16") else r.dtype
        upd = imp.op("add", imp.op("mul", imp.cast(batch, rdt), imp.scalar(momentum, rdt)),
                     imp.op("mul", imp.cast(r, rdt), imp.scalar(1 - momentum, rdt)))
        new_stats.append(imp.cast(upd, r.dtype))
    outs = [out, save_mean, save_invstd] + new_stats
    return [imp.cast(o, m) for o, m in zip(outs, metas)]
