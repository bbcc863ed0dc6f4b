"""``cat`` fused into the kernel that reads it (masked reads: every part in that
one kernel) against ``cat`` materialized one kernel per part, then read (Ember
before masked reads), and eager, in one process on the same inputs.

    python bench/cat.py [--reps 30] [--threads N] [--json FILE]

"materialized" compiles the same functions with ``fusion.CAT_FUSES = False``.
A cat that is itself the result (the first two cases) is one kernel per part
either way. Medians of interleaved rounds (``bench/measure.py``), glibc malloc
pinned as in ``bench/run.py``; the kernel counts come from ``ember.explain``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import ember  # noqa: E402
from bench.measure import fresh, pin_malloc, time_interleaved  # noqa: E402
from ember.passes import fusion  # noqa: E402


def _rope(q, cos, sin):
    h = q.shape[-1] // 2
    return q * cos + torch.cat((-q[..., h:], q[..., :h]), dim=-1) * sin


CASES = {
    "cat 2x[4096,512] -> [4096,1024]": (
        lambda a, b: torch.cat([a, b], -1), lambda: (torch.randn(4096, 512), torch.randn(4096, 512))),
    "cat 3x[1024,2048] rows": (
        lambda a, b, c: torch.cat([a, b, c], 0),
        lambda: (torch.randn(1024, 2048), torch.randn(1024, 2048), torch.randn(1024, 2048))),
    "cat 3x[1024,2048] rows, * w": (
        lambda a, b, c, w: torch.cat([a, b, c], 0) * w,
        lambda: (torch.randn(1024, 2048), torch.randn(1024, 2048), torch.randn(1024, 2048),
                 torch.randn(2048))),
    "rotary q*cos + rotate_half(q)*sin [4,32,256,128]": (
        _rope, lambda: (torch.randn(4, 32, 256, 128), torch.randn(256, 128), torch.randn(256, 128))),
    "avg_pool2d 3x3 s1 p1 [8,64,56,56]": (
        lambda x: F.avg_pool2d(x, 3, 1, 1), lambda: (torch.randn(8, 64, 56, 56),)),
    "relu + max_pool2d 3x3 s2 p1 [8,64,112,112]": (
        lambda x: F.max_pool2d(torch.relu(x), 3, 2, 1), lambda: (torch.randn(8, 64, 112, 112),)),
}


def _compile(fn, args, fused: bool):
    saved = fusion.CAT_FUSES
    fusion.CAT_FUSES = fused
    try:
        f = ember.compile(fresh(fn))
        with torch.no_grad():
            f(*args)  # compiles now, with the setting
        kernels = len(ember.explain(fresh(fn), *args).kernels)
    finally:
        fusion.CAT_FUSES = saved
    return f, kernels


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=30)
    ap.add_argument("--threads", type=int, default=torch.get_num_threads())
    ap.add_argument("--json", default=None)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    malloc = pin_malloc()
    rows = []
    print(f"threads {a.threads}, malloc {malloc}")
    print(f"{'case':50} {'eager ms':>9} {'fused ms':>9} {'mat. ms':>9} {'fused/eager':>11} "
          f"{'fused/mat.':>10} kernels")
    for name, (fn, make) in CASES.items():
        args = make()
        new, k_new = _compile(fn, args, True)
        old, k_old = _compile(fn, args, False)
        with torch.no_grad():
            ref = fn(*args)
            for f in (new, old):
                torch.testing.assert_close(f(*args), ref)
            t = time_interleaved({"eager": lambda: fn(*args), "fused": lambda: new(*args),
                                  "materialized": lambda: old(*args)}, a.reps)
        e, n, o = (t[k].median_ms for k in ("eager", "fused", "materialized"))
        rows.append({"case": name, "eager_ms": e, "fused_ms": n, "materialized_ms": o,
                     "kernels_fused": k_new, "kernels_materialized": k_old})
        print(f"{name:50} {e:9.3f} {n:9.3f} {o:9.3f} {e / n:10.2f}x {o / n:9.2f}x "
              f"{k_new} vs {k_old}")
    if a.json:
        with open(a.json, "w") as fh:
            json.dump({"threads": a.threads, "malloc": malloc, "rows": rows}, fh, indent=1)


if __name__ == "__main__":
    main()
