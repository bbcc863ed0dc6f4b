"""The main demo: compile a small transformer block with Ember and compare it with eager.

Run with ``make demo`` or ``python -m ember.demo``. Prints the kernel count, the
compile time, eager and Ember times (medians), the max error, and where the IR
and kernel dumps went.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

import ember


class Block(nn.Module):
    """Pre-norm transformer block: attention (q@kᵀ, scale, softmax, @v) and a GELU MLP."""

    def __init__(self, dim: int = 128, heads: int = 4, hidden: int = 512) -> None:
        super().__init__()
        self.heads = heads
        self.ln1 = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.ln2 = nn.LayerNorm(dim)
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, c = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(c, dim=-1)
        q, k, v = (y.reshape(b, t, self.heads, c // self.heads).transpose(1, 2) for y in (q, k, v))
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(c // self.heads))
        y = (att.softmax(dim=-1) @ v).transpose(1, 2).reshape(b, t, c)
        x = x + self.proj(y)
        return x + self.fc2(F.gelu(self.fc1(self.ln2(x))))


def median_ms(fn, x, reps: int) -> float:
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn(x)
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--seq", type=int, default=64)
    p.add_argument("--dim", type=int, default=128)
    p.add_argument("--reps", type=int, default=30)
    p.add_argument("--dump-dir", default=ember.Config.from_env().dump_dir or "dumps/demo",
                   help="where IR and kernel dumps go (default: EMBER_DUMP_DIR, else dumps/demo)")
    args = p.parse_args(argv)

    torch.manual_seed(0)
    model = Block(args.dim).eval()
    x = torch.randn(args.batch, args.seq, args.dim)
    with torch.inference_mode():
        ref = model(x)
        compiled = ember.compile(model, dump_dir=args.dump_dir)
        t0 = time.perf_counter()
        out = compiled(x)
        compile_s = time.perf_counter() - t0
        err = (out - ref).abs().max().item()
        ok = torch.allclose(out, ref, rtol=1e-4, atol=1e-4)
        for _ in range(3):  # warm up both
            model(x), compiled(x)
        eager_ms = median_ms(model, x, args.reps)
        ember_ms = median_ms(compiled, x, args.reps)
    report = compiled.ember_report
    fallbacks = report.fallbacks
    print(f"Ember demo: transformer block, x={tuple(x.shape)}, threads={torch.get_num_threads()}")
    print(f"  graphs: {len(report.graphs)}, graph breaks: {len(report.graph_breaks)}, "
          f"kernels: {len(report.kernels)} (backend: "
          f"{', '.join(sorted({k.backend for k in report.kernels})) or 'none'}), "
          f"fallbacks: {len(fallbacks)}")
    for f in fallbacks:
        print(f"    fallback {f.op}: {f.reason}")
    print(f"  first call (capture + compile + run): {compile_s * 1e3:.0f} ms; Ember compile "
          f"{sum(g.compile_seconds for g in report.graphs) * 1e3:.0f} ms")
    print(f"  max |ember - eager| = {err:.2e}  ({'OK' if ok else 'MISMATCH'})")
    print(f"  eager: {eager_ms:.3f} ms   ember: {ember_ms:.3f} ms   "
          f"(speedup over eager {eager_ms / ember_ms:.2f}x, median of {args.reps})")
    print(f"  dumps: {', '.join(g.dump_dir for g in report.graphs if g.dump_dir) or 'disabled'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
