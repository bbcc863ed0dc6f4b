"""The ``scatter`` op (kind ``SCATTER``): stores at computed indices, compiled as kernels.

``scatter(x, idx, src, axis, combine, wrap)`` is ``torch.scatter`` (``combine="set"``)
or ``torch.scatter_add`` (``"sum"``) along ``axis``: the result is ``x`` with, for
every position ``p`` of ``idx``, the element at ``p`` with ``p[axis] = idx[p]``
overwritten by (or added to) ``src[p]``, in the row-major order of ``p``: duplicate
indices overwrite in order (the last wins) or add in order, as eager's CPU kernels
do. With ``wrap``, negative indices count from the end (``x[idx] = v``). The
importer maps scatter, scatter_add, index_put with one index tensor (``x[i] = v``,
``x[i] += v``), index_add, index_copy and index_fill onto it (``frontend/scatter.py``);
an index out of range is eager's error from the importer's check, and the kernels
clamp every index, so none writes out of bounds. How it lowers: ``codegen/lower.py``
(a copy kernel, then a kernel with a scatter store; ``codegen/kernel.py``).
"""

from __future__ import annotations

import torch

from . import dtypes
from .graph import TensorType
from .ops import IRError, Kind, OpDef, _register

COMBINES = ("set", "sum")


def _scatter_rule(node) -> list[TensorType]:
    x, idx, src = node.inputs
    axis, combine = node.attrs["axis"], node.attrs["combine"]
    if combine not in COMBINES:
        raise IRError(f"scatter: combine {combine!r} is not one of {COMBINES}")
    if idx.dtype not in ("i32", "i64"):
        raise IRError(f"scatter: indices must be i32 or i64, not {idx.dtype}")
    if src.dtype != x.dtype:
        raise IRError(f"scatter: src {src.dtype} and self {x.dtype} differ")
    if not (x.rank == idx.rank == src.rank) or not 0 <= axis < x.rank:
        raise IRError(f"scatter: ranks {x.shape}, {idx.shape}, {src.shape} or axis {axis}")
    if any(i > s for i, s in zip(idx.shape, src.shape)) or any(
            i > n for d, (i, n) in enumerate(zip(idx.shape, x.shape)) if d != axis):
        raise IRError(f"scatter: indices {idx.shape} larger than src {src.shape} or than "
                      f"self {x.shape} off axis {axis}")
    if x.shape[axis] == 0 and idx.type.numel:
        raise IRError("scatter: into an empty axis")
    return [TensorType(x.shape, x.dtype)]


def _scatter(x, idx, src, axis, combine, wrap):
    i = idx.long()
    if wrap:
        i = torch.where(i < 0, i + x.shape[axis], i)
    if combine == "sum":
        return x.scatter_add(axis, i, src)
    return x.scatter(axis, i, src)


_register(OpDef("scatter", Kind.SCATTER, {"axis": int, "combine": str, "wrap": bool},
                _scatter_rule, _scatter, 3, dtypes=dtypes.DTYPES))
