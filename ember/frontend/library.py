"""Import rules for library ops beside matmul (``ember/ir/library.py``): convolution,
sort, topk and kthvalue run through torch's own kernels as library steps.

A convolution's bias is not part of the library call where the split is exact
(f32/f64): the call computes the convolution without bias and the bias is an Ember
``add`` over the channel dim (the bias viewed as ``[C, 1, ...]`` by unsqueezes, an
affine index), so the bias and whatever follows it (an activation, a residual add)
fuse into the next Ember kernel, as Inductor splits it (integer sums are exact too).
For f16/bf16 the bias stays in the call: oneDNN adds it before rounding once, and a
split would round twice.

Registered when ``importer.py`` imports this module.
"""

from __future__ import annotations

from typing import Any

from ..ir.graph import Value
from .importer import Unsupported, _Importer, _meta_dtype, aten, rule


def _expand(v: Any, nd: int, name: str) -> tuple[int, ...]:
    """ATen's expand_param_if_needed: one value for every spatial dim, or one each."""
    v = (v,) if isinstance(v, int) else tuple(v)
    if len(v) == 1:
        v = v * nd
    if len(v) != nd:
        raise Unsupported(f"convolution: {name} {v} for {nd} spatial dims")
    return v


def channel_bias(imp: _Importer, bias: Value, rank: int) -> Value:
    """``bias`` ([C]) viewed as [C, 1, ...] to broadcast over dim 1 of a rank-``rank``
    result: unsqueezes, so a kernel reads it through an affine index (no copy)."""
    for _ in range(rank - 2):
        bias = imp.op("unsqueeze", bias, axis=bias.rank)
    return bias


@rule(aten.convolution.default)
def _convolution(imp, n, x, w, bias, stride, padding, dilation, transposed, output_padding,
                 groups):
    dt = _meta_dtype(n)
    xv, wv = imp.cast(imp.v(x), dt), imp.cast(imp.v(w), dt)
    nd = wv.rank - 2
    attrs = dict(stride=_expand(stride, nd, "stride"), padding=_expand(padding, nd, "padding"),
                 dilation=_expand(dilation, nd, "dilation"), transposed=bool(transposed),
                 output_padding=_expand(output_padding, nd, "output_padding"),
                 groups=int(groups))
    if bias is None:
        return imp.op("convolution", xv, wv, **attrs)
    b = imp.cast(imp.v(bias), dt)
    if dt in ("f16", "bf16"):
        return imp.op("convolution", xv, wv, b, **attrs)
    conv = imp.op("convolution", xv, wv, **attrs)
    return imp.op("add", conv, channel_bias(imp, b, conv.rank))


def _dim(v: Value, dim: int) -> int:
    return dim % max(v.rank, 1)


@rule(aten.sort.default)
def _sort(imp, n, x, dim=-1, descending=False):
    v = imp.v(x)
    node = imp.g.add("sort", [v], loc=imp.loc, axis=_dim(v, dim), descending=bool(descending),
                     stable=False)
    return list(node.outputs)


@rule(aten.sort.stable)
def _sort_stable(imp, n, x, *, stable=None, dim=-1, descending=False):
    v = imp.v(x)
    node = imp.g.add("sort", [v], loc=imp.loc, axis=_dim(v, dim), descending=bool(descending),
                     stable=bool(stable))
    return list(node.outputs)


@rule(aten.topk.default)
def _topk(imp, n, x, k, dim=-1, largest=True, sorted=True):  # noqa: A002 (ATen's name)
    v = imp.v(x)
    node = imp.g.add("topk", [v], loc=imp.loc, k=int(k), axis=_dim(v, dim),
                     largest=bool(largest), sorted=bool(sorted))
    return list(node.outputs)


@rule(aten.kthvalue.default)
def _kthvalue(imp, n, x, k, dim=-1, keepdim=False):
    v = imp.v(x)
    node = imp.g.add("kthvalue", [v], loc=imp.loc, k=int(k), axis=_dim(v, dim),
                     keepdim=bool(keepdim))
    return list(node.outputs)
