"""Benchmark suite: eager vs Ember vs Inductor (torch.compile) on model blocks, CPU.

    python bench/run.py                 # all cases, with Inductor
    python bench/run.py --no-inductor   # skip Inductor (its C++ compile is slow)

Every case is checked against eager first. Times are medians of ``--reps`` calls
after warm-up, in one process, reported as ratios to eager (lower is faster).
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

import ember
from ember.demo import Block


def _softmax(x):
    return torch.softmax(x, dim=-1)


def _layer_norm(x, w, b):
    return F.layer_norm(x, x.shape[-1:], w, b)


def _gelu_mlp(x, w1, b1, w2, b2):
    return F.gelu(x @ w1 + b1) @ w2 + b2


def _rmsnorm_residual(x, r, w):
    h = x + r
    return h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + 1e-6) * w


def _attention(q, k, v):
    att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(q.shape[-1]))
    return att.softmax(dim=-1) @ v


def cases():
    r = torch.randn
    yield "softmax 256x1024", _softmax, (r(256, 1024),)
    yield "layer_norm 512x768", _layer_norm, (r(512, 768), r(768), r(768))
    yield "gelu mlp 256x512x1024", _gelu_mlp, (r(256, 512), r(512, 1024), r(1024),
                                              r(1024, 512), r(512))
    yield "rmsnorm+residual 512x768", _rmsnorm_residual, (r(512, 768), r(512, 768), r(768))
    yield "attention 4x8x128x64", _attention, (r(4, 8, 128, 64), r(4, 8, 128, 64),
                                               r(4, 8, 128, 64))
    torch.manual_seed(0)
    yield "transformer block 8x64x128", Block().eval(), (r(8, 64, 128),)


def median_ms(fn, args, reps: int) -> float:
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="eager vs Ember vs Inductor on the CPU")
    p.add_argument("--reps", type=int, default=50)
    p.add_argument("--no-inductor", action="store_true")
    args = p.parse_args(argv)
    rows = []
    with torch.inference_mode():
        for name, fn, inputs in cases():
            ref = fn(*inputs)
            em = ember.compile(fn)
            t0 = time.perf_counter()
            out = em(*inputs)
            compile_ms = (time.perf_counter() - t0) * 1e3
            ok = torch.allclose(out, ref, rtol=1e-4, atol=1e-4)
            kernels = len(em.ember_report.kernels)
            ind = None
            if not args.no_inductor:
                ind = torch.compile(fn, backend="inductor", dynamic=False)
                ind(*inputs)
            for f in (fn, em) + ((ind,) if ind is not None else ()):
                for _ in range(3):
                    f(*inputs)
            t_eager = median_ms(fn, inputs, args.reps)
            t_ember = median_ms(em, inputs, args.reps)
            t_ind = median_ms(ind, inputs, args.reps) if ind is not None else float("nan")
            rows.append((name, ok, kernels, compile_ms, t_eager, t_ember, t_ind))
            print(f"  {name}: done", file=sys.stderr)
    print(f"threads={torch.get_num_threads()}  reps={args.reps}  (times: median ms; ratio: /eager)")
    print(f"{'case':30s} {'ok':>3s} {'kern':>4s} {'1st call':>9s} {'eager':>8s} {'ember':>8s} "
          f"{'ratio':>6s} {'inductor':>9s} {'ratio':>6s}")
    for name, ok, k, c, te, tm, ti in rows:
        print(f"{name:30s} {'yes' if ok else 'NO':>3s} {k:4d} {c:8.0f}ms {te:8.3f} {tm:8.3f} "
              f"{tm / te:6.2f} {ti:9.3f} {ti / te:6.2f}")
    return 0 if all(r[1] for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
