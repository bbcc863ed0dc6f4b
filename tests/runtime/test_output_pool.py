"""The output pool: a large kernel output's buffer is handed out again only when
nothing holds it any more (the result, a view of it, a numpy array over it),
never while anything does; ``x = f(x)`` loops find a free buffer; small outputs
and ``output_pool=False`` allocate fresh; concurrent calls never share one."""

from __future__ import annotations

import threading

import pytest
import torch

import ember
from ember.runtime import executor

N = 1 << 19  # 2 MiB of float32: pooled


def _f(x):
    return x * 2 + 1


def _compiled(**kw):
    f = ember.compile(_f, **kw)
    return f


def _fresh_buffers(monkeypatch) -> list:
    """Records the size of every buffer ``torch.empty_strided`` allocates."""
    made, real = [], torch.empty_strided

    def counting(shape, *a, **kw):
        made.append(tuple(shape))
        return real(shape, *a, **kw)

    monkeypatch.setattr(torch, "empty_strided", counting)
    return made


def test_a_dropped_result_is_reused(monkeypatch):
    f = _compiled()
    x = torch.randn(N)
    p = f(x).data_ptr()  # the result is dropped at once
    made = _fresh_buffers(monkeypatch)
    out = f(x)
    assert out.data_ptr() == p and (N,) not in made
    torch.testing.assert_close(out, x * 2 + 1)


def test_a_held_result_or_view_or_array_is_never_overwritten():
    f = _compiled()
    x, y = torch.randn(N), torch.randn(N)
    first = f(x)
    keep = first.clone()
    second = f(y)
    assert second.data_ptr() != first.data_ptr()
    assert torch.equal(first, keep)
    # only a view survives: still in use
    view, arr = first[10:], second.numpy()
    del first, second
    for _ in range(3):
        third = f(x)
        assert third.data_ptr() not in (view.data_ptr() - 40, arr.ctypes.data)
    assert torch.equal(view, keep[10:])
    torch.testing.assert_close(torch.from_numpy(arr), y * 2 + 1)


def test_a_loop_feeding_results_back_reuses_two_buffers():
    f = _compiled()
    x = torch.randn(N)
    ref = x.clone()
    ptrs = set()
    for _ in range(6):
        x = f(x)
        ref = ref * 2 + 1
        ptrs.add(x.data_ptr())
    torch.testing.assert_close(x, ref)
    assert len(ptrs) <= executor.POOL_DEPTH


def test_small_outputs_and_pool_off_allocate_fresh(monkeypatch):
    f, g = _compiled(output_pool=False), _compiled()
    x, small = torch.randn(N), torch.randn(executor.POOL_MIN_BYTES // 8)
    f(x), g(small)
    made = _fresh_buffers(monkeypatch)
    f(x), g(small), f(x), g(small)
    assert made.count((N,)) == 2 and made.count(small.shape) == 2
    torch.testing.assert_close(f(x), x * 2 + 1)


def test_concurrent_calls_never_share_a_buffer():
    f = _compiled()
    xs = [torch.full((N,), float(i)) for i in range(4)]
    f(xs[0])
    results: dict[int, list[torch.Tensor]] = {i: [] for i in range(4)}

    def work(i):
        for _ in range(20):
            results[i].append(f(xs[i]))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i, outs in results.items():
        for o in outs:  # every result held, so every one is its own buffer, intact
            assert torch.equal(o, torch.full((N,), 2.0 * i + 1))
    ptrs = [o.data_ptr() for outs in results.values() for o in outs]
    assert len(set(ptrs)) == len(ptrs)


@pytest.mark.parametrize("value,on", [("0", False), ("1", True)])
def test_env_variable(monkeypatch, value, on):
    from ember.config import Config

    monkeypatch.setenv("EMBER_OUTPUT_POOL", value)
    assert Config.from_env().output_pool is on
