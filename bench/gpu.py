"""GPU benchmark: eager vs Ember (backend="triton") vs Inductor on CUDA model blocks.

    python bench/gpu.py                   # on a CUDA GPU
    python bench/gpu.py --no-inductor     # skip torch.compile's Inductor
    python bench/gpu.py --interpret       # tiny sizes on the CPU under TRITON_INTERPRET=1
    python bench/gpu.py --only softmax    # the cases whose name contains "softmax"

Every case is checked against eager first. GPU times come from
``triton.testing.do_bench`` (CUDA events, medians); ``--interpret`` only checks
that the whole path runs (interpreter times are not performance numbers) and
prints wall-clock medians. Also reports the device copy bandwidth, the roof
for memory-bound kernels.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F

# run this checkout's ember, not whichever one is installed
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


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


def _matmul(a, b):
    return a @ b


def cases(tiny: bool, device: str, dtype: torch.dtype):
    """(name, fn, args) per case; ``tiny`` sizes run in seconds under the interpreter."""
    from ember.demo import Block

    def r(*shape):
        return torch.randn(*shape, device=device, dtype=dtype)

    s = (lambda big, small: small) if tiny else (lambda big, small: big)
    rows, cols = s(8192, 4), s(4096, 33)
    yield f"softmax {rows}x{cols}", _softmax, (r(rows, cols),)
    yield f"layer_norm {rows}x{s(1024, 48)}", _layer_norm, (r(rows, s(1024, 48)), r(s(1024, 48)),
                                                         r(s(1024, 48)))
    m, k, n = s(4096, 16), s(1024, 32), s(4096, 24)
    yield f"gelu mlp {m}x{k}x{n}", _gelu_mlp, (r(m, k), r(k, n) * 0.05, r(n), r(n, k) * 0.05, r(k))
    yield f"rmsnorm+residual {rows}x{s(1024, 40)}", _rmsnorm_residual, (
        r(rows, s(1024, 40)), r(rows, s(1024, 40)), r(s(1024, 40)))
    b, h, t, d = s(8, 1), s(16, 2), s(512, 8), s(64, 16)
    yield f"attention {b}x{h}x{t}x{d}", _attention, (r(b, h, t, d), r(b, h, t, d), r(b, h, t, d))
    mm = s(4096, 40)
    yield f"matmul {mm}^3", _matmul, (r(mm, mm), r(mm, mm))
    torch.manual_seed(0)
    dim = s(1024, 32)
    block = Block(dim, heads=s(16, 2), hidden=4 * dim).eval().to(device=device, dtype=dtype)
    yield f"transformer block {s(8, 2)}x{s(512, 8)}x{dim}", block, (r(s(8, 2), s(512, 8), dim),)


def _time(fn, args, interpret: bool, reps: int) -> float:
    """Median milliseconds per call."""
    if not interpret:
        from triton.testing import do_bench

        return do_bench(lambda: fn(*args), warmup=25, rep=100, return_mode="median")
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn(*args)
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def copy_bandwidth_gbs() -> float:
    """Device-to-device copy bandwidth (read + write) of a 1 GiB buffer."""
    from triton.testing import do_bench

    x = torch.empty(1 << 28, dtype=torch.float32, device="cuda")
    y = torch.empty_like(x)
    ms = do_bench(lambda: y.copy_(x), return_mode="median")
    return 2 * x.numel() * 4 / (ms * 1e-3) / 1e9


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--interpret", action="store_true",
                   help="tiny sizes on the CPU under Triton's interpreter")
    p.add_argument("--no-inductor", action="store_true")
    p.add_argument("--dtype", default="float32", choices=["float32", "float16", "bfloat16"])
    p.add_argument("--reps", type=int, default=3, help="interpreter repetitions")
    p.add_argument("--only", default="", help="run the cases whose name contains this")
    args = p.parse_args(argv)
    if args.interpret:
        os.environ["TRITON_INTERPRET"] = "1"
    elif not torch.cuda.is_available():
        print("bench/gpu.py: no CUDA device; run with --interpret for the CPU smoke run")
        return 2
    import ember

    device = "cpu" if args.interpret else "cuda"
    dtype = getattr(torch, args.dtype)
    tol = 1e-3 if dtype == torch.float32 else 3e-2
    inductor = not args.no_inductor and not args.interpret
    print(f"Ember GPU bench: device={torch.cuda.get_device_name() if device == 'cuda' else 'cpu (interpreter)'} "
          f"dtype={args.dtype}")
    if device == "cuda":
        print(f"  device copy bandwidth: {copy_bandwidth_gbs():.0f} GB/s")
    print(f"  {'case':34s} {'eager ms':>10s} {'ember ms':>10s} {'inductor ms':>12s} {'ember/eager':>12s}")
    failed = 0
    with torch.no_grad():
        for name, fn, fargs in cases(args.interpret, device, dtype):
            if args.only not in name:
                continue
            ref = fn(*fargs)
            compiled = ember.compile(fn, backend="triton")
            out = compiled(*fargs)
            try:
                torch.testing.assert_close(out, ref, rtol=tol, atol=tol)
            except AssertionError as e:
                print(f"  {name}: MISMATCH {str(e).splitlines()[1:3]}")
                failed += 1
                continue
            backends = {k.backend for k in compiled.ember_report.kernels}
            if backends != {"triton"}:
                print(f"  {name}: kernels ran on {backends or 'nothing'}, not triton")
                failed += 1
            te = _time(fn, fargs, args.interpret, args.reps)
            tm = _time(compiled, fargs, args.interpret, args.reps)
            ti = float("nan")
            if inductor:
                ind = torch.compile(fn)
                ind(*fargs)
                ti = _time(ind, fargs, args.interpret, args.reps)
            print(f"  {name:34s} {te:10.3f} {tm:10.3f} {ti:12.3f} {tm / te:12.2f}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
