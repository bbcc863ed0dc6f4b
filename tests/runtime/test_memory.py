"""Memory stays flat over many calls (issue: reliability). Resident memory is read
from /proc (Linux); the allowance covers allocator noise, not a leak: a leak of
even 100 bytes per call would be 1 MB over these calls."""

from __future__ import annotations

import gc
import os

import pytest
import torch

import ember

pytestmark = pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs /proc")


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


@pytest.mark.parametrize("dynamic", [False, True])
def test_ten_thousand_calls_do_not_grow_memory(dynamic):
    def f(x, y):
        return torch.softmax(x * y + 1, -1).sum(0)

    compiled = ember.compile(f, dynamic=dynamic, strict=True)
    x, y = torch.randn(16, 32), torch.randn(32)
    with torch.no_grad():
        for _ in range(1000):  # warm: caches, allocator pools
            compiled(x, y)
        gc.collect()
        before = _rss_mb()
        for _ in range(10_000):
            compiled(x, y)
        gc.collect()
        after = _rss_mb()
    assert after - before < 4.0, f"resident memory grew {after - before:.1f} MB in 10,000 calls"


def test_many_sizes_stay_within_the_specialization_bound(monkeypatch):
    """A loop over many sizes keeps at most MAX_SPECIALIZATIONS compiled graphs."""
    from ember.frontend import specialize

    monkeypatch.setattr(specialize, "MAX_SPECIALIZATIONS", 8)
    monkeypatch.setattr(specialize, "REPORTED_SPECIALIZATIONS", 5)

    def f(x):
        return torch.exp(x) * 2

    compiled = ember.compile(f, dynamic=True, strict=True)
    with torch.no_grad():
        for n in range(2, 60):
            compiled(torch.randn(n))
    (info,) = compiled.ember_report.graphs
    assert len(info.compiled.cache) == 8 and len(info.specializations) == 5
    assert info.compiled.compiles == 58
