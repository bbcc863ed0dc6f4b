"""Tensors past 2**31 elements, where element offsets need 64 bits (issue 11).

Runs only with 8 GiB available (``/proc/meminfo`` MemAvailable; the int8 input
and one output are 2 GiB each, the comparisons run in chunks); about 21 s on
the 2-core development machine. ``EMBER_BIG_TESTS=0`` skips it. The reductions
are checked against values known from how the input is built: eager's own
``sum`` of a bool tensor goes through int64 and needs 16 GiB.
"""

from __future__ import annotations

import os

import pytest
import torch

import ember

N = 2**31 + 16
NEEDS_BYTES = 8 << 30
CHUNK = 1 << 28


def _available_bytes() -> int:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


pytestmark = [
    pytest.mark.skipif(os.environ.get("EMBER_BIG_TESTS") == "0",
                       reason="EMBER_BIG_TESTS=0"),
    pytest.mark.skipif(_available_bytes() < NEEDS_BYTES,
                       reason=f"needs {NEEDS_BYTES >> 30} GiB of available memory"),
]


@pytest.fixture(scope="module")
def x():
    """int8 zeros with -1..-8 at the start and 1..40 at the end (past 2**31)."""
    t = torch.zeros(N, dtype=torch.int8)
    t[:8] = -torch.arange(1, 9, dtype=torch.int8)
    t[-40:] = torch.arange(1, 41, dtype=torch.int8)
    return t


def _assert_equal_in_chunks(out: torch.Tensor, x: torch.Tensor, fn) -> None:
    assert out.shape == x.shape
    for i in range(0, N, CHUNK):
        assert torch.equal(out[i:i + CHUNK], fn(x[i:i + CHUNK])), f"elements {i}.."


def _scale(x):
    return x * 3 + 1


def _positive(x):
    return x > 5


@pytest.mark.parametrize("fn", [_scale, _positive], ids=["int8", "bool"])
def test_pointwise_past_2_31_elements(x, fn):
    compiled = ember.compile(fn, dynamic=False)
    with torch.no_grad():
        out = compiled(x)
        _assert_equal_in_chunks(out, x, fn)
    report = compiled.ember_report
    assert report.kernels and not report.fallbacks, report  # Ember's kernel, not eager
    assert out[-1].item() == fn(torch.tensor(40, dtype=torch.int8)).item()


def test_reductions_past_2_31_elements(x):
    fns = [ember.compile(fn, dynamic=False) for fn in (
        lambda t: t.sum(), lambda t: (t > 5).sum(), lambda t: t.view(2, -1).sum(1))]
    with torch.no_grad():
        total, count, rows = (fn(x) for fn in fns)
    for fn in fns:
        assert fn.ember_report.kernels and not fn.ember_report.fallbacks, fn.ember_report
    assert total.item() == sum(range(1, 41)) - sum(range(1, 9))  # 784
    assert count.item() == 35  # 6..40
    assert rows.tolist() == [-36, 820]  # the second row's elements reach 2**31 + 15
