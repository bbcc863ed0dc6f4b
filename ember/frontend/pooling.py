"""Import rules for pooling, written with existing Ember ops so pooling fuses.

``avg_pool1d/2d/3d`` (1d arrives as ``avg_pool2d``), ``max_pool{2,3}d_with_indices``
(``max_pool1d/2d/3d``, indices used or not), and ``_adaptive_avg_pool{2,3}d`` and
``adaptive_max_pool{2,3}d`` where every output size divides its input size become,
per window offset, a strided ``slice`` view of the (padded) input; the views are
combined with ``add`` (average) or ``maximum`` (max) and the sum is divided by
eager's divisor. The slices are affine views, so the whole window reduction, the
scale and whatever follows it are one Ember kernel. Padding is ``constant_pad_nd``'s
import (zeros for average pooling, -inf or the dtype's minimum for max pooling), a
``cat`` that materializes the padded input first.

Exactly as eager (``aten/src/ATen/native/cpu/{AvgPool,MaxPool}Kernel.cpp``):

* output sizes are ATen's ``pooling_output_shape`` (``ceil_mode`` included: a last
  window must start inside the input or its left padding);
* the average is ``sum / divisor`` with the sum taken in window order (rows, then
  columns) from 0 in the accumulation type (f32 for f16/bf16, rounded once at the
  end); the divisor is ``divisor_override``, else the window's size clipped to the
  padded input (``count_include_pad``) or to the input itself, per output position
  (a constant tensor where it varies, a scalar where it does not);
* max pooling propagates NaN (``maximum``), and -inf padding is never the maximum
  of a window that holds an input element.

When the indices are used, max pooling is eager's loop written out instead
(``_max_with_indices``: a ``where`` chain over the window offsets carrying the
value and its int64 index). Adaptive max pooling whose sizes do not divide (unequal
windows) is ATen's kernel as a library step (``ir/library_order.py``); anything else
(integer average pooling, ...) stays an ATen fallback with the reason. Registered when
``importer.py`` imports this module.
"""

from __future__ import annotations

import itertools
import math
import operator
from typing import Any

import torch
from torch._prims_common import suggest_memory_format

from ..ir import dtypes
from ..ir.graph import Value
from .composites import constant_padded
from .importer import Unsupported, _Importer, _isnan, _meta_dtype, aten, rule


def _per_dim(v: Any, nd: int, name: str, default: Any = None) -> tuple[int, ...]:
    if v is None or (isinstance(v, (list, tuple)) and len(v) == 0):
        if default is None:
            raise Unsupported(f"pooling: no {name}")
        return default
    v = (v,) if isinstance(v, int) else tuple(int(i) for i in v)
    if len(v) == 1:
        v = v * nd
    if len(v) != nd:
        raise Unsupported(f"pooling: {name} {v} for {nd} spatial dims")
    return v


def _out_size(size: int, k: int, s: int, p: int, d: int, ceil: bool) -> int:
    """ATen's pooling_output_shape."""
    out = (size + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil else 0)) // s + 1
    if ceil and (out - 1) * s >= size + p:
        out -= 1
    return out


def _windows(imp: _Importer, x: Value, n: Any, nd: int, kernel: tuple[int, ...],
             stride: tuple[int, ...], padding: tuple[int, ...], dilation: tuple[int, ...],
             ceil: bool, fill: Any, combine: str, start: Value | None = None
             ) -> tuple[Value, tuple[int, ...]]:
    """``combine`` over every window offset of the strided slices of ``x`` padded with
    ``fill``; the output's spatial sizes. Checks them against ATen's metadata."""
    slices, out = _window_slices(imp, x, n, nd, kernel, stride, padding, dilation, ceil, fill)
    acc = start
    for _, w in slices:
        acc = w if acc is None else imp.op(combine, acc, w)
    return acc, out


def _window_slices(imp: _Importer, x: Value, n: Any, nd: int, kernel: tuple[int, ...],
                   stride: tuple[int, ...], padding: tuple[int, ...],
                   dilation: tuple[int, ...], ceil: bool, fill: Any
                   ) -> tuple[list[tuple[tuple[int, ...], Value]], tuple[int, ...]]:
    """(window offset, the strided slice of ``x`` padded with ``fill`` at that offset)
    in eager's window order, and the output's spatial sizes (checked against ATen's
    metadata)."""
    if min(kernel) < 1 or min(stride) < 1 or min(dilation) < 1 or min(padding) < 0:
        raise Unsupported("pooling: non-positive kernel, stride or dilation (eager raises)")
    if any(2 * p > k for p, k in zip(padding, kernel)):
        raise Unsupported("pooling: padding above half the kernel (eager raises)")
    lead = x.rank - nd
    sizes = x.shape[lead:]
    out = tuple(_out_size(*a, ceil) for a in zip(sizes, kernel, stride, padding, dilation))
    want = tuple(n.meta["val"].shape[lead:]) if isinstance(n.meta.get("val"), torch.Tensor) \
        else tuple(n.meta["val"][0].shape[lead:])
    if out != want or min(out) < 1:
        raise Unsupported(f"pooling: output size {out}, ATen says {want}")
    # right padding so that every window fits (ceil_mode's last window may pass `padding`)
    hi = [max(0, (o - 1) * s + d * (k - 1) + 1 - size - p)
          for o, s, d, k, size, p in zip(out, stride, dilation, kernel, sizes, padding)]
    pad = []
    for p, h in zip(reversed(padding), reversed(hi)):
        pad += [p, h]
    padded = constant_padded(imp, x, pad, fill)
    slices = []
    for offs in itertools.product(*(range(k) for k in kernel)):
        w = padded
        for i, off in enumerate(offs):
            axis = lead + i
            first = off * dilation[i]
            end = first + (out[i] - 1) * stride[i] + 1
            if (first, end, stride[i]) != (0, w.shape[axis], 1):
                w = imp.op("slice", w, axis=axis, start=first, end=end, step=stride[i])
        slices.append((offs, w))
    return slices, out


def _divisor(sizes: tuple[int, ...], out: tuple[int, ...], kernel: tuple[int, ...],
             stride: tuple[int, ...], padding: tuple[int, ...], include_pad: bool
             ) -> torch.Tensor:
    """Eager's divide_factor at every output position (int64, shape ``out``)."""
    per_dim = []
    for size, o, k, s, p in zip(sizes, out, kernel, stride, padding):
        counts = []
        for i in range(o):
            start = i * s - p
            end = min(start + k, size + p)
            pool = end - start
            start, end = max(start, 0), min(end, size)
            counts.append(pool if include_pad else end - start)
        per_dim.append(torch.tensor(counts, dtype=torch.int64))
    div = per_dim[0]
    for c in per_dim[1:]:
        div = div[..., None] * c
    return div


def _avg(imp: _Importer, n: Any, x: Any, nd: int, kernel: Any, stride: Any, padding: Any,
         ceil_mode: bool, count_include_pad: bool, divisor_override: Any) -> Value:
    v = imp.v(x)
    dt = _meta_dtype(n)
    if not dtypes.is_float(dt) or v.rank not in (nd + 1, nd + 2):
        raise Unsupported(f"avg_pool of {dt} rank {v.rank} (float, batched or not, only)")
    kernel = _per_dim(kernel, nd, "kernel_size")
    stride = _per_dim(stride, nd, "stride", default=kernel)
    padding = _per_dim(padding, nd, "padding")
    if divisor_override == 0:  # (a negative one is eager's divisor as given)
        raise Unsupported("avg_pool: divisor_override is 0 (eager raises)")
    acc_dt = "f32" if dt in ("f16", "bf16") else dt  # eager's opmath type
    xv = imp.cast(v, acc_dt)
    zero = imp.scalar(0, acc_dt)  # eager's sum starts at 0 (so -0.0 windows give +0.0)
    total, out = _windows(imp, xv, n, nd, kernel, stride, padding, (1,) * nd, ceil_mode, 0.0,
                          "add", start=zero)
    if divisor_override is not None:
        div = imp.scalar(int(divisor_override), acc_dt)
    else:
        counts = _divisor(v.shape[v.rank - nd:], out, kernel, stride, padding,
                          bool(count_include_pad))
        if bool((counts == counts.flatten()[0]).all()):
            div = imp.scalar(int(counts.flatten()[0]), acc_dt)
        else:
            div = imp.g.value("constant", value=counts.to(dtypes.to_torch(acc_dt)), loc=imp.loc)
    return imp.cast(imp.op("div", total, div), dt)


@rule(aten.avg_pool2d.default)
def _avg_pool2d(imp, n, x, kernel_size, stride=(), padding=0, ceil_mode=False,
                count_include_pad=True, divisor_override=None):
    return _avg(imp, n, x, 2, kernel_size, stride, padding, ceil_mode, count_include_pad,
                divisor_override)


@rule(aten.avg_pool3d.default)
def _avg_pool3d(imp, n, x, kernel_size, stride=(), padding=0, ceil_mode=False,
                count_include_pad=True, divisor_override=None):
    if _meta_dtype(n) in ("f16", "bf16"):
        # eager's CPU kernel has no f16/bf16 version and raises; the fallback raises alike
        raise Unsupported(f"avg_pool3d of {_meta_dtype(n)} runs through ATen (its CPU kernel "
                          "raises for reduced floats)")
    return _avg(imp, n, x, 3, kernel_size, stride, padding, ceil_mode, count_include_pad,
                divisor_override)


def _max(imp: _Importer, n: Any, x: Any, nd: int, kernel: Any, stride: Any, padding: Any,
         dilation: Any, ceil_mode: bool) -> list:
    v = imp.v(x)
    if v.rank not in (nd + 1, nd + 2) or v.dtype == "b8":
        raise Unsupported(f"max_pool of {v.dtype} rank {v.rank}")
    kernel = _per_dim(kernel, nd, "kernel_size")
    stride = _per_dim(stride, nd, "stride", default=kernel)
    padding = _per_dim(padding, nd, "padding")
    dilation = _per_dim(dilation, nd, "dilation")
    fill = -math.inf if dtypes.is_float(v.dtype) else torch.iinfo(dtypes.to_torch(v.dtype)).min
    if any(u.target is not operator.getitem or u.args[1] != 0 for u in n.users):
        return _max_with_indices(imp, n, v, nd, kernel, stride, padding, dilation, ceil_mode,
                                 fill)
    out, _ = _windows(imp, v, n, nd, kernel, stride, padding, dilation, ceil_mode, fill,
                      "maximum")
    if out is v:
        out = imp.op("cast", v, dtype=v.dtype)  # a fresh tensor, as eager
    return [out, None]  # the indices are unused (checked above)


def _max_with_indices(imp: _Importer, n: Any, v: Value, nd: int, kernel: tuple[int, ...],
                      stride: tuple[int, ...], padding: tuple[int, ...],
                      dilation: tuple[int, ...], ceil: bool, fill: Any) -> list:
    """Max pooling with its int64 indices (flat over each input plane), as eager's
    loop (``MaxPoolKernel.cpp``): the value starts at -inf (the dtype's minimum), the
    index at the window's first element inside the input, and each element in window
    order replaces both when ``val > max`` or ``val`` is NaN (ties keep the first,
    the last NaN wins). Padding holds ``fill``, which never replaces. The values come
    from the same chain (eager's value, a zero's sign included)."""
    slices, out = _window_slices(imp, v, n, nd, kernel, stride, padding, dilation, ceil, fill)
    sizes = v.shape[v.rank - nd:]
    mult = [math.prod(sizes[i + 1:]) for i in range(nd)]  # flat index of a plane position
    best = imp.scalar(fill, v.dtype)
    first = []  # per dim: the first in-bounds coordinate of each output's window
    for o, s, p, d, m in zip(out, stride, padding, dilation, mult):
        c = torch.arange(o, dtype=torch.int64) * s - p
        c = torch.where(c < 0, c + (-c + d - 1) // d * d, c)  # eager: while (c < 0) c += d
        first.append(c * m)
    idx = _plane_index(imp, [imp.g.value("constant", value=c, loc=imp.loc) for c in first])
    for offs, w in slices:
        parts = [imp.op("iota", length=o, start=(off * d - p) * m, step=s * m, dtype="i64")
                 for off, o, s, p, d, m in zip(offs, out, stride, padding, dilation, mult)]
        take = imp.op("gt", w, best)
        if dtypes.is_float(v.dtype):
            take = imp.op("logical_or", take, _isnan(imp, w))
        best = imp.op("where", take, w, best)
        idx = imp.op("where", take, _plane_index(imp, parts), idx)
    return [best, idx]  # (a window has an element at least: both are `where`s of its shape)


def _plane_index(imp: _Importer, parts: list[Value]) -> Value:
    """The sum of per-dim int64 vectors, each along its own output dim."""
    nd = len(parts)
    total = None
    for i, c in enumerate(parts):
        shape = tuple(c.shape[0] if j == i else 1 for j in range(nd))
        c = c if c.shape == shape else imp.op("reshape", c, shape=shape)
        total = c if total is None else imp.op("add", total, c)
    return total


@rule(aten.max_pool2d_with_indices.default)
def _max_pool2d(imp, n, x, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    return _max(imp, n, x, 2, kernel_size, stride, padding, dilation, ceil_mode)


@rule(aten.max_pool3d_with_indices.default)
def _max_pool3d(imp, n, x, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    return _max(imp, n, x, 3, kernel_size, stride, padding, dilation, ceil_mode)


def _adaptive_avg(imp: _Importer, n: Any, x: Any, nd: int, output_size: Any) -> Value:
    v = imp.v(x)
    out = _per_dim(output_size, nd, "output_size")
    sizes = v.shape[v.rank - nd:]
    if any(o < 1 for o in out) or any(s < 1 for s in sizes):
        raise Unsupported(f"adaptive_avg_pool from {sizes} to {out} (eager raises)")
    if any(s % o for s, o in zip(sizes, out)):
        return _adaptive_avg_unequal(imp, n, v, nd, out)
    kernel = tuple(s // o for s, o in zip(sizes, out))
    return _avg(imp, n, x, nd, kernel, kernel, (0,) * nd, False, True, None)


def _adaptive_avg_unequal(imp: _Importer, n: Any, v: Value, nd: int,
                          out: tuple[int, ...]) -> Value:
    """Windows of unequal sizes (output ``i`` of a dim averages inputs
    ``[floor(i*n/o), ceil((i+1)*n/o))``): for each offset into the largest window,
    in eager's row-major order, a gather of every window's element at that offset
    (clamped; masked out past its window) added to a sum that starts at 0, then
    eager's ``sum / kh / kw``: the same additions and divisions as ATen's kernel."""
    dt = _meta_dtype(n)
    if not dtypes.is_float(dt) or v.rank not in (nd + 1, nd + 2):
        raise Unsupported(f"adaptive_avg_pool of {dt} rank {v.rank} (float, batched or not, "
                          "only)")
    acc_dt = "f32" if dt in ("f16", "bf16") else dt  # eager's opmath type
    lead = v.rank - nd
    spans = []
    for size, o in zip(v.shape[lead:], out):
        starts = [i * size // o for i in range(o)]
        ends = [-(-(i + 1) * size // o) for i in range(o)]
        spans.append((size, starts, ends, max(e - b for b, e in zip(starts, ends))))

    def const(t: torch.Tensor) -> Value:
        return imp.g.value("constant", value=t, loc=imp.loc)

    # one gather per offset from the input with its pooled dims flattened (a gather
    # reads a kernel input: all of them fuse into one kernel with the sum)
    flat = imp.op("reshape", v, shape=v.shape[:lead] + (math.prod(v.shape[lead:]),))
    strides = [math.prod(v.shape[lead + d + 1:]) for d in range(nd)]
    total = imp.scalar(0, acc_dt)  # eager's sum starts at 0
    zero = imp.scalar(0, acc_dt)
    for offs in itertools.product(*[range(k) for *_, k in spans]):
        idx = torch.zeros(out, dtype=torch.int64)
        inside = torch.ones(out, dtype=torch.bool)
        for d, ((size, starts, ends, _), j) in enumerate(zip(spans, offs)):
            shape = (-1,) + (1,) * (nd - 1 - d)
            pos = torch.tensor([min(b + j, size - 1) for b in starts]).reshape(shape)
            idx = idx + pos * strides[d]
            inside = inside & torch.tensor([b + j < e for b, e in zip(starts, ends)]
                                           ).reshape(shape)
        g = imp.cast(imp.op("take", flat, const(idx), axis=lead, wrap=False), acc_dt)
        total = imp.op("add", total, imp.op("where", const(inside), g, zero))
    counts = [torch.tensor([e - b for b, e in zip(starts, ends)]).reshape(
        (-1,) + (1,) * (nd - 1 - d)) for d, (size, starts, ends, _) in enumerate(spans)]
    val = n.args[0].meta.get("val") if isinstance(n.args[0], torch.fx.Node) else None
    if (v.rank == 4 and isinstance(val, torch.Tensor) and not val.is_contiguous()
            and suggest_memory_format(val) == torch.channels_last):
        counts = [counts[0] * counts[1]]  # eager's 2-D channels-last kernel divides once
    for k in counts:  # sum / kh / kw (as eager's other kernels)
        total = imp.op("div", total, const(k.to(dtypes.to_torch(acc_dt))))
    return imp.cast(total, dt)


@rule(aten._adaptive_avg_pool2d.default)
def _adaptive_avg_pool2d(imp, n, x, output_size):
    return _adaptive_avg(imp, n, x, 2, output_size)


@rule(aten._adaptive_avg_pool3d.default)
def _adaptive_avg_pool3d(imp, n, x, output_size):
    return _adaptive_avg(imp, n, x, 3, output_size)


def _adaptive_max(imp: _Importer, n: Any, x: Any, nd: int, output_size: Any) -> list:
    v = imp.v(x)
    out = _per_dim(output_size, nd, "output_size")
    sizes = v.shape[v.rank - nd:]
    if any(o < 1 or s % o for s, o in zip(sizes, out)):
        # unequal windows: ATen's kernel as a library step (ir/library_order.py)
        from .library_linalg import MIRROR_RULES

        target = aten.adaptive_max_pool2d.default if nd == 2 else aten.adaptive_max_pool3d.default
        return MIRROR_RULES[target](imp, n, x, output_size)
    if not dtypes.is_float(v.dtype):
        raise Unsupported(f"adaptive_max_pool of {v.dtype} (eager has float kernels only)")
    kernel = tuple(s // o for s, o in zip(sizes, out))
    # eager's windows [floor(i*s/o), ceil((i+1)*s/o)) are these when o divides s
    return _max(imp, n, x, nd, kernel, kernel, (0,) * nd, (1,) * nd, False)


@rule(aten.adaptive_max_pool2d.default)
def _adaptive_max_pool2d(imp, n, x, output_size):
    return _adaptive_max(imp, n, x, 2, output_size)


@rule(aten.adaptive_max_pool3d.default)
def _adaptive_max_pool3d(imp, n, x, output_size):
    return _adaptive_max(imp, n, x, 3, output_size)
