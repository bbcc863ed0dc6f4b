"""Row reductions kernel by kernel, single-threaded: Ember's compiled kernels
against the eager op that does the same work, on one 4096x1024 float32 tensor.

    python bench/row_kernels.py            # 40 interleaved rounds; min and median

Each round calls every kernel once (rotating, so load changes hit all alike);
the figures are the best and the median call. One thread, so the figures show
code quality rather than threading. Kernels:

* ``max rows`` / ``sum rows``: a plain row reduction (``x.amax(1)`` /
  ``x.sum(1)`` eagerly).
* ``softmax``: softmax as one staged kernel (max, sum of exp, normalize: three
  passes over each row) as the CPU backend compiles it: the exp is stored in
  the sum pass and reloaded to normalize (``codegen/mlir/reuse.py``); eagerly
  ``torch.softmax``.
* ``softmax, exp twice``: the same kernel without that rewrite (the exp is
  computed again in the normalize pass).
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import replace

import torch

from ember.codegen.kernel import Access, Buffer, Instr, Kernel, Reduction, Store


def _kernels(rows: int, n: int) -> list[Kernel]:
    x = Buffer("x", "f32", rows * n)
    load = Instr("load", (), "f32", {"buffer": 0, "access": Access(0, (n, 1))})

    def red(name: str, kind: str) -> Kernel:
        return Kernel(name, (rows, n), 1, (x,), (Buffer("o", "f32", rows),), (load,),
                      (Store(0, 0, Access(0, (1,))),), (Reduction(kind, 0, "f32"),),
                      (Instr("reduced", (), "f32", {"index": 0}),))

    def softmax(name: str) -> Kernel:
        r = lambda i: Instr("reduced", (), "f32", {"index": i})  # noqa: E731
        body = [load, r(0), Instr("sub", (0, 1), "f32"), Instr("exp", (2,), "f32"), r(1)]
        body.append(Instr("div", (3, 4), "f32"))
        return Kernel(name, (rows, n), 1, (x,), (Buffer("o", "f32", rows * n),), tuple(body),
                      (Store(0, 5, Access(0, (n, 1)), prologue=True),),
                      (Reduction("max", 0, "f32"), Reduction("sum", 3, "f32")))

    from ember.codegen.mlir.reuse import reuse_stored

    sm = softmax("softmax")
    return [red("max rows", "max"), red("sum rows", "sum"), reuse_stored(sm),
            replace(sm, name="softmax, exp twice")]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=40)
    ap.add_argument("--rows", type=int, default=4096)
    ap.add_argument("--cols", type=int, default=1024)
    args = ap.parse_args()
    from ember.codegen.mlir import compile_kernels
    from ember.codegen.mlir.backend import choose_schedule, host_vector_bits

    torch.set_num_threads(1)
    ks = _kernels(args.rows, args.cols)
    cks = compile_kernels(ks, schedules=[choose_schedule(k, host_vector_bits(), 1) for k in ks])
    x = torch.randn(args.rows, args.cols)
    out = torch.empty(args.rows, args.cols)
    eager = {"max rows": lambda: x.amax(1), "sum rows": lambda: x.sum(1),
             "softmax": lambda: torch.softmax(x, 1), "softmax, exp twice": None}
    times: dict[str, list[float]] = {}
    for _ in range(args.rounds):
        for k, ck in zip(ks, cks):
            t0 = time.perf_counter()
            ck(x.data_ptr(), out.data_ptr())
            times.setdefault(("ember", k.name), []).append(time.perf_counter() - t0)
            if eager[k.name] is not None:
                t0 = time.perf_counter()
                eager[k.name]()
                times.setdefault(("eager", k.name), []).append(time.perf_counter() - t0)
    print(f"row kernels, {args.rows}x{args.cols} float32, 1 thread, {args.rounds} rounds "
          f"(ms: min / median)")
    for k in ks:
        e = times[("ember", k.name)]
        line = f"  {k.name:18s} ember {min(e) * 1e3:7.3f} / {statistics.median(e) * 1e3:7.3f}"
        if ("eager", k.name) in times:
            g = times[("eager", k.name)]
            line += f"   eager {min(g) * 1e3:7.3f} / {statistics.median(g) * 1e3:7.3f}"
        print(line)


if __name__ == "__main__":
    main()
