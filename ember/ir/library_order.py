"""Order statistics, running extrema and other ATen kernels as library steps, mirroring
one overload each like ``library_linalg.py`` (tensor arguments are inputs, the others
attributes; the step calls the overload, so ties, NaN order and rounding are eager's):

    median, nanmedian    aten.median / nanmedian (whole tensor) and their .dim overloads
                         (values and int64 indices)
    mode                 aten.mode (values and indices along a dim)
    cummax, cummin       aten.cummax / cummin (running extremum and its index)
    logcumsumexp         aten.logcumsumexp
    pdist                aten._pdist_forward ([N, M] -> [N * (N - 1) / 2])
    segment_reduce       aten.segment_reduce (lengths or offsets)
    trilinear            aten._trilinear (nn.functional.bilinear's contraction)
    and (see _MORE)      adaptive max pooling with unequal windows, grid_sampler_2d/3d,
                         _upsample_bilinear2d_aa, max_pool2d_with_indices_backward,
                         _batch_norm_with_update_functional, nonzero_static, torch.nn's
                         chunked linear + cross entropy (torch_nn custom ops),
                         tril_indices, triu_indices, linspace (eager's kernel
                         rounds f16/bf16/int64 other than its decomposition in f32)

Why steps rather than kernels: median and mode sort (as sort, topk and kthvalue, which
are steps too); cummax/cummin carry an (extremum, index) pair through a scan, which the
kernel contract's scans (one running value per reduction) do not; logcumsumexp's
running rescaling is ATen's own. What reads their results fuses into the next kernel.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch

from . import dtypes
from .graph import TensorType
from .library_linalg import _mirror
from .ops import IRError

if TYPE_CHECKING:
    from .graph import Node

aten = torch.ops.aten
ORDERED = tuple(d for d in dtypes.DTYPES if d != "b8")
REAL = ("f16", "bf16", "f32", "f64")


def _dim(node: "Node", rank: int) -> int:
    d = node.attrs["dim"]
    if not (-max(rank, 1) <= d < max(rank, 1)):
        raise IRError(f"{node.op}: dim {d} of a rank-{rank} tensor")
    return d % max(rank, 1)


def _whole(node: "Node") -> list[TensorType]:
    x = node.inputs[0]
    if not x.type.numel:
        raise IRError(f"{node.op} of an empty tensor (left to ATen's fallback)")
    return [TensorType((), x.dtype)]


def _along(node: "Node") -> list[TensorType]:
    """values and int64 indices with ``dim`` reduced (kept as 1 with ``keepdim``)."""
    x = node.inputs[0]
    d = _dim(node, x.rank)
    if x.rank and x.shape[d] == 0:
        raise IRError(f"{node.op} over an empty dim (eager raises)")
    shape = list(x.shape)
    if x.rank:
        if node.attrs["keepdim"]:
            shape[d] = 1
        else:
            del shape[d]
    return [TensorType(tuple(shape), x.dtype), TensorType(tuple(shape), "i64")]


def _running(node: "Node") -> list[TensorType]:
    x = node.inputs[0]
    _dim(node, x.rank)
    return [x.type, TensorType(x.shape, "i64")]


def _same(node: "Node") -> list[TensorType]:
    x = node.inputs[0]
    _dim(node, x.rank)
    return [x.type]


def _pdist(node: "Node") -> list[TensorType]:
    x = node.inputs[0]
    if x.rank != 2 or not node.attrs["p"] >= 0:
        raise IRError(f"pdist of {x.shape} with p={node.attrs['p']}")
    n = x.shape[0]
    return [TensorType((n * (n - 1) // 2,), x.dtype)]


def _by_meta(target: Any):
    """The types ATen's meta kernel gives for these inputs and attributes (for ops whose
    shape rule is ATen's own bookkeeping: segment_reduce, _trilinear)."""
    def rule(node: "Node") -> list[TensorType]:
        from .ops import get_op

        metas = [torch.empty(v.shape, dtype=dtypes.to_torch(v.dtype), device="meta")
                 for v in node.inputs]
        try:
            out = get_op(node.op).eager(*metas, **node.attrs)
        except (RuntimeError, ValueError, TypeError, IndexError, AssertionError) as e:
            raise IRError(f"{node.op}: {str(e).splitlines()[0]}") from None
        outs = out if isinstance(out, (tuple, list)) else (out,)
        return [TensorType(tuple(t.shape), dtypes.from_torch(t.dtype)) for t in outs]
    return rule


_mirror("median", aten.median.default, _whole, ORDERED)
_mirror("median_dim", aten.median.dim, _along, ORDERED)
_mirror("nanmedian", aten.nanmedian.default, _whole, ORDERED)
_mirror("nanmedian_dim", aten.nanmedian.dim, _along, ORDERED)
_mirror("mode", aten.mode.default, _along, dtypes.DTYPES)
_mirror("cummax", aten.cummax.default, _running, dtypes.DTYPES)
_mirror("cummin", aten.cummin.default, _running, dtypes.DTYPES)
_mirror("logcumsumexp", aten.logcumsumexp.default, _same, REAL)
_mirror("pdist", aten._pdist_forward.default, _pdist, ("f32", "f64"))
_mirror("segment_reduce", aten.segment_reduce.default, _by_meta(aten.segment_reduce.default),
        REAL)
_mirror("trilinear", aten._trilinear.default, _by_meta(aten._trilinear.default), REAL)

# Kernels of ATen's whose output types come from their meta kernels. Adaptive max
# pooling with unequal windows (pooling.py imports equal windows as strided slices and
# calls this rule for the rest); sampling and antialiased resizing (grid_sample,
# interpolate(antialias=True)); max pooling's backward (a scatter of the gradients);
# training-mode batch norm, whose new running statistics the graph copies back.
_MORE = [("adaptive_max_pool2d", aten.adaptive_max_pool2d.default),
         ("adaptive_max_pool3d", aten.adaptive_max_pool3d.default),
         ("grid_sampler_2d", aten.grid_sampler_2d.default),
         ("grid_sampler_3d", aten.grid_sampler_3d.default),
         ("upsample_bilinear2d_aa", aten._upsample_bilinear2d_aa.default),
         ("max_pool2d_backward", aten.max_pool2d_with_indices_backward.default),
         ("batch_norm_with_update", aten._batch_norm_with_update_functional.default),
         ("tril_indices", aten.tril_indices.default), ("triu_indices", aten.triu_indices.default),
         ("linspace", aten.linspace.default), ("linspace_tt", aten.linspace.Tensor_Tensor),
         ("linspace_ts", aten.linspace.Tensor_Scalar), ("linspace_st", aten.linspace.Scalar_Tensor),
         ("nonzero_static", aten.nonzero_static.default)]
try:  # torch.nn's chunked linear + cross entropy (custom ops, registered on import)
    import torch.nn.modules.linear_cross_entropy  # noqa: F401

    _MORE += [("linear_cross_entropy_chunked",
               torch.ops.torch_nn._linear_cross_entropy_batch_chunked.default),
              ("linear_cross_entropy_chunked_none",
               torch.ops.torch_nn._linear_cross_entropy_batch_chunked_no_reduction.default)]
except (ImportError, AttributeError):  # an older torch
    pass
for _name, _target in _MORE:
    _mirror(_name, _target, _by_meta(_target), REAL)

#: the IR ops this module registers
NAMES = ("median", "median_dim", "nanmedian", "nanmedian_dim", "mode", "cummax", "cummin",
         "logcumsumexp", "pdist", "segment_reduce", "trilinear", *(n for n, _ in _MORE))
