"""argmax / argmin / max.dim / min.dim (and max pooling's indices) through
``ember.compile(backend="triton")`` under Triton's interpreter: the staged index
kernel (persistent and looped rows) and the value gather against eager, bit for
bit; every kernel compiled for sm_90."""

from __future__ import annotations

import pytest
import torch

pytest.importorskip("triton")

import ember  # noqa: E402
from tests.e2e.argreduce_cases import _all_four, _data, _max_min_dim, _same  # noqa: E402


def _check(fn, *args, kernels=None):
    with torch.no_grad():
        want = fn(*args)
        compiled = ember.compile(fn, backend="triton")
        got = compiled(*args)
    for i, (g, w) in enumerate(zip(got, want)):
        assert _same(g, w), (i, g, w)
    report = compiled.ember_report
    assert not report.fallbacks, report.fallbacks
    assert {k.backend for k in report.kernels} == {"triton"}, report
    if kernels is not None:
        assert len(report.kernels) == kernels, report
    for k in report.kernels:
        assert ".target sm_90" in k.artifacts["ptx"]
    return report


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16, torch.int64],
                         ids=str)
@pytest.mark.parametrize("shape,dim", [((7, 13), 1), ((7, 13), 0), ((3, 5, 9), None)])
def test_against_eager(dtype, shape, dim):
    _check(_all_four(dim, False), _data(shape, dtype))


def test_bool_max_dim_and_keepdim():
    _check(_max_min_dim(-1, True), _data((6, 11), torch.bool))


def test_argmax_is_one_kernel_persistent_and_looped():
    # 1000 elements fit one block (persistent); 5000 are over 4096 (looped row)
    for n in (1000, 5000):
        x = _data((4, n), torch.float32, seed=n)
        _check(lambda t: (t.argmax(-1),), x, kernels=1)
        torch._dynamo.reset()


def test_transposed_input():
    x = _data((9, 12), torch.float32, seed=2).t()
    _check(_all_four(1, True), x)


def test_max_pool_indices():
    import torch.nn.functional as F
    from tests.e2e.test_pooling_indices import _x

    x = _x((2, 3, 9, 8))
    _check(lambda t: F.max_pool2d(t, 3, 2, 1, return_indices=True), x)
    torch._dynamo.reset()
    _check(lambda t: F.adaptive_max_pool2d(t, (3, 2), return_indices=True), x)
