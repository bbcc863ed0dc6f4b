"""Import rules of the scatter family. scatter, scatter_add (and scatter_reduce
"sum" with self), index_put with one index tensor (``x[i] = v``, ``x[i] += v``),
index_add with alpha 1, index_copy and index_fill become the ``scatter`` op
(``ir/scatter.py``): kernels that store at computed indices. What does not fit
(several index tensors, masks, scatter_reduce's other reductions, index_reduce,
put, masked_scatter, an alpha other than 1: ATen's ``a + alpha * b`` is one fused
multiply-add) is ATen's kernel as a library step (``ir/library_scatter.py``).

Eager raises on an index out of range (``IndexError`` or ``RuntimeError``, per op);
Ember checks the indices in the compiled graph and raises the same type after the
call (``indexing._check_indices``); the kernels clamp every index. Registered when
``importer.py`` imports this module (after the mirrors' rules, which it overrides).
"""

from __future__ import annotations

from typing import Any

import torch

from ..ir.graph import Value
from .importer import Unsupported, _Importer, aten, rule
from .indexing import _check_indices


def _library(target, imp: _Importer, n, *args: Any, **kwargs: Any) -> Any:
    from .library_linalg import MIRROR_RULES

    return MIRROR_RULES[target](imp, n, *args, **kwargs)


def _fits(x: Value, idx: Value, src: Value, dim: int) -> bool:
    """Whether ``scatter(x, idx, src, dim)`` is an op of ``ir/scatter.py`` (else eager
    has its own error or semantics: the library step calls it)."""
    return (x.rank >= 1 and x.rank == idx.rank == src.rank and idx.dtype in ("i32", "i64")
            and src.dtype == x.dtype and all(i <= s for i, s in zip(idx.shape, src.shape))
            and all(i <= m for d, (i, m) in enumerate(zip(idx.shape, x.shape)) if d != dim)
            and (x.shape[dim] > 0 or not idx.type.numel))


def _scatter(imp: _Importer, x: Value, dim: int, idx: Value, src: Value, combine: str,
             wrap: bool, exc: type, wide: bool = False, given: Value | None = None) -> Value:
    """``wide``: an f16/bf16 sum accumulates in f32 and rounds once at the end (eager's
    scatter_add and index_add; its index_put rounds at every addition, as the kernel).
    ``given``: the indices as the user gave them (checked rather than ``idx``, their
    expansion to the source's shape)."""
    _check_indices(imp, idx if given is None else given, x.shape[dim], wrap,
                   f"index out of bounds for dimension {dim} with size {x.shape[dim]}", exc)
    if wide and combine == "sum" and x.dtype in ("f16", "bf16"):
        out = imp.op("scatter", imp.cast(x, "f32"), idx, imp.cast(src, "f32"), axis=dim,
                     combine=combine, wrap=wrap)
        return imp.cast(out, x.dtype)
    return imp.op("scatter", x, idx, src, axis=dim, combine=combine, wrap=wrap)


def _filled(imp: _Importer, value: Any, x: Value, shape) -> Value:
    return imp.op("expand", imp.scalar(value, x.dtype), shape=tuple(shape))


def _along(imp: _Importer, x: Value, dim: int, idx: Value, src: Value | None):
    """A 1-D index of dim ``dim`` (index_add/copy/put) as a scatter's index: shaped
    as the source, ``x``'s shape with ``dim`` the index's length."""
    shape = x.shape[:dim] + (idx.shape[0],) + x.shape[dim + 1:]
    unit = (1,) * dim + (idx.shape[0],) + (1,) * (x.rank - dim - 1)
    full = imp.op("expand", imp.op("reshape", idx, shape=unit), shape=shape)
    if src is not None and src.shape != shape:
        src = imp.op("expand", src, shape=shape)
    return full, src, shape


def _src_rule(target, combine: str):
    """scatter.src (``"set"``) or scatter_add (``"sum"``, f16/bf16 summed in f32)."""
    def imp_rule(imp, n, x, dim, index, src):
        v, i, s = imp.v(x), imp.v(index), imp.v(src)
        dim = dim % max(v.rank, 1)
        if not _fits(v, i, s, dim):
            return _library(target, imp, n, x, dim, index, src)
        return _scatter(imp, v, dim, i, s, combine, False, RuntimeError, wide=combine == "sum")
    return imp_rule


rule(aten.scatter.src)(_src_rule(aten.scatter.src, "set"))
_scatter_add = rule(aten.scatter_add.default)(_src_rule(aten.scatter_add.default, "sum"))


@rule(aten.scatter.value)
def _scatter_value(imp, n, x, dim, index, value):
    v, i = imp.v(x), imp.v(index)
    dim = dim % max(v.rank, 1)
    try:
        s = _filled(imp, value, v, i.shape)
    except Unsupported:
        s = None
    if s is None or not _fits(v, i, s, dim):
        return _library(aten.scatter.value, imp, n, x, dim, index, value)
    return _scatter(imp, v, dim, i, s, "set", False, RuntimeError)


@rule(aten.scatter.reduce)
def _scatter_reduce_src(imp, n, x, dim, index, src, reduce):
    if reduce == "add":
        return _scatter_add(imp, n, x, dim, index, src)
    return _library(aten.scatter.reduce, imp, n, x, dim, index, src, reduce)


@rule(aten.scatter_reduce.two)
def _scatter_reduce(imp, n, x, dim, index, src, reduce, include_self=True):
    if reduce == "sum" and include_self:
        return _scatter_add(imp, n, x, dim, index, src)
    return _library(aten.scatter_reduce.two, imp, n, x, dim, index, src, reduce,
                    include_self=include_self)


def _one_index(imp: _Importer, x: Value, idx: Value, dim: int, src: Value | None,
               long_only: bool = False) -> bool:
    """A 1-D index (int64, or int32 where eager takes it) and a source of x's dtype."""
    return (x.rank >= 1 and idx.rank == 1 and idx.dtype in (("i64",) if long_only
                                                             else ("i32", "i64"))
            and (src is None or src.dtype == x.dtype))


@rule(aten.index_put.default)
def _index_put(imp: _Importer, n, x, indices, values, accumulate=False):
    v, vals = imp.v(x), imp.v(values)
    given = [(d, i) for d, i in enumerate(indices) if i is not None]
    if len(given) == 1:
        d, i = given[0][0], imp.v(given[0][1])
        if _one_index(imp, v, i, d, vals) and d < v.rank:
            shape = v.shape[:d] + (i.shape[0],) + v.shape[d + 1:]
            try:
                ok = torch.broadcast_shapes(vals.shape, shape) == shape
            except RuntimeError:
                ok = False
            if ok:
                full, src, _ = _along(imp, v, d, i, vals)
                return _scatter(imp, v, d, full, src, "sum" if accumulate else "set", True,
                                IndexError, given=i)
    # several index tensors, masks: ATen's kernel (its Tensor?[] indices are the step's
    # inputs after self and values; ``present`` marks the positions given)
    present = tuple(i is not None for i in indices)
    return imp.op("index_put", v, vals, *[imp.v(i) for i in indices if i is not None],
                  present=present, accumulate=bool(accumulate))


def _index_rule(target, combine: str, wrap: bool, exc: type, alpha_ok=lambda kw: True,
                wide: bool = False, long_only: bool = False):
    def imp_rule(imp, n, x, dim, index, source, **kw):
        v, i, s = imp.v(x), imp.v(index), imp.v(source)
        if v.rank >= 1 and alpha_ok(kw) and _one_index(imp, v, i, dim % v.rank, s, long_only):
            d = dim % v.rank
            full, src, shape = _along(imp, v, d, i, None)
            if s.shape == shape:
                return _scatter(imp, v, d, full, s, combine, wrap, exc, wide, given=i)
        return _library(target, imp, n, x, dim, index, source, **kw)
    return imp_rule


rule(aten.index_add.default)(_index_rule(
    aten.index_add.default, "sum", False, RuntimeError, lambda kw: kw.get("alpha", 1) == 1,
    wide=True))
rule(aten.index_copy.default)(_index_rule(aten.index_copy.default, "set", False, IndexError,
                                          long_only=True))


@rule(aten.index_fill.int_Scalar)
def _index_fill(imp, n, x, dim, index, value):
    v, i = imp.v(x), imp.v(index)
    if v.rank >= 1 and _one_index(imp, v, i, dim % v.rank, None, long_only=True):
        d = dim % v.rank
        try:
            full, _, shape = _along(imp, v, d, i, None)
            return _scatter(imp, v, d, full, _filled(imp, value, v, shape), "set", True,
                            IndexError, given=i)
        except Unsupported:
            pass
    return _library(aten.index_fill.int_Scalar, imp, n, x, dim, index, value)


@rule(aten.index_fill.int_Tensor)
def _index_fill_tensor(imp, n, x, dim, index, value):
    v, i, val = imp.v(x), imp.v(index), imp.v(value)
    if v.rank >= 1 and val.rank == 0 and _one_index(imp, v, i, dim % v.rank, None,
                                                     long_only=True):
        d = dim % v.rank
        full, _, shape = _along(imp, v, d, i, None)
        src = imp.op("expand", imp.cast(val, v.dtype), shape=tuple(shape))
        return _scatter(imp, v, d, full, src, "set", True, IndexError, given=i)
    return _library(aten.index_fill.int_Tensor, imp, n, x, dim, index, value)
