"""Autotuning: on a GPU, time a few launch configs of a kernel once and keep the fastest.

The choice is kept in a JSON file (``tuning.json`` in the Triton cache folder)
keyed by GPU name, CUDA driver version, Triton version and the problem (a
kernel's name-free text and schedule, or a matmul's shape/strides/dtype), so
a later process starts with it. Under Triton's interpreter nothing is timed:
kernels run with their schedule's (or template's first) config.
"""

from __future__ import annotations

import json
import math
import os
import threading
from typing import Any, Callable, Sequence

Config = dict[str, Any]


def _driver_version() -> str:
    """The CUDA driver's version (``cuDriverGetVersion``), or "unknown"."""
    import ctypes

    try:
        v = ctypes.c_int()
        if ctypes.CDLL("libcuda.so.1").cuDriverGetVersion(ctypes.byref(v)) == 0:
            return str(v.value)
    except OSError:
        pass
    return "unknown"


class TuningCache:
    """The fastest config per (GPU, driver, Triton version, problem key), on disk."""

    def __init__(self, path: str | None = None) -> None:
        from .compile import cache_dir

        self.path = path or str(cache_dir() / "tuning.json")
        self._lock = threading.Lock()

    @staticmethod
    def device_key() -> str:
        """GPU name, CUDA driver version and Triton version."""
        import torch
        import triton

        return (f"{torch.cuda.get_device_name()}/driver-{_driver_version()}/"
                f"triton-{triton.__version__}")

    def _load(self) -> dict[str, Any]:
        try:
            with open(self.path) as f:
                data = json.load(f)
            return data if isinstance(data, dict) else {}
        except (OSError, ValueError):  # absent or corrupt: start over
            return {}

    def lookup(self, key: str) -> Config | None:
        """The recorded config for ``key`` on this device, or None."""
        entry = self._load().get(f"{self.device_key()}|{key}")
        return dict(entry) if isinstance(entry, dict) else None

    def record(self, key: str, cfg: Config) -> None:
        """Records ``cfg`` for ``key`` (atomic rewrite of the file)."""
        with self._lock:
            data = self._load()
            data[f"{self.device_key()}|{key}"] = dict(cfg)
            tmp = f"{self.path}.{os.getpid()}.{threading.get_ident()}.tmp"
            with open(tmp, "w") as f:
                json.dump(data, f, indent=1, sort_keys=True)
            os.replace(tmp, self.path)


def pick(key: str, candidates: Sequence[Config], run: Callable[[Config], None],
         cache: TuningCache | None = None,
         bench: Callable[[Callable[[], None]], float] | None = None) -> Config:
    """The fastest of ``candidates`` for ``key``: recorded, or timed now and recorded.

    Args:
        run: launches the kernel with a config (on the real arguments; kernels
            never read what they write, so re-running them is harmless).
        bench: milliseconds per call of a thunk; ``triton.testing.do_bench``
            (CUDA events) by default.
    """
    cache = cache or TuningCache()
    candidates = list(candidates)
    cached = cache.lookup(key)
    if cached is not None and cached in candidates:
        return cached
    if bench is None:
        from triton.testing import do_bench

        def bench(fn):
            return do_bench(fn, warmup=5, rep=25, return_mode="median")

    best, best_ms = candidates[0], math.inf
    for cfg in candidates:
        try:
            ms = bench(lambda c=cfg: run(c))
        except Exception:  # a config this GPU cannot run (shared memory, registers)
            continue
        if ms < best_ms:
            best, best_ms = cfg, ms
    cache.record(key, best)
    return best
