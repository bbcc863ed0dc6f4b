"""Order statistics and other ATen kernels as library steps (``ember/ir/library_order.py``):
user-level calls compiled with Ember against eager, bit for bit (ties, NaN and indices
included), with no fallback node, and what reads their results fused after them."""

from __future__ import annotations

import pytest
import torch

from .test_library_linalg import _x, assert_native, run

NAN = float("nan")
TIES = torch.tensor([[3., 1., 3., 2., 1., 1.], [NAN, 2., 2., NAN, 0., 5.],
                     [4., 4., 4., 4., 4., 4.]])

CASES = {
    "median-nan-ties": (lambda x: (torch.median(x), torch.median(x, 1), x.median(0, True)),
                        (TIES,), ("median", "median_dim")),
    "nanmedian": (lambda x: (torch.nanmedian(x), torch.nanmedian(x, -1)), (TIES,),
                  ("nanmedian", "nanmedian_dim")),
    "mode-ties": (lambda x: torch.mode(x, 1), (TIES,), ("mode",)),
    "mode-int": (lambda x: torch.mode(x.long() % 3, 0, True), (_x(7, 4) * 3,), ("mode",)),
    "cummax-cummin-then-kernel": (lambda x: (torch.cummax(x, 1).values * 2,
                                             torch.cummin(x.t(), 0)), (TIES,),
                                  ("cummax", "cummin")),
    "logcumsumexp": (lambda x: torch.logcumsumexp(x, -1) + 1, (_x(3, 50) * 30,),
                     ("logcumsumexp",)),
    "pdist": (lambda x: (torch.nn.functional.pdist(x), torch.nn.functional.pdist(x, 1.5)),
              (_x(7, 5),), ("pdist",)),
    "segment-reduce": (lambda x, n: torch.segment_reduce(x, "mean", lengths=n),
                       (_x(6, 3), torch.tensor([2, 0, 4])), ("segment_reduce",)),
    "bilinear": (lambda a, b, w, bias: torch.nn.functional.bilinear(a, b, w, bias),
                 (_x(4, 3), _x(4, 2, seed=1), _x(5, 3, 2, seed=2), _x(5, seed=3)),
                 ("trilinear",)),
    "adaptive-max-pool-unequal-windows": (
        lambda x: (torch.nn.functional.adaptive_max_pool2d(x, (3, 4), return_indices=True),
                   torch.nn.functional.adaptive_max_pool1d(x[0], 3) + 1),
        (_x(2, 3, 7, 9),), ("adaptive_max_pool2d",)),
    "grid-sample": (lambda x, g: torch.nn.functional.grid_sample(x, g, align_corners=False),
                    (_x(2, 3, 5, 6), torch.rand(2, 4, 4, 2) * 2.2 - 1.1), ("grid_sampler_2d",)),
    "antialiased-resize": (lambda x: torch.nn.functional.interpolate(
        x, size=(4, 3), mode="bilinear", antialias=True), (_x(1, 2, 9, 8),),
        ("upsample_bilinear2d_aa",)),
}


@pytest.mark.parametrize("name", list(CASES))
def test_library_order_ops_match_eager_bitwise(name):
    fn, args, library = CASES[name]
    assert_native(run(fn, *args), *library)


def test_batch_norm_with_update_writes_running_stats_like_eager():
    """aten._batch_norm_with_update (training-mode batch norm) as a library step: its
    outputs and the running statistics it updates in place are eager's, bit for bit."""
    import ember

    def f(x, w, b, rm, rv):
        return torch.ops.aten._batch_norm_with_update(x, w, b, rm, rv, 0.1, 1e-5)[0] * 2

    x, w, b = _x(4, 3, 5), _x(3, seed=1), _x(3, seed=2)
    stats = [_x(3, seed=3), torch.rand(3) + 0.5]
    eager_stats = [t.clone() for t in stats]
    with torch.no_grad():
        want = f(x, w, b, *eager_stats)
        compiled = ember.compile(f)
        got = compiled(x, w, b, *stats)
    torch.testing.assert_close(got, want, rtol=0, atol=0)
    for g, e in zip(stats, eager_stats):
        torch.testing.assert_close(g, e, rtol=0, atol=0)
    assert_native(compiled.ember_report, "batch_norm_with_update")


def test_median_of_an_empty_tensor_is_eagers():
    """Eager gives NaN (no raise); the rule refuses the empty tensor, which falls back."""
    import ember

    def f(x):
        return torch.median(x)

    got = ember.compile(f)(torch.empty(0))
    torch.testing.assert_close(got, f(torch.empty(0)), equal_nan=True)
