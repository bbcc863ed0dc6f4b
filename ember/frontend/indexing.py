"""Import rules for indexing by a tensor of indices: ``embedding``, ``index_select``,
``x[idx]`` (``index.Tensor``) and ``flip`` become ``take``, and ``gather``
(``take_along_dim`` decomposes to it) becomes ``take_along``: gathers that fuse
into kernels (``codegen/kernel.py``'s ``gather`` instruction).

Eager raises ``IndexError`` (``RuntimeError`` for ``gather``) on an index out of
range. Ember checks the indices in the compiled graph (a fused reduction to one
bool) and raises the same exception type after the call; the kernels themselves
clamp every index, so a bad index is never read out of bounds. Registered when
``importer.py`` imports this module.
"""

from __future__ import annotations

from typing import Any

from ..ir.graph import Value
from .importer import Unsupported, _Importer, aten, rule

def _check_indices(imp: _Importer, idx: Value, size: int, wrap: bool, msg: str,
                   exc: type = IndexError) -> None:
    """Records the check ``all(lo <= idx < size)`` (lo = -size when negative indices
    wrap), raised as ``exc(msg)`` after the call when false."""
    if not idx.type.numel:
        return
    lo = imp.op("ge", idx, imp.scalar(-size if wrap else 0, idx.dtype))
    hi = imp.op("lt", idx, imp.scalar(size, idx.dtype))
    ok = imp.op("logical_and", lo, hi)
    if ok.rank:
        ok = imp.op("amin", ok, axes=tuple(range(ok.rank)), keepdim=False)
    imp.asserts.append((ok, (exc, msg)))

def _indices(imp: _Importer, a: Any) -> Value:
    idx = imp.v(a)
    if idx.dtype not in ("i32", "i64"):
        raise Unsupported(f"indices of dtype {idx.dtype} (integer indices only)")
    return idx

@rule(aten.embedding.default)
def _embedding(imp, n, weight, indices, padding_idx=-1, scale_grad_by_freq=False,
               sparse=False):
    w, idx = imp.v(weight), _indices(imp, indices)
    if w.rank != 2:
        raise Unsupported(f"embedding of a {w.rank}-D table")
    _check_indices(imp, idx, w.shape[0], False, "index out of range in self")
    return imp.op("take", w, idx, axis=0, wrap=False)

@rule(aten.index_select.default)
def _index_select(imp, n, x, dim, index):
    v, idx = imp.v(x), _indices(imp, index)
    if idx.rank > 1:
        raise Unsupported("index_select with indices of more than one dim")
    if v.rank == 0:  # one element: the index must be 0 (the result is 0-d)
        if idx.type.numel != 1:
            raise Unsupported("index_select of a 0-d tensor by several indices (eager raises)")
        i1 = imp.op("reshape", idx, shape=(1,))
        _check_indices(imp, i1, 1, False, "index out of range in self")
        one = imp.op("take", imp.op("reshape", v, shape=(1,)), i1, axis=0, wrap=False)
        return imp.op("reshape", one, shape=())
    dim = dim % v.rank
    _check_indices(imp, idx, v.shape[dim], False, "index out of range in self")
    return imp.op("take", v, idx, axis=dim, wrap=False)

@rule(aten.index.Tensor)
def _index(imp, n, x, indices):
    v = imp.v(x)
    used = [(d, i) for d, i in enumerate(indices) if i is not None]
    dims = [d for d, _ in used]
    if not used or dims != list(range(dims[0], dims[0] + len(dims))):
        # eager moves the indexed dims first when they are not adjacent
        raise Unsupported("index tensors on dims that are not adjacent")
    idxs = [_indices(imp, i) for _, i in used]
    for d, idx in zip(dims, idxs):
        _check_indices(imp, idx, v.shape[d], True,
                       f"index out of bounds for dimension {d} with size {v.shape[d]}")
    if len(used) == 1:
        return imp.op("take", v, idxs[0], axis=dims[0], wrap=True)
    # x[..., i, j, ...]: one index into the adjacent dims merged, i * n_j + j (wrapped
    # first, as eager counts negative indices per dim)
    d0, sizes = dims[0], [v.shape[d] for d in dims]
    flat = None
    for k, (idx, size) in enumerate(zip(idxs, sizes)):
        i = imp.cast(idx, "i64")
        i = imp.op("where", imp.op("lt", i, imp.scalar(0, "i64")),
                   imp.op("add", i, imp.scalar(size, "i64")), i)
        inner = 1
        for s in sizes[k + 1:]:
            inner *= s
        if inner != 1:
            i = imp.op("mul", i, imp.scalar(inner, "i64"))
        flat = i if flat is None else imp.op("add", flat, i)
    merged = 1
    for s in sizes:
        merged *= s
    shape = v.shape[:d0] + (merged,) + v.shape[d0 + len(dims):]
    return imp.op("take", imp.op("reshape", v, shape=shape), flat, axis=d0, wrap=False)



@rule(aten.gather.default)
def _gather(imp, n, x, dim, index, sparse_grad=False):
    v, idx = imp.v(x), _indices(imp, index)
    if v.rank == 0 or v.rank != idx.rank:
        raise Unsupported(f"gather of a {v.rank}-D tensor with {idx.rank}-D indices")
    dim = dim % v.rank
    _check_indices(imp, idx, v.shape[dim], False,
                   f"index out of bounds for dimension {dim} with size {v.shape[dim]}",
                   RuntimeError)
    return imp.op("take_along", v, idx, axis=dim)


@rule(aten.flip.default)
def _flip(imp, n, x, dims):
    # a gather along each flipped dim at the constant indices n-1, ..., 0 (always in
    # range: no check); fused like any gather
    v = imp.v(x)
    for d in sorted({d % max(v.rank, 1) for d in dims}):
        size = v.shape[d]
        if size > 1:
            idx = imp.op("iota", length=size, start=size - 1, step=-1, dtype="i64")
            v = imp.op("take", v, idx, axis=d, wrap=False)
    return v if v is not imp.v(x) else imp.op("cast", v, dtype=v.dtype)
