"""A small persistent thread pool for CPU kernels that split their outer loop.

The MLIR wheels ship no OpenMP or async runtime, so Ember brings its own
threads: a compiled kernel with a parallel axis exposes a raw entry taking a
``[lo, hi)`` range of that axis, and its Python entry calls it once per chunk,
the first chunk on the calling thread and the others on this pool's workers.
ctypes releases the GIL around foreign calls, so the chunks really run in
parallel. Workers are started on first use and re-created after a fork.
"""

from __future__ import annotations

import os
import queue
import threading
from typing import Callable, Sequence

_lock = threading.Lock()
_tasks: "queue.SimpleQueue | None" = None
_workers: list[threading.Thread] = []


def _worker(tasks: "queue.SimpleQueue") -> None:
    while True:
        item = tasks.get()
        if item is None:
            return
        fn, args, done = item
        try:
            fn(*args)
            done.put(None)
        except BaseException as e:  # handed back to the caller
            done.put(e)


def _ensure(n: int) -> "queue.SimpleQueue":
    global _tasks
    with _lock:
        if _tasks is None:
            _tasks = queue.SimpleQueue()
        while len(_workers) < n:
            t = threading.Thread(target=_worker, args=(_tasks,), daemon=True,
                                 name=f"ember-cpu-{len(_workers)}")
            t.start()
            _workers.append(t)
        return _tasks


def _after_fork() -> None:
    global _tasks
    _tasks = None
    _workers.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)


def run_chunks(fn: Callable[..., None], args: Sequence, bounds: Sequence[tuple[int, ...]]) -> None:
    """Calls ``fn(*args, *b)`` for every ``b`` (e.g. ``(lo, hi)``) in ``bounds``, in
    parallel; returns when all are done (re-raising the first error)."""
    if len(bounds) == 1:
        fn(*args, *bounds[0])
        return
    tasks = _tasks if _tasks is not None and len(_workers) >= len(bounds) - 1 \
        else _ensure(len(bounds) - 1)
    done: queue.SimpleQueue = queue.SimpleQueue()
    for b in bounds[1:]:
        tasks.put((fn, (*args, *b), done))
    err = None
    try:
        fn(*args, *bounds[0])
    except BaseException as e:
        err = e
    for _ in bounds[1:]:
        r = done.get()
        if r is not None and err is None:
            err = r
    if err is not None:
        raise err


def split(n: int, parts: int, align: int = 1) -> list[tuple[int, int]]:
    """``[0, n)`` in at most ``parts`` nearly equal chunks; inner bounds are
    multiples of ``align``, empty chunks are dropped."""
    blocks = -(-n // align)
    parts = max(1, min(parts, blocks))
    out, lo = [], 0
    for i in range(parts):
        hi = min(n, ((blocks * (i + 1)) // parts) * align)
        if hi > lo:
            out.append((lo, hi))
        lo = hi
    return out
