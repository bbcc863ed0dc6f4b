"""Convolution, sort, topk and kthvalue as library steps (torch's kernels inside the
compiled graph), against eager: values, indices and dtypes; odd sizes; float32 and a
reduced float type; non-contiguous inputs; and the steps explain reports."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

import ember

TOL = {torch.float32: (1e-5, 1e-5), torch.float64: (1e-10, 1e-10),
       torch.bfloat16: (1.6e-2, 1e-2), torch.float16: (1e-3, 1e-3)}


def run(fn, *args, tol=None):
    """Eager vs Ember; returns the explain report of the compiled run."""
    with torch.no_grad():
        want = fn(*args)
        got = ember.compile(fn)(*args)
        report = ember.explain(fn, *args)
    want = want if isinstance(want, tuple) else (want,)
    got = got if isinstance(got, tuple) else (got,)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.dtype == w.dtype and g.shape == w.shape, (g.dtype, g.shape, w.dtype, w.shape)
        rtol, atol = tol or TOL.get(w.dtype, (0, 0))
        torch.testing.assert_close(g, w, rtol=rtol, atol=atol, equal_nan=True)
    return report


def steps(report):
    return [s for g in report.graphs for s in g.steps]


def assert_native(report):
    assert not report.fallbacks, report.fallbacks
    assert all(g.eager_reason is None for g in report.graphs), report
    assert not report.graph_breaks, report.graph_breaks


# -- convolution -------------------------------------------------------------------------------
def _x(*shape, dtype=torch.float32, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g).to(dtype)


def test_conv2d_bias_relu_is_one_library_step_and_one_kernel():
    x, w, b = _x(2, 3, 9, 7), _x(5, 3, 3, 3, seed=1), _x(5, seed=2)
    report = run(lambda x, w, b: torch.relu(F.conv2d(x, w, b, padding=1)), x, w, b)
    assert_native(report)
    assert steps(report) == [("library", "convolution"), ("kernel", "k0_add_relu")], report
    (g,) = report.graphs
    # the bias is viewed as [C, 1, 1] inside the kernel: unsqueezes, no copy of its own
    assert "unsqueeze" in g.final_ir and "reshape" not in g.final_ir


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
@pytest.mark.parametrize("case", [
    "conv1d", "conv1d-groups-stride-dilation", "conv2d-noncontig", "conv2d-channels-last",
    "conv3d", "conv_transpose1d", "conv_transpose2d-groups-outpad", "conv_transpose3d"])
def test_convolution_against_eager(case, dtype):
    x_, w_ = _x, lambda *s: _x(*s, seed=3)
    if case == "conv1d":
        fn, args = lambda x, w, b: F.conv1d(x, w, b, padding=2), (x_(3, 4, 13), w_(6, 4, 5),
                                                                  w_(6))
    elif case == "conv1d-groups-stride-dilation":
        fn = lambda x, w, b: F.conv1d(x, w, b, stride=2, padding=1, dilation=3, groups=2)  # noqa: E731
        args = (x_(2, 4, 17), w_(6, 2, 3), w_(6))
    elif case == "conv2d-noncontig":
        fn = lambda x, w, b: torch.sigmoid(F.conv2d(x, w, b, stride=(2, 1)))  # noqa: E731
        args = (x_(2, 7, 9, 3).permute(0, 3, 2, 1), w_(5, 3, 3, 2), w_(5))
    elif case == "conv2d-channels-last":
        fn = lambda x, w: F.conv2d(x, w, padding="same")  # noqa: E731
        args = (x_(2, 3, 8, 5).to(memory_format=torch.channels_last), w_(4, 3, 3, 3))
    elif case == "conv3d":
        fn = lambda x, w, b: F.conv3d(x, w, b, padding=(1, 0, 1)) * 2  # noqa: E731
        args = (x_(1, 2, 5, 4, 3), w_(3, 2, 3, 2, 3), w_(3))
    elif case == "conv_transpose1d":
        fn = lambda x, w, b: F.conv_transpose1d(x, w, b, stride=3, padding=1)  # noqa: E731
        args = (x_(2, 4, 7), w_(4, 3, 4), w_(3))
    elif case == "conv_transpose2d-groups-outpad":
        fn = lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1,  # noqa: E731
                                                output_padding=1, groups=2)
        args = (x_(2, 4, 5, 3), w_(4, 3, 3, 3), w_(6))
    else:
        fn = lambda x, w: F.conv_transpose3d(x, w, stride=(1, 2, 1))  # noqa: E731
        args = (x_(1, 2, 3, 4, 3), w_(2, 3, 2, 2, 2))
    args = tuple(a.to(dtype) for a in args)
    tol = (1e-4, 1e-4) if dtype == torch.float32 else None  # conv sums like matmul
    report = run(fn, *args, tol=tol)
    assert_native(report)
    assert ("library", "convolution") in steps(report), report


def test_integer_convolution_is_a_library_step():
    x = torch.randint(-5, 5, (2, 3, 9), dtype=torch.int64)
    w = torch.randint(-3, 3, (4, 3, 2), dtype=torch.int64)
    b = torch.randint(-3, 3, (4,), dtype=torch.int64)
    report = run(lambda x, w, b: F.conv1d(x, w, b) + 1, x, w, b)
    assert_native(report)
    assert steps(report)[0] == ("library", "convolution")


def test_conv_bn_relu_block_fuses_after_the_library_step():
    m = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.BatchNorm2d(8),
                            torch.nn.ReLU(), torch.nn.MaxPool2d(2)).eval()
    x = _x(2, 3, 11, 10)
    report = run(m, x, tol=(1e-4, 1e-4))
    assert_native(report)
    kinds = [k for k, _ in steps(report)]
    # conv, then bias + batch norm + relu + max pooling in one kernel
    assert kinds == ["library", "kernel"], steps(report)


# -- sort / topk / kthvalue ------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.int32])
def test_sort_family_against_eager(dtype):
    x = (_x(5, 11) * 4).round().to(dtype)  # ties: indices must still match eager's
    xt = x.t()  # non-contiguous

    def f(x, xt):
        v, i = torch.sort(x, dim=1, descending=True)
        vs, is_ = torch.sort(xt, dim=0, stable=True)
        t = torch.topk(xt, 3, dim=1, largest=False)
        return (v, i, vs, is_, t.values, t.indices, torch.argsort(x, dim=0),
                torch.msort(xt))

    report = run(f, x, xt)
    assert_native(report)
    assert {n for k, n in steps(report) if k == "library"} == {"sort", "topk"}, report


def test_kthvalue_and_values_feed_kernels():
    x = _x(4, 9, 7)
    x[1, 2, 3] = float("nan")

    def f(x):
        v, i = torch.kthvalue(x, 4, dim=1, keepdim=True)
        top = torch.topk(x, 2, dim=-1).values
        return torch.exp(v) + 1, i, top.sum(-1)

    report = run(f, x, tol=(1e-5, 1e-5))
    assert_native(report)
    s = steps(report)
    assert ("library", "kthvalue") in s and ("library", "topk") in s, s
    assert sum(k == "kernel" for k, _ in s) == 2, s


def test_bfloat16_topk_odd_sizes():
    x = _x(3, 1, 13, dtype=torch.bfloat16)
    report = run(lambda x: torch.topk(x, 13, dim=2, sorted=True), x)
    assert_native(report)
