"""Import rules for argmax-style reductions, written with existing Ember ops.

``argmax``/``argmin`` (``dim`` given or None) and ``max.dim``/``min.dim`` (values and
indices) become two reductions over the same rows, with no kernel construct of
their own::

    m   = amax(x, dims, keepdim=True)                       # NaN propagates
    hit = eq(x, m) | isnan(x)                               # isnan only for floats
    idx = amin(where(hit, position, N), dims, keepdim)      # the first hit, as int64
    val = take_along(x, idx, dim)                           # max.dim / min.dim only

``position`` is an int64 ``iota`` over the reduced dims: along one ``dim`` it is
``0..N-1`` viewed ``[1, .., N, .., 1]``; for ``dim=None`` it is the row-major flat
index ``iota(numel)`` viewed as ``x``'s shape (a split reshape, an affine view), so
the index is into the flattened tensor, as eager. The fusion pass merges ``m``
into the ``amin`` kernel that reads it broadcast along its rows (a staged kernel,
``fusion._merge_staged``), so an argmax is one kernel making two passes over each
row while it stays in cache.

Exactly eager's semantics (``aten/src/ATen/native/SharedReduceOps.h``,
``ReduceOpsKernel.cpp``, ``TensorCompare.cpp``):

* ties give the first index (the minimum over the hits);
* NaN is the extreme for floats: if a row holds a NaN, ``m`` is NaN, ``eq`` is false
  everywhere and the hits are exactly the NaNs, so the index is the first NaN's
  and ``max.dim``'s value is NaN;
* ``-0.0 == 0.0``, so whichever comes first wins;
* ``max.dim``'s value is the element at the index (``x[idx]``: ``max([-0.0, 0.0])``
  is ``-0.0``, a sign of zero that ``amax`` does not promise), so it is
  ``take_along(x, idx)``, a gather of one element per row (in range by
  construction, so no index check), and ``m`` is not an output: it stays inside
  the staged kernel. ``max.dim`` is two kernels: the staged one, and the gather
  reading ``idx`` (a per-row kernel);
* integer inputs (and bool ones for ``max.dim``/``min.dim``; ``argmax`` of a bool
  tensor raises in eager and is refused here) compare as their values; f16/bf16
  compare their values (no rounding is involved); the indices are int64;
* an empty reduced dim raises in eager; the rule refuses (``Unsupported``), so the
  op runs as an ATen fallback that raises eager's error. Reductions of a 0-d
  tensor give index 0 (and the value itself).

Registered when ``importer.py`` imports this module.
"""

from __future__ import annotations

import math
from typing import Any

from ..ir import dtypes
from ..ir.graph import Value
from .importer import Unsupported, _Importer, _isnan, aten, rule


def _dim_axes(x: Value, dim: Any, opname: str) -> tuple[int, ...]:
    """The reduced axes of ``x`` (all of them for ``dim=None``), checked as eager."""
    if dim is None:
        axes = tuple(range(x.rank))
        if x.type.numel == 0:
            raise Unsupported(f"{opname} of an empty tensor (eager raises)")
        return axes
    if isinstance(dim, (list, tuple)):
        if len(dim) != 1:
            raise Unsupported(f"{opname} over dims {dim}")
        dim = dim[0]
    rank = max(x.rank, 1)
    if not -rank <= int(dim) < rank:
        raise Unsupported(f"{opname}: dim {dim} out of range (eager raises)")
    if x.rank == 0:
        return ()
    axis = int(dim) % rank
    if x.shape[axis] == 0:
        raise Unsupported(f"{opname} over an empty dim (eager raises)")
    return (axis,)


def _position(imp: _Importer, x: Value, axes: tuple[int, ...]) -> Value:
    """The row-major index of each element within the reduced axes, broadcastable
    against ``x`` (an int64 ``iota`` and an affine view of it)."""
    if len(axes) == 1:
        (a,) = axes
        it = imp.op("iota", length=x.shape[a], start=0, step=1, dtype="i64")
        shape = tuple(s if i == a else 1 for i, s in enumerate(x.shape))
    else:  # every axis (dim=None): the flat index
        it = imp.op("iota", length=x.type.numel, start=0, step=1, dtype="i64")
        shape = x.shape
    return it if it.shape == shape else imp.op("reshape", it, shape=shape)


def _arg_reduce(imp: _Importer, x: Value, axes: tuple[int, ...], keepdim: bool,
                largest: bool, want_values: bool) -> tuple[Value | None, Value]:
    """(values or None, int64 indices) of the first maximum (minimum) of ``x`` over
    ``axes``; NaN counts as the extreme. See the module's docstring."""
    out_shape = tuple(1 if i in axes else s for i, s in enumerate(x.shape)) if keepdim \
        else tuple(s for i, s in enumerate(x.shape) if i not in axes)
    if not axes:  # a 0-d tensor (dim 0 or -1, or None): index 0, the value itself
        zero = imp.op("full", shape=out_shape, value=0, dtype="i64")
        return (imp.op("cast", x, dtype=x.dtype) if want_values else None), zero
    m = imp.op("amax" if largest else "amin", x, axes=axes, keepdim=True)
    hit = imp.op("eq", x, m)
    if dtypes.is_float(x.dtype):  # m is NaN exactly when the row holds one: the hits are its NaNs
        hit = imp.op("logical_or", hit, _isnan(imp, x))
    n = math.prod(x.shape[a] for a in axes)
    key = imp.op("where", hit, _position(imp, x, axes), imp.scalar(n, "i64"))
    if not want_values:  # (fusion stages m into this reduction's kernel either way)
        return None, imp.op("amin", key, axes=axes, keepdim=keepdim)
    idx = imp.op("amin", key, axes=axes, keepdim=True)
    # The value is the element at the index, as eager's (the sign of a zero, a NaN's
    # bits): a gather of one element per row, in range by construction.
    (axis,) = axes
    values = imp.op("take_along", x, idx, axis=axis)
    if keepdim:
        return values, idx
    return imp.op("squeeze", values, axes=axes), imp.op("squeeze", idx, axes=axes)


@rule(aten.argmax.default, aten.argmin.default)
def _argmax(imp, n, x, dim=None, keepdim=False):
    v = imp.v(x)
    opname = n.target._opname
    if v.dtype == "b8":  # max.dim takes bools, argmax does not
        raise Unsupported(f"{opname}() of a bool tensor (eager raises: does not support bool)")
    axes = _dim_axes(v, dim, opname)
    return _arg_reduce(imp, v, axes, bool(keepdim), opname == "argmax", False)[1]


@rule(aten.max.dim, aten.min.dim)
def _max_dim(imp, n, x, dim, keepdim=False):
    v = imp.v(x)
    opname = n.target._opname
    axes = _dim_axes(v, dim, f"{opname}.dim")
    values, idx = _arg_reduce(imp, v, axes, bool(keepdim), opname == "max", True)
    return [values, idx]
