"""Library ops beside matmul: run through torch's own kernel, on whatever device.

A library op is a step of its own at run time (``Kind.LIBRARY``): its inputs are
materialized, its outputs are fresh contiguous tensors that Ember kernels read
(the fusion pass groups what follows it into the next kernel, so a convolution's
bias add and activation are one kernel after the library step). The op table's
eager reference *is* the implementation, which is why every reference here calls
the ATen overload the importer maps from, with the same arguments.

    convolution  aten.convolution (1-3 spatial dims, groups, stride, padding,
                 dilation, transposed); the bias is an optional third input (the
                 importer adds f32/f64 biases as an Ember ``add`` instead).
    sort         aten.sort: (values, int64 indices) along ``axis``.
    topk         aten.topk: the ``k`` largest (smallest) and their indices.
    kthvalue     aten.kthvalue: the k-th smallest along ``axis`` and its index.

This module registers into :data:`ember.ir.ops.OPS` when ``ops`` is imported; linear
algebra, cdist, searchsorted/bucketize and histograms are in ``library_linalg.py``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from . import dtypes
from .graph import TensorType
from .ops import IRError, Kind, OpDef, _register

if TYPE_CHECKING:
    from .graph import Node

aten = torch.ops.aten
_NOT_BOOL = tuple(d for d in dtypes.DTYPES if d != "b8")  # no bool kernels in ATen


def _ints(attrs: dict, name: str, n: int) -> tuple[int, ...]:
    v = attrs[name]
    if len(v) != n or not all(isinstance(i, int) and not isinstance(i, bool) for i in v):
        raise IRError(f"convolution: {name} {v} needs {n} integers")
    return v


def _conv_rule(node: "Node") -> list[TensorType]:
    if len(node.inputs) not in (2, 3):
        raise IRError(f"convolution takes 2 or 3 inputs, got {len(node.inputs)}")
    x, w = node.inputs[:2]
    a = node.attrs
    dts = {v.dtype for v in node.inputs}
    if len(dts) != 1 or x.dtype == "b8":
        raise IRError(f"convolution needs operands of one dtype, not b8, got {sorted(dts)}")
    nd = w.rank - 2
    if not 1 <= nd <= 3 or x.rank != w.rank:
        raise IRError(f"convolution: input {x.shape} and weight {w.shape} (batched, 1-3 dims)")
    stride, padding, dilation = (_ints(a, k, nd) for k in ("stride", "padding", "dilation"))
    out_pad = _ints(a, "output_padding", nd)
    g = a["groups"]
    if g < 1 or min(stride) < 1 or min(dilation) < 1 or min(padding) < 0 or min(out_pad) < 0:
        raise IRError(f"convolution: bad attributes {dict(a)}")
    if a["transposed"]:
        cin, cout = w.shape[0], w.shape[1] * g
        if cin % g:
            raise IRError(f"convolution: {cin} input channels do not split into {g} groups")
    else:
        cin, cout = w.shape[1] * g, w.shape[0]
        if cout % g:
            raise IRError(f"convolution: {cout} output channels do not split into {g} groups")
    if x.shape[1] != cin:
        raise IRError(f"convolution: input has {x.shape[1]} channels, the weight wants {cin}")
    if len(node.inputs) == 3 and node.inputs[2].shape != (cout,):
        raise IRError(f"convolution: bias {node.inputs[2].shape} for {cout} channels")
    spatial = []
    for i in range(nd):
        n, k = x.shape[2 + i], w.shape[2 + i]
        extent = dilation[i] * (k - 1) + 1
        if a["transposed"]:
            if out_pad[i] >= max(stride[i], dilation[i]):
                raise IRError("convolution: output_padding must be smaller than stride or dilation")
            size = (n - 1) * stride[i] - 2 * padding[i] + extent + out_pad[i]
        else:
            size = (n + 2 * padding[i] - extent) // stride[i] + 1
        if size < 1 or (not a["transposed"] and n + 2 * padding[i] < extent):
            raise IRError(f"convolution: output size {size} along spatial dim {i}")
        spatial.append(size)
    return [TensorType((x.shape[0], cout, *spatial), x.dtype)]


def _convolution(x, w, bias=None, *, stride, padding, dilation, transposed, output_padding,
                 groups):
    return aten.convolution.default(x, w, bias, list(stride), list(padding), list(dilation),
                                    transposed, list(output_padding), groups)


_register(OpDef("convolution", Kind.LIBRARY,
                {"stride": tuple, "padding": tuple, "dilation": tuple, "transposed": bool,
                 "output_padding": tuple, "groups": int},
                _conv_rule, _convolution, None, dtypes=_NOT_BOOL))


# -- sorting and selection: (values, int64 indices) --------------------------------------------


def _axis(node: "Node") -> int:
    (x,), axis = node.inputs, node.attrs["axis"]
    if not 0 <= axis < max(x.rank, 1):
        raise IRError(f"{node.op}: axis {axis} out of range for {x.shape}")
    return axis


def _sort_rule(node: "Node") -> list[TensorType]:
    _axis(node)
    x = node.inputs[0]
    return [TensorType(x.shape, x.dtype), TensorType(x.shape, "i64")]


def _topk_rule(node: "Node") -> list[TensorType]:
    axis, x, k = _axis(node), node.inputs[0], node.attrs["k"]
    if x.dtype == "b8":
        raise IRError("topk is not defined on b8 (as in PyTorch)")
    n = x.shape[axis] if x.rank else 1
    if not 0 <= k <= n:
        raise IRError(f"topk: k={k} out of range for {n} elements")
    shape = tuple(k if i == axis else s for i, s in enumerate(x.shape))
    return [TensorType(shape, x.dtype), TensorType(shape, "i64")]


def _kthvalue_rule(node: "Node") -> list[TensorType]:
    axis, x, k = _axis(node), node.inputs[0], node.attrs["k"]
    if x.dtype == "b8":
        raise IRError("kthvalue is not defined on b8 (as in PyTorch)")
    n = x.shape[axis] if x.rank else 1
    if not 1 <= k <= n:
        raise IRError(f"kthvalue: k={k} out of range for {n} elements")
    if not x.rank:
        shape = ()
    elif node.attrs["keepdim"]:
        shape = tuple(1 if i == axis else s for i, s in enumerate(x.shape))
    else:
        shape = tuple(s for i, s in enumerate(x.shape) if i != axis)
    return [TensorType(shape, x.dtype), TensorType(shape, "i64")]


def _sort(x, axis, descending, stable):
    return tuple(aten.sort.stable(x, stable=stable, dim=axis, descending=descending))


def _topk(x, k, axis, largest, sorted):  # noqa: A002 (ATen's argument name)
    return tuple(aten.topk.default(x, k, axis, largest, sorted))


def _kthvalue(x, k, axis, keepdim):
    return tuple(aten.kthvalue.default(x, k, axis, keepdim))


_register(OpDef("sort", Kind.LIBRARY, {"axis": int, "descending": bool, "stable": bool},
                _sort_rule, _sort, 1))
_register(OpDef("topk", Kind.LIBRARY, {"k": int, "axis": int, "largest": bool, "sorted": bool},
                _topk_rule, _topk, 1, dtypes=_NOT_BOOL))
_register(OpDef("kthvalue", Kind.LIBRARY, {"k": int, "axis": int, "keepdim": bool},
                _kthvalue_rule, _kthvalue, 1, dtypes=_NOT_BOOL))
