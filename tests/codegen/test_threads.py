"""The CPU thread pool (ember/runtime/threads.py) and threaded kernel entries."""

from __future__ import annotations

import threading

import pytest
import torch

from ember.runtime.threads import run_chunks, split


@pytest.mark.parametrize("n,parts,align", [(10, 2, 1), (10, 3, 1), (1, 4, 1), (100, 7, 16),
                                           (64, 2, 32), (65, 2, 32), (5, 8, 4), (1000, 3, 64)])
def test_split_covers_once_with_aligned_inner_bounds(n, parts, align):
    chunks = split(n, parts, align)
    assert 1 <= len(chunks) <= parts
    assert chunks[0][0] == 0 and chunks[-1][1] == n
    for (lo, hi), (lo2, _) in zip(chunks, chunks[1:]):
        assert lo < hi == lo2 and hi % align == 0
    assert all(lo < hi for lo, hi in chunks)


def test_run_chunks_runs_every_chunk_on_several_threads():
    seen, names = [], set()
    lock = threading.Lock()
    barrier = threading.Barrier(3, timeout=10)  # all three must run at once

    def fn(tag, lo, hi):
        with lock:
            seen.append((tag, lo, hi))
            names.add(threading.current_thread().name)
        barrier.wait()

    run_chunks(fn, ("t",), [(0, 1), (1, 2), (2, 5)])
    assert sorted(seen) == [("t", 0, 1), ("t", 1, 2), ("t", 2, 5)]
    assert len(names) == 3


def test_run_chunks_reraises_and_stays_usable():
    def bad(lo, hi):
        if lo == 1:
            raise ValueError("chunk 1")

    with pytest.raises(ValueError, match="chunk 1"):
        run_chunks(bad, (), [(0, 1), (1, 2)])
    out = []
    run_chunks(lambda lo, hi: out.append(lo), (), [(0, 1), (1, 2)])
    assert sorted(out) == [0, 1]


def test_threaded_kernel_entry_matches_torch():
    from ember.codegen.kernel import Access, Buffer, Instr, Kernel, Store
    from ember.codegen.mlir import available, compile_kernels
    from ember.codegen.mlir.backend import choose_schedule

    if not available()[0]:
        pytest.skip("MLIR backend unavailable")
    rows, n = 301, 77
    acc = Access(0, (n, 1))
    k = Kernel("thr_exp", (rows, n), 0, (Buffer("x", "f32", rows * n),),
               (Buffer("y", "f32", rows * n),),
               (Instr("load", (), "f32", {"buffer": 0, "access": acc}), Instr("exp", (0,), "f32")),
               (Store(0, 1, acc),))
    s = choose_schedule(k, 256, 4, min_parallel_work=0)
    (ck,) = compile_kernels([k], schedules=[s])
    assert s.threads == 4 and ck.chunks is not None and len(ck.chunks) == 4
    assert ck.pointer_entry() is not ck.fn
    x = torch.randn(rows * n)
    y1, y2 = torch.empty_like(x), torch.empty_like(x)
    ck(x.data_ptr(), y1.data_ptr())       # threaded
    ck.fn(x.data_ptr(), y2.data_ptr())    # whole range on this thread
    assert torch.equal(y1, y2)
    torch.testing.assert_close(y1, torch.exp(x))
    small = choose_schedule(k, 256, 4)  # default threshold: too small to split
    assert small.threads == 1


def test_parallel_kernels_use_torchs_openmp_threads_and_are_reentrant():
    """With torch's libgomp present, chunks run through GOMP_parallel (no competition
    with torch's spinning OpenMP workers); calls from several Python threads at once
    stay correct (each call has its own argument block)."""
    import threading

    from ember.codegen.kernel import Access, Buffer, Instr, Kernel, Store
    from ember.codegen.mlir import available, compile_kernels
    from ember.codegen.mlir import omp
    from ember.codegen.mlir.backend import choose_schedule

    if not available()[0]:
        pytest.skip("MLIR backend unavailable")
    rows, n = 257, 96
    acc = Access(0, (n, 1))
    k = Kernel("omp_tanh", (rows, n), 0, (Buffer("x", "f32", rows * n),),
               (Buffer("y", "f32", rows * n),),
               (Instr("load", (), "f32", {"buffer": 0, "access": acc}), Instr("tanh", (0,), "f32")),
               (Store(0, 1, acc),))
    (ck,) = compile_kernels([k], schedules=[choose_schedule(k, 512, 2, min_parallel_work=0)])
    if omp.runtime() is None:
        pytest.skip("torch's libgomp is not available here")
    assert "omp_entry" in ck.pointer_entry().__qualname__
    xs = [torch.randn(rows * n) for _ in range(4)]
    ys = [torch.empty_like(x) for x in xs]
    errors = []

    def work(x, y):
        try:
            for _ in range(50):
                ck(x.data_ptr(), y.data_ptr())
                torch.testing.assert_close(y, torch.tanh(x))
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=work, args=(x, y)) for x, y in zip(xs, ys)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[0]
