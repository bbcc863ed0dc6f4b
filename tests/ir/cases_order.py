"""Op-table cases of the order-statistic and other ATen library steps
(``ember/ir/library_order.py``), added to ``cases.CASES`` by :func:`order_cases`, and their
direct torch calls (:data:`ORDER_DIRECT`, the user-level API)."""

from __future__ import annotations

import torch

from ember.ir.dtypes import to_torch


def order_cases(add, A) -> None:
    """Adds the cases through ``add`` (``cases.add``; ``A`` is ``cases.A``)."""
    add("median", "f32-special", A(4, 5, dom="special"))
    add("median", "i64", A(7, dt="i64"))
    add("median", "empty-rejected", A(0, 3), reject=True)
    add("median_dim", "f32-keepdim", A(4, 5), dim=1, keepdim=True)
    add("median_dim", "f64-transposed", A(3, 6, dt="f64", lay="transposed"), dim=0,
        keepdim=False)
    add("median_dim", "bad-dim-rejected", A(3, 4), dim=2, keepdim=False, reject=True)
    add("nanmedian", "f32-special", A(3, 5, dom="special"))
    add("nanmedian_dim", "bf16", A(4, 6, dt="bf16", dom="special"), dim=-1, keepdim=False)
    add("mode", "i64-ties", A(5, 8, dt="i64", dom="small"), dim=-1, keepdim=False)
    add("mode", "f32-keepdim", A(4, 3, dom="intlike"), dim=0, keepdim=True)
    add("cummax", "f32-special", A(3, 7, dom="special"), dim=1)
    add("cummax", "i32", A(6, 2, dt="i32"), dim=0)
    add("cummin", "f64-strided", A(4, 5, dt="f64", lay="strided"), dim=-1)
    add("cummin", "bad-dim-rejected", A(3), dim=1, reject=True)
    add("logcumsumexp", "f32", A(3, 9), dim=1)
    add("logcumsumexp", "f64-special", A(8, dt="f64", dom="special"), dim=0)
    add("pdist", "f32-p2", A(6, 3), p=2.0)
    add("pdist", "f64-p1", A(5, 4, dt="f64"), p=1.0)
    add("pdist", "3d-rejected", A(2, 3, 4), p=2.0, reject=True)
    seg = dict(axis=0, unsafe=False, initial=None)
    add("segment_reduce", "f32-sum-lengths", A(6, 3), A(3, dt="i64", dom="seglen"),
        reduce="sum", given=("lengths",), **seg)
    add("segment_reduce", "f64-max-offsets", A(6, 2, dt="f64"), A(4, dt="i64", dom="segoff"),
        reduce="max", given=("offsets",), **seg)
    add("trilinear", "f32-bilinear", A(4, 3), A(5, 3, 2), A(4, 2),
        expand1=(1, 3), expand2=(0,), expand3=(1, 2), sumdim=(2, 3), unroll_dim=1)


ORDER_DIRECT = {
    "median": lambda x: torch.median(x),
    "median_dim": lambda x, dim, keepdim: tuple(torch.median(x, dim, keepdim)),
    "nanmedian": lambda x: torch.nanmedian(x),
    "nanmedian_dim": lambda x, dim, keepdim: tuple(torch.nanmedian(x, dim, keepdim)),
    "mode": lambda x, dim, keepdim: tuple(torch.mode(x, dim, keepdim)),
    "cummax": lambda x, dim: tuple(torch.cummax(x, dim)),
    "cummin": lambda x, dim: tuple(torch.cummin(x, dim)),
    "logcumsumexp": lambda x, dim: torch.logcumsumexp(x, dim),
    "pdist": lambda x, p: torch.nn.functional.pdist(x, p),
    "segment_reduce": lambda data, seg, *, reduce, given, axis, unsafe, initial:
        torch.segment_reduce(data, reduce, **{given[0]: seg}, axis=axis, unsafe=unsafe,
                             initial=initial),
    "trilinear": lambda a, b, c, **kw: torch.ops.aten._trilinear(a, b, c, **kw),
}


def more_cases(add, A) -> None:
    """Cases of library_order's _MORE ops (ATen kernels typed by their meta kernels)."""
    add("tril_indices", "i64-offset", row=4, col=5, offset=1, dtype="i64", layout=None,
        device=None, pin_memory=None)
    add("triu_indices", "i32-below", row=3, col=3, offset=-1, dtype="i32", layout=None,
        device=None, pin_memory=None)
    fac = dict(layout=None, device=None, pin_memory=None)
    add("linspace", "f16-down", start=-2.0, end=-3.0, steps=50, dtype="f16", **fac)
    add("linspace", "i64", start=0, end=10, steps=7, dtype="i64", **fac)
    add("linspace_tt", "bf16", A(), A(dom="positive"), steps=9, dtype="bf16", **fac)
    add("linspace_ts", "f32", A(), end=4.5, steps=6, dtype="f32", **fac)
    add("linspace_st", "f64", A(dt="f64"), start=-1.0, steps=5, dtype="f64", **fac)
    add("adaptive_max_pool2d", "f32-unequal", A(2, 3, 7, 5), output_size=(3, 2))
    add("adaptive_max_pool3d", "f64", A(1, 2, 5, 4, 3, dt="f64"), output_size=(2, 3, 2))
    add("grid_sampler_2d", "f32-bilinear-zeros", A(2, 3, 5, 6), A(2, 4, 4, 2, dom="unit"),
        interpolation_mode=0, padding_mode=0, align_corners=False)
    add("grid_sampler_3d", "f64-nearest-border", A(1, 2, 3, 4, 5, dt="f64"),
        A(1, 2, 3, 2, 3, dt="f64", dom="unit"), interpolation_mode=1, padding_mode=1,
        align_corners=True)
    add("upsample_bilinear2d_aa", "f32-down", A(1, 2, 9, 8), output_size=(4, 3),
        align_corners=False, scales_h=None, scales_w=None)
    add("batch_norm_with_update", "f32", A(4, 3, 5), A(3), A(3, dom="positive"), A(3), A(3),
        momentum=0.1, eps=1e-5, given=("weight", "bias"))
    add("max_pool2d_backward", "f32", A(1, 2, 3, 3), A(1, 2, 6, 6),
        A(1, 2, 3, 3, dt="i64", dom="positive"), kernel_size=(2, 2), stride=(2, 2),
        padding=(0, 0), dilation=(1, 1), ceil_mode=False)
    add("nonzero_static", "f32-padded", A(3, 4, dom="zeros"), size=15, fill_value=-1)
    add("nonzero_static", "b8-cut", A(6, dt="b8"), size=2, fill_value=7)
    lce = dict(ignore_index=-100, batch_chunk_size=2, acc_policy="compact", acc_dtype="f32",
               given=())
    add("linear_cross_entropy_chunked", "f32-mean", A(4, 3), A(5, 3),
        A(4, dt="i64", dom="seglen"), reduction="mean", label_smoothing=0.0,
        allow_retain_graph=True, compute_input_grad=False, compute_linear_weight_grad=False,
        compute_linear_bias_grad=False, **lce)
    add("linear_cross_entropy_chunked_none", "f32", A(4, 3), A(5, 3),
        A(4, dt="i64", dom="seglen"), **lce)
    add("grid_sampler_2d", "grid-shape-rejected", A(2, 3, 5, 6), A(2, 4, 4, 3),
        interpolation_mode=0, padding_mode=0, align_corners=False, reject=True)


def _lce(name):
    def call(x, w, t, **kw):
        kw.pop("given")
        kw["acc_dtype"] = torch.float32
        return getattr(torch.ops.torch_nn, name)(x, w, t, None, None, **kw)
    return call


def _linspace(start, end, steps, dtype, **kw):
    return torch.linspace(start, end, steps, dtype=to_torch(dtype))


MORE_DIRECT = {
    "linspace": _linspace,
    "linspace_tt": lambda s, e, **kw: _linspace(s, e, **kw),
    "linspace_ts": lambda s, end, **kw: _linspace(s, end, **kw),
    "linspace_st": lambda e, start, **kw: _linspace(start, e, **kw),
    "tril_indices": lambda row, col, offset, dtype, **kw: torch.tril_indices(
        row, col, offset, dtype=to_torch(dtype)),
    "triu_indices": lambda row, col, offset, dtype, **kw: torch.triu_indices(
        row, col, offset, dtype=to_torch(dtype)),
    "nonzero_static": lambda x, size, fill_value: torch.nonzero_static(x, size=size,
                                                                       fill_value=fill_value),
    "linear_cross_entropy_chunked": lambda x, w, t, **kw: tuple(
        _lce("_linear_cross_entropy_batch_chunked")(x, w, t, **kw)),
    "linear_cross_entropy_chunked_none": _lce("_linear_cross_entropy_batch_chunked_no_reduction"),
    "max_pool2d_backward": lambda g, x, i, **kw:
        torch.ops.aten.max_pool2d_with_indices_backward(g, x, indices=i, **kw),
    "adaptive_max_pool2d": lambda x, output_size:
        tuple(torch.nn.functional.adaptive_max_pool2d(x, output_size, return_indices=True)),
    "adaptive_max_pool3d": lambda x, output_size:
        tuple(torch.nn.functional.adaptive_max_pool3d(x, output_size, return_indices=True)),
    "grid_sampler_2d": lambda x, g, interpolation_mode, padding_mode, align_corners:
        torch.nn.functional.grid_sample(x, g, ("bilinear", "nearest")[interpolation_mode],
                                        ("zeros", "border")[padding_mode], align_corners),
    "grid_sampler_3d": lambda x, g, interpolation_mode, padding_mode, align_corners:
        torch.nn.functional.grid_sample(x, g, ("bilinear", "nearest")[interpolation_mode],
                                        ("zeros", "border")[padding_mode], align_corners),
    "upsample_bilinear2d_aa": lambda x, output_size, align_corners, scales_h, scales_w:
        torch.nn.functional.interpolate(x, output_size, mode="bilinear", antialias=True,
                                        align_corners=align_corners),
    "batch_norm_with_update": lambda x, rm, rv, w, b, momentum, eps, given:
        tuple(torch.ops.aten._batch_norm_with_update_functional(x, w, b, rm, rv, momentum,
                                                                 eps)),
}
