"""Pooling imported as Ember ops (ember/frontend/pooling.py) against eager: average
and max pooling in 1-3 dims with padding, ceil_mode, count_include_pad,
divisor_override and dilation; adaptive average pooling (equal and unequal windows); float32
and a reduced float type; non-contiguous inputs; NaN; what fuses (explain), and the
variants that stay ATen fallbacks with their reasons. Max pooling's indices:
test_pooling_indices.py."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

import ember

from .test_library_ops import assert_native, run, steps


def _x(*shape, dtype=torch.float32, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g).to(dtype)


AVG = {
    "1d": lambda x: F.avg_pool1d(x, 3),
    "1d-pad-ceil": lambda x: F.avg_pool1d(x, 4, 3, 2, ceil_mode=True),
    "2d-k3s2p1": lambda x: F.avg_pool2d(x, 3, 2, 1),
    "2d-exclude-pad-ceil": lambda x: F.avg_pool2d(x, (3, 2), (2, 3), (1, 1), ceil_mode=True,
                                                  count_include_pad=False),
    "2d-include-pad-ceil": lambda x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True),
    "2d-divisor": lambda x: F.avg_pool2d(x, 2, 1, 1, divisor_override=3),
    "2d-negative-divisor": lambda x: F.avg_pool2d(x, 3, 2, divisor_override=-2),
    "3d": lambda x: F.avg_pool3d(x, 2, (1, 2, 2), (1, 0, 1), count_include_pad=False),
    "3d-ceil": lambda x: F.avg_pool3d(x, 3, 2, ceil_mode=True),
}
SHAPES = {"1": (2, 3, 13), "2": (2, 3, 11, 9), "3": (2, 2, 7, 6, 9)}


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float16])
@pytest.mark.parametrize("name", list(AVG))
def test_avg_pool_against_eager(name, dtype):
    x = _x(*SHAPES[name[0]], dtype=dtype)
    if name.startswith("3d") and dtype != torch.float32:
        # eager's CPU kernel raises for f16/bf16: Ember runs it through ATen to raise alike
        with pytest.raises(NotImplementedError):
            ember.compile(AVG[name])(x)
        return
    if dtype == torch.float32:  # exactly eager's sum order and divisor
        tol = (0, 0)
    else:
        tol = (0, 0) if dtype == torch.bfloat16 else (1e-3, 1e-3)
    report = run(AVG[name], x, tol=tol)
    assert_native(report)
    assert all(k == "kernel" for k, _ in steps(report)), report


MAX = {
    "1d": lambda x: F.max_pool1d(x, 3),
    "1d-pad-ceil-dilation": lambda x: F.max_pool1d(x, 3, 2, 1, dilation=2, ceil_mode=True),
    "2d": lambda x: F.max_pool2d(x, 2),
    "2d-k3s2p1": lambda x: F.max_pool2d(x, 3, 2, 1),
    "2d-ceil-dilation": lambda x: F.max_pool2d(x, (2, 3), (3, 2), (1, 0), dilation=(2, 1),
                                               ceil_mode=True),
    "3d": lambda x: F.max_pool3d(x, (2, 3, 2), 2, (1, 1, 0)),
}


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
@pytest.mark.parametrize("name", list(MAX))
def test_max_pool_against_eager(name, dtype):
    x = _x(*SHAPES[name[0]], dtype=dtype)
    x.view(-1)[5] = float("nan")  # NaN propagates as eager
    x.view(-1)[17] = -float("inf")
    report = run(MAX[name], x, tol=(0, 0))
    assert_native(report)
    assert all(k == "kernel" for k, _ in steps(report)), report


def test_max_pool_of_integers():
    x = torch.randint(-100, 100, (2, 3, 9, 8), dtype=torch.int64)
    report = run(lambda x: F.max_pool2d(x, 3, 2, 1), x, tol=(0, 0))
    assert_native(report)


@pytest.mark.parametrize("layout", ["channels_last", "transposed", "sliced"])
def test_pooling_of_non_contiguous_inputs(layout):
    x = _x(2, 3, 12, 10)
    if layout == "channels_last":
        x = x.to(memory_format=torch.channels_last)
    elif layout == "transposed":
        x = x.transpose(2, 3)
    else:
        x = x[:, :, 1::2, :]

    def f(x):
        return F.max_pool2d(x, 2) + F.avg_pool2d(x, 2), F.adaptive_avg_pool2d(x, (2, 1))

    report = run(f, x, tol=(1e-6, 1e-6))
    assert_native(report)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
def test_adaptive_avg_pool_with_equal_windows(dtype):
    def f(a, b, c):
        return (F.adaptive_avg_pool1d(a, 5), F.adaptive_avg_pool2d(b, (3, 1)),
                F.adaptive_avg_pool3d(c, (1, 2, 3)), F.adaptive_avg_pool2d(b, 1))

    args = (_x(2, 3, 15, dtype=dtype), _x(2, 3, 9, 7, dtype=dtype),
            _x(1, 2, 4, 6, 9, dtype=dtype))
    report = run(f, *args, tol=(1e-6, 1e-6) if dtype == torch.float32 else (1e-3, 1e-3))
    assert_native(report)


def test_pooling_fuses_with_what_surrounds_it():
    def f(x):
        return torch.sigmoid(F.max_pool2d(torch.relu(x) * 2, 2) + 1)

    report = run(f, _x(2, 4, 10, 9))
    assert_native(report)
    (step,) = steps(report)  # relu, scale, the window maximum, add and sigmoid
    assert step[0] == "kernel" and "maximum" in step[1], step


def test_global_average_pool_head():
    m = torch.nn.Sequential(torch.nn.Conv2d(3, 6, 3), torch.nn.ReLU(),
                            torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(),
                            torch.nn.Linear(6, 4)).eval()
    report = run(m, _x(2, 3, 8, 8), tol=(1e-4, 1e-4))
    assert_native(report)
    assert [k for k, _ in steps(report)][0] == "library"


def _fallback_reasons(report):
    return [f"{f.op}: {f.reason}" for f in report.fallbacks]


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float16, torch.float64])
@pytest.mark.parametrize("layout", ["contiguous", "channels_last", "transposed"])
def test_adaptive_avg_pool_with_unequal_windows(dtype, layout):
    # windows of unequal sizes: one gather per offset into the largest window, in
    # eager's order, summed from 0, then eager's sum / kh / kw: bit for bit in
    # float32/float64. (Eager's 2-D channels-last kernel divides once by kh * kw in
    # its vector lanes and twice in its scalar tail, which Ember follows only for the
    # lanes; eager's half 3-D kernel rounds its sum to the half dtype: there, one
    # ulp of the dtype.)
    def f(a, b, c):
        return (F.adaptive_avg_pool1d(a, 4), F.adaptive_avg_pool2d(b, (4, 3)),
                F.adaptive_avg_pool2d(b, (13, 9)), F.adaptive_avg_pool3d(c, (3, 4, 5)))

    a, b, c = _x(2, 3, 9, dtype=dtype), _x(2, 5, 10, 7, dtype=dtype), _x(1, 2, 5, 6, 7,
                                                                        dtype=dtype)
    if layout == "channels_last":
        b = b.to(memory_format=torch.channels_last)
        c = c.to(memory_format=torch.channels_last_3d)
    elif layout == "transposed":
        b = b.transpose(-1, -2).contiguous().transpose(-1, -2)
    exact = dtype in (torch.float32, torch.float64) and layout != "channels_last"
    report = run(f, a, b, c, tol=(0, 0) if exact else None)
    assert_native(report)
    assert len(report.kernels) == 4, report


def test_adaptive_max_pool_with_unequal_windows_is_a_library_step():
    report = run(lambda x: F.adaptive_max_pool2d(x, (3, 4)), _x(1, 2, 7, 9), tol=(0, 0))
    assert not _fallback_reasons(report)
    assert ("library", "adaptive_max_pool2d") in report.graphs[0].steps


def test_integer_avg_pool_stays_a_fallback():
    x = torch.randint(-9, 9, (1, 2, 6, 6), dtype=torch.int64)
    report = run(lambda x: F.avg_pool2d(x, 2), x, tol=(0, 0))
    assert any("avg_pool2d" in r for r in _fallback_reasons(report)), report


def test_explain_shows_the_pooling_kernel():
    report = ember.explain(lambda x: F.avg_pool2d(x, 2) * 3, _x(1, 2, 6, 4))
    assert not report.fallbacks
    (g,) = report.graphs
    ((kind, name),) = g.steps  # the window sum, the scale and the * 3: one kernel
    assert kind == "kernel", g.steps
    assert g.final_ir.count("slice(") == 6, g.final_ir  # 2 rows + 4 window offsets
    assert name in str(report)
