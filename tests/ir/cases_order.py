"""Op-table cases of the order-statistic and other ATen library steps
(``ember/ir/library_order.py``), added to ``cases.CASES`` by :func:`order_cases`, and their
direct torch calls (:data:`ORDER_DIRECT`, the user-level API)."""

from __future__ import annotations

import torch


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
