"""Max pooling with its indices (``return_indices=True``, adaptive max pooling with
equal windows) imported as Ember ops (frontend/pooling.py ``_max_with_indices``):
values and int64 indices against eager bit for bit, with ties, NaN (several in a
window: the last wins, as eager's loop), -inf, signed zeros, padding, dilation,
ceil_mode, integers, reduced floats and non-contiguous inputs; no fallback."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

import ember
from tests.e2e.argreduce_cases import INF, NAN, _same


def _check(fn, x):
    with torch.no_grad():
        want = fn(x)
        compiled = ember.compile(fn)
        got = compiled(x)
    assert len(got) == len(want)
    for i, (g, w) in enumerate(zip(got, want)):
        assert _same(g, w), (i, g, w)
    report = compiled.ember_report
    assert not report.fallbacks, report.fallbacks
    assert report.kernels, report
    return report


def _x(shape, dtype=torch.float32, seed=0):
    """Few distinct values (ties in most windows), NaN in one window twice, -inf, and
    signed zeros."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randint(-2, 3, shape, generator=g)
    if not dtype.is_floating_point:
        return x.to(dtype)
    x = x.float()
    x = torch.where(x == 0, torch.where(torch.rand(shape, generator=g) > 0.5, -0.0, 0.0), x)
    flat = x.view(-1)
    flat[5], flat[6], flat[40] = NAN, NAN, -INF
    flat[-1] = NAN
    return x.to(dtype)


POOLS = {
    "2d": lambda t: F.max_pool2d(t, 2, return_indices=True),
    "2d-k3s2p1": lambda t: F.max_pool2d(t, 3, 2, 1, return_indices=True),
    "2d-ceil-dilation": lambda t: F.max_pool2d(t, (2, 3), (3, 2), (1, 0), dilation=(2, 1),
                                               ceil_mode=True, return_indices=True),
    "1d-pad-ceil-dilation": lambda t: F.max_pool1d(t[0], 3, 2, 1, dilation=2, ceil_mode=True,
                                                   return_indices=True),
    "3d": lambda t: F.max_pool3d(t, (2, 3, 2), 2, (1, 1, 0), return_indices=True),
    "adaptive-2d": lambda t: F.adaptive_max_pool2d(t, (3, 2), return_indices=True),
    "adaptive-1d": lambda t: F.adaptive_max_pool1d(t[0], 4, return_indices=True),
    "adaptive-3d": lambda t: F.adaptive_max_pool3d(t, (1, 3, 2), return_indices=True),
}


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16], ids=str)
@pytest.mark.parametrize("name", list(POOLS))
def test_against_eager(name, dtype):
    _check(POOLS[name], _x((2, 3, 9, 8), dtype))


@pytest.mark.parametrize("name", ["2d", "2d-k3s2p1", "3d"])
def test_integers(name):
    _check(POOLS[name], _x((2, 3, 9, 8), torch.int64))
    # all at the dtype's minimum: the index stays at the window's first element
    _check(POOLS[name], torch.full((1, 2, 6, 6), torch.iinfo(torch.int64).min))


@pytest.mark.parametrize("layout", ["channels_last", "transposed", "sliced"])
def test_non_contiguous_inputs(layout):
    x = _x((2, 3, 12, 10), seed=1)
    x = {"channels_last": x.to(memory_format=torch.channels_last),
         "transposed": x.transpose(2, 3), "sliced": x[:, :, 1::2, :]}[layout]
    _check(POOLS["2d-k3s2p1"], x)


def test_all_minus_inf_and_padding_never_wins():
    x = torch.full((1, 1, 5, 5), -INF)
    _check(POOLS["2d-k3s2p1"], x)  # padded windows: the first element inside the input


def test_indices_used_in_arithmetic_and_unused_indices():
    x = _x((2, 3, 9, 8), seed=2)

    def f(t):
        v, i = F.max_pool2d(t, 3, 2, 1, return_indices=True)
        return v * 2, i + 1

    _check(f, x)
    # without its indices, max pooling is the `maximum` chain (values only; the sign
    # of a zero maximum may differ from eager's there, as before)
    with torch.no_grad():
        compiled = ember.compile(lambda t: F.max_pool2d(t, 2))
        torch.testing.assert_close(compiled(x), F.max_pool2d(x, 2), rtol=0, atol=0,
                                   equal_nan=True)
    assert not compiled.ember_report.fallbacks
    assert "maximum" in compiled.ember_report.kernels[0].name
