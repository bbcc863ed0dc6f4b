"""Import rules for composite ATen ops, written with existing Ember ops.

These came with the OpInfo conformance work (``docs/conformance.md``): each rule
expresses an ATen op Ember has no op of its own for (``sign``, ``hypot``,
``isinf``, ``repeat``, ``constant_pad_nd``, ...) exactly as eager computes it,
NaN, inf and -0.0 included. They register into the importer's rule table when
``frontend/importer.py`` imports this module.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import torch

from ..ir import dtypes
from ..ir.graph import Value
from .importer import (
    Unsupported,
    _Importer,
    _binary,
    _check_scalars,
    clamped,
    _meta_dtype,
    _permute,
    _reshape,
    _scalar_for,
    _select,
    _slice,
    aten,
    rule,
    _isnan,
    _isinf,
    _false_like,
    _RULES,
)

# -- composites written with existing Ember ops (conformance work, docs/conformance.md) --------
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
    return clamped(imp, imp.operand(x, dt), lo, hi, dt)


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


@rule(aten.frexp.Tensor)
def _frexp(imp, n, x):
    # two instructions over the same bits (codegen/mlir/bits.py): mantissa, i32 exponent
    v = imp.v(x)
    if not dtypes.is_float(v.dtype):
        raise Unsupported(f"frexp of {v.dtype} (eager raises)")
    return [imp.op("frexp_mantissa", v), imp.op("frexp_exponent", v)]


@rule(aten.constant_pad_nd.default)
def _constant_pad(imp, n, x, pad, value=0):
    v = imp.v(x)
    if v.dtype in dtypes.COMPLEX:  # a library step (ir/library_fft.py)
        from .library_linalg import MIRROR_RULES

        return MIRROR_RULES[aten.constant_pad_nd.default](imp, n, x, pad, value)
    _check_scalars(n, v.dtype, value)
    out = constant_padded(imp, v, pad, _scalar_for(value, v.dtype))
    if out is v:
        out = imp.op("cast", v, dtype=v.dtype)  # a fresh tensor, as eager
    return out


def constant_padded(imp: _Importer, v: Value, pad: Any, fill: Any) -> Value:
    """``v`` padded with ``fill`` as ``constant_pad_nd``: pad = (last_lo, last_hi,
    prev_lo, prev_hi, ...); negative parts slice, positive parts concatenate blocks of
    ``fill``. Returns ``v`` itself when nothing changes."""
    dt = v.dtype
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
    return out


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
    if rounding_mode is None:
        return _binary("div")(imp, n, a, b)
    if rounding_mode not in ("trunc", "floor"):
        raise Unsupported(f"div with rounding_mode={rounding_mode!r}")
    return _division(imp, n, "truncdiv" if rounding_mode == "trunc" else "floordiv", a, b)


@rule(aten.floor_divide.default, aten.floor_divide.Scalar)
def _floor_divide(imp, n, a, b):
    return _division(imp, n, "floordiv", a, b)


@rule(aten.remainder.Tensor, aten.remainder.Scalar, aten.remainder.Scalar_Tensor)
def _remainder(imp, n, a, b):
    return _division(imp, n, "remainder", a, b)


@rule(aten.fmod.Tensor, aten.fmod.Scalar)
def _fmod(imp, n, a, b):
    return _division(imp, n, "fmod", a, b)


def _division(imp, n, op: str, a: Any, b: Any) -> Value:
    """``op`` (floordiv, truncdiv, remainder, fmod) of ``a`` and ``b`` in the result dtype.

    Integer division by zero raises RuntimeError("ZeroDivisionError") in eager. A
    Python-scalar 0 divisor stays on ATen (which raises when it runs); a tensor
    divisor gets an assert that none of its elements is 0 (Imported.asserts: the
    runtime raises the same error after the kernels ran, whose quotients there are
    defined but unused). ATen's f16/bf16 floor/trunc division by a Python scalar
    computes in f32 with the scalar unrounded (its opmath path); so does this. Of
    two f16/bf16 tensors, it rounds every intermediate to the dtype (the quotient
    before trunc; each step of c10::div_floor_floating); so does this, op by op.
    """
    dt = _meta_dtype(n)
    if dt == "b8":
        raise Unsupported(f"{op} of bool tensors (torch raises)")
    if not dtypes.is_float(dt):
        if not isinstance(b, torch.fx.Node):
            if b == 0:
                raise Unsupported("integer division by a constant zero (eager raises "
                                  "ZeroDivisionError)")
        else:
            y = imp.operand(b, dt)
            if y.type.numel:
                nonzero = imp.op("ne", y, imp.scalar(0, dt))
                every = imp.op("amin", nonzero, axes=tuple(range(y.rank)), keepdim=False)
                imp.asserts.append((every, "ZeroDivisionError"))
    elif dt in ("f16", "bf16") and op in ("floordiv", "truncdiv"):
        if isinstance(a, torch.fx.Node) and not isinstance(b, torch.fx.Node):
            x = imp.cast(imp.operand(a, dt), "f32")
            return imp.cast(imp.op(op, x, imp.scalar(b, "f32")), dt)
        x, y = imp.operand(a, dt), imp.operand(b, dt)
        if op == "truncdiv":  # std::trunc(a / b) with the quotient a Half: rounded first
            return imp.op("trunc", imp.op("div", x, y))
        return _half_floordiv(imp, x, y, dt)
    return imp.op(op, imp.operand(a, dt), imp.operand(b, dt))


def _half_floordiv(imp, x: Value, y: Value, dt: str) -> Value:
    """c10::div_floor_floating on Half/BFloat16 operands, each step rounded to ``dt``
    (one IR op per step: Ember rounds every op's f16/bf16 result, as eager does)."""
    def c(v):
        return imp.scalar(v, dt)

    zero = c(0.0)
    quot = imp.op("div", x, y)
    mod = imp.op("fmod", x, y)
    div = imp.op("div", imp.op("sub", x, mod), y)
    fix = imp.op("logical_and", imp.op("ne", mod, zero),
                 imp.op("ne", imp.op("lt", y, zero), imp.op("lt", mod, zero)))
    div = imp.op("where", fix, imp.op("sub", div, c(1.0)), div)
    fl = imp.op("floor", div)
    fl = imp.op("where", imp.op("gt", imp.op("sub", div, fl), c(0.5)),
                imp.op("add", fl, c(1.0)), fl)
    # copysign(0, a / b): the quotient is finite (|a / b| < 1) where div == 0
    r = imp.op("where", imp.op("eq", div, zero), imp.op("mul", quot, zero), fl)
    return imp.op("where", imp.op("eq", y, zero), quot, r)


@rule(aten.polygamma.default)
def _polygamma(imp, n, order, x):
    # polygamma(0, x) is digamma, polygamma(1, x) trigamma; higher orders have no Ember op
    if order not in (0, 1):
        raise Unsupported(f"polygamma of order {order} (orders 0 and 1 are Ember ops)")
    return imp.op("trigamma" if order else "digamma", imp.operand(x, _meta_dtype(n)))


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


# -- integer forms of float ops ------------------------------------------------------------------
def _integer_or(target, float_rule):
    """ceil/floor/trunc of an integer tensor: the integers themselves (a fresh tensor,
    as eager); of bool eager has no kernel (the float rule falls back and it raises)."""
    def imp_rule(imp, n, x):
        v = imp.v(x)
        if not dtypes.is_float(v.dtype) and v.dtype != "b8":
            return imp.op("cast", v, dtype=v.dtype)
        return float_rule(imp, n, x)
    return imp_rule


for _t in (aten.ceil.default, aten.floor.default, aten.trunc.default):
    rule(_t)(_integer_or(_t, _RULES[_t]))

_FLOAT_POW = _RULES[aten.pow.Tensor_Scalar]


@rule(aten.pow.Tensor_Scalar)
def _pow_int_scalar(imp, n, x, exponent):
    """An integer to a small non-negative integer power: products (wrapping as eager's
    square-and-multiply: the ring's products do not depend on the order)."""
    v, dt = imp.v(x), _meta_dtype(n)
    if (isinstance(exponent, int) and not isinstance(exponent, bool) and 0 <= exponent <= 64
            and dt == v.dtype and not dtypes.is_float(dt) and dt != "b8"):
        out, base, k = None, v, exponent
        while k:
            if k & 1:
                out = base if out is None else imp.op("mul", out, base)
            k >>= 1
            if k:
                base = imp.op("mul", base, base)
        if out is None:  # x ** 0: ones
            return imp.op("full", shape=v.shape, value=1, dtype=dt)
        return imp.op("cast", v, dtype=dt) if out is v else out  # x ** 1: a fresh tensor
    return _FLOAT_POW(imp, n, x, exponent)

