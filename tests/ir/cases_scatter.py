"""Op-table cases of the scatter family's library steps (``ember/ir/library_scatter.py``),
added to ``cases.CASES`` by :func:`scatter_cases`, and their direct torch calls
(:data:`SCATTER_DIRECT`, the user-level API). Index inputs use the ``idx<n>`` domain
(int64 in ``[0, n)``) so that every case is in range; out-of-range indices are in
``tests/e2e/test_scatter_steps.py``."""

from __future__ import annotations

import torch


def scatter_cases(add, A) -> None:
    """Adds the cases through ``add`` (``cases.add``; ``A`` is ``cases.A``)."""
    # the scatter kernel op (ir/scatter.py): duplicates overwrite / add in order
    sc = dict(axis=0, combine="sum", wrap=False)
    add("scatter", "f32-add-duplicates", A(4, 5), A(9, 5, dt="i64", dom="idx4"), A(9, 5), **sc)
    add("scatter", "f32-set-dim1-smaller", A(3, 6, dom="special"),
        A(2, 4, dt="i64", dom="idx6"), A(3, 5), axis=1, combine="set", wrap=False)
    add("scatter", "f64-transposed", A(5, 4, dt="f64", lay="transposed"),
        A(7, 4, dt="i64", dom="idx5"), A(7, 4, dt="f64", lay="strided"), **sc)
    add("scatter", "bf16-add", A(3, 4, dt="bf16"), A(6, 4, dt="i64", dom="idx3"),
        A(6, 4, dt="bf16"), **sc)
    add("scatter", "f16-set", A(3, 4, dt="f16"), A(6, 4, dt="i32", dom="idx3"),
        A(6, 4, dt="f16"), axis=0, combine="set", wrap=False)
    add("scatter", "i64-wrap-negative", A(4, 3, dt="i64"), A(5, 3, dt="i64", dom="small"),
        A(5, 3, dt="i64"), axis=0, combine="sum", wrap=True)
    add("scatter", "b8-or", A(3, 2, dt="b8"), A(5, 2, dt="i64", dom="idx3"), A(5, 2, dt="b8"),
        **sc)
    add("scatter", "i32-1d", A(5, dt="i32"), A(8, dt="i64", dom="idx5"), A(8, dt="i32"), **sc)
    add("scatter", "f32-empty-index", A(3, 2), A(0, 2, dt="i64"), A(0, 2), **sc)
    add("scatter", "bad-combine-rejected", A(3, 2), A(2, 2, dt="i64", dom="idx3"), A(2, 2),
        axis=0, combine="mean", wrap=False, reject=True)
    add("scatter", "index-too-large-rejected", A(3, 2), A(2, 3, dt="i64", dom="idx3"),
        A(2, 3), **sc, reject=True)
    add("scatter", "dtype-mismatch-rejected", A(3, 2), A(2, 2, dt="i64", dom="idx3"),
        A(2, 2, dt="f64"), **sc, reject=True)
    add("scatter_src", "f32-dim0", A(4, 5), A(3, 5, dt="i64", dom="idx4"), A(3, 5), dim=0)
    add("scatter_src", "i64-dim1-smaller-index", A(3, 6, dt="i64"),
        A(2, 4, dt="i64", dom="idx6"), A(3, 5, dt="i64"), dim=1)
    add("scatter_src", "bad-dim-rejected", A(4, 5), A(3, 5, dt="i64", dom="idx4"), A(3, 5),
        dim=2, reject=True)
    add("scatter_value", "f32-dim1", A(4, 5), A(4, 2, dt="i64", dom="idx5"), dim=1, value=2.5)
    add("scatter_reduce_src", "f32-multiply", A(4, 5), A(6, 5, dt="i64", dom="idx4"),
        A(6, 5), dim=0, reduce="multiply")
    add("scatter_reduce_value", "f64-add", A(3, 4, dt="f64"), A(3, 6, dt="i64", dom="idx4"),
        dim=1, value=1.5, reduce="add")
    add("scatter_add", "f32-duplicates", A(5, 3), A(9, 3, dt="i64", dom="idx5"), A(9, 3),
        dim=0)
    add("scatter_add", "bf16-dim1", A(3, 4, dt="bf16"), A(3, 7, dt="i64", dom="idx4"),
        A(3, 7, dt="bf16"), dim=1)
    for red in ("sum", "prod", "mean", "amax", "amin"):
        add("scatter_reduce", f"f32-{red}", A(4, 5, dom="special"),
            A(8, 5, dt="i64", dom="idx4"), A(8, 5), dim=0, reduce=red, include_self=True)
    add("scatter_reduce", "i64-amax-without-self", A(3, 6, dt="i64"),
        A(3, 8, dt="i64", dom="idx6"), A(3, 8, dt="i64"), dim=1, reduce="amax",
        include_self=False)
    add("index_add", "f32-alpha", A(5, 3), A(7, dt="i64", dom="idx5"), A(7, 3), dim=0,
        alpha=2.0)
    add("index_add", "i64-dim1", A(3, 4, dt="i64"), A(6, dt="i64", dom="idx4"),
        A(3, 6, dt="i64"), dim=1, alpha=1)
    add("index_copy", "f32", A(6, 3), A(2, dt="i64", dom="perm"), A(2, 3), dim=0)
    add("index_fill", "f32-dim1", A(3, 5), A(4, dt="i64", dom="idx5"), dim=1, value=-1.0)
    add("index_fill_tensor", "f64", A(4, 3, dt="f64"), A(2, dt="i64", dom="idx4"),
        A(dt="f64"), dim=0)
    for red in ("prod", "mean", "amax", "amin"):
        add("index_reduce", f"f32-{red}", A(5, 3), A(8, dt="i64", dom="idx5"), A(8, 3), dim=0,
            reduce=red, include_self=red != "mean")
    add("put", "f32-accumulate", A(4, 5), A(9, dt="i64", dom="idx20"), A(9),
        accumulate=True)
    add("put", "i64", A(3, 3, dt="i64"), A(4, dt="i64", dom="perm"), A(4, dt="i64"),
        accumulate=False)
    add("masked_scatter", "f32", A(4, 5), A(4, 5, dt="b8"), A(20))
    add("masked_scatter", "f32-broadcast-mask", A(3, 4), A(4, dt="b8"), A(12))
    add("diagonal_scatter", "f32-offset", A(4, 5), A(4), offset=1, dim1=0, dim2=1)
    add("diagonal_scatter", "f64-below", A(5, 3, dt="f64"), A(3, dt="f64"), offset=-2,
        dim1=0, dim2=1)
    add("as_strided_scatter", "f32", A(4, 6), A(3, 2), size=(3, 2), stride=(6, 2),
        storage_offset=1)
    add("index_put", "f32-one-index", A(6, 3), A(4, 3), A(4, dt="i64", dom="idx6"),
        present=(True,), accumulate=False)
    add("index_put", "f32-accumulate-duplicates", A(4, 3), A(9, 3), A(9, dt="i64", dom="idx4"),
        present=(True,), accumulate=True)
    add("index_put", "f32-two-indices", A(4, 5), A(3), A(3, dt="i64", dom="idx4"),
        A(3, dt="i64", dom="idx5"), present=(True, True), accumulate=True)
    add("index_put", "i64-second-dim", A(3, 6, dt="i64"), A(3, 2, dt="i64"),
        A(2, dt="i64", dom="idx6"), present=(False, True), accumulate=False)
    add("index_put", "b8-mask", A(4, 3), A(1), A(4, 3, dt="b8"), present=(True,),
        accumulate=False)
    add("index_put", "count-mismatch-rejected", A(4, 3), A(3), A(3, dt="i64", dom="idx4"),
        present=(True, True), accumulate=False, reject=True)


def _index_put(x, values, *indices, present, accumulate):
    it = iter(indices)
    idx = [next(it) if p else None for p in present]
    return torch.ops.aten.index_put(x, idx, values, accumulate)


def _scatter(x, i, s, axis, combine, wrap):
    i = i.long()
    if wrap:
        i = torch.where(i < 0, i + x.shape[axis], i)
    return (torch.scatter_add if combine == "sum" else torch.scatter)(x, axis, i, s)


SCATTER_DIRECT = {
    "scatter": _scatter,
    "scatter_src": lambda x, i, s, dim: torch.scatter(x, dim, i, s),
    "scatter_value": lambda x, i, dim, value: torch.scatter(x, dim, i, value),
    "scatter_reduce_src": lambda x, i, s, dim, reduce: torch.scatter(x, dim, i, s,
                                                                     reduce=reduce),
    "scatter_reduce_value": lambda x, i, dim, value, reduce: torch.scatter(x, dim, i, value,
                                                                           reduce=reduce),
    "scatter_add": lambda x, i, s, dim: torch.scatter_add(x, dim, i, s),
    "scatter_reduce": lambda x, i, s, dim, reduce, include_self: torch.scatter_reduce(
        x, dim, i, s, reduce, include_self=include_self),
    "index_add": lambda x, i, s, dim, alpha: torch.index_add(x, dim, i, s, alpha=alpha),
    "index_copy": lambda x, i, s, dim: torch.index_copy(x, dim, i, s),
    "index_fill": lambda x, i, dim, value: torch.index_fill(x, dim, i, value),
    "index_fill_tensor": lambda x, i, v, dim: torch.index_fill(x, dim, i, v),
    "index_reduce": lambda x, i, s, dim, reduce, include_self: torch.index_reduce(
        x, dim, i, s, reduce, include_self=include_self),
    "put": lambda x, i, s, accumulate: torch.put(x, i, s, accumulate),
    "masked_scatter": lambda x, m, s: torch.masked_scatter(x, m, s),
    "diagonal_scatter": lambda x, s, offset, dim1, dim2: torch.diagonal_scatter(
        x, s, offset, dim1, dim2),
    "as_strided_scatter": lambda x, s, size, stride, storage_offset: torch.as_strided_scatter(
        x, s, size, stride, storage_offset),
    "index_put": _index_put,
}
