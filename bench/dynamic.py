"""ember bench --dynamic: symbolic-size graphs against static ones, in one process.

    python bench/run.py --dynamic               # the suite's cases, then a length sweep
    python bench/run.py --dynamic --tiny        # tests the instrument (not for figures)

Part 1, speed: each suite case compiled static (``dynamic=False``) and symbolic
(``dynamic=True``: every size runs through size-parametric kernels), timed at the
same sizes in rotating rounds with eager; the figure is static time / symbolic
time (the issue's target: >= 0.9).

Part 2, compiles: a GPT-style decoder block called over sequence lengths
``1..--sweep`` with ``dynamic=None`` (the default): Dynamo graphs captured, MLIR
kernels compiled (templates), and Ember's own time for a new length (median
over the sweep, from the reports' compile times), against the eager loop.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import torch

import ember
import ember.compiler
from bench import cases as bench_cases
from bench import measure


def _count_compiles() -> list[int]:
    """Counts kernels the MLIR backend compiles (patched in for this process)."""
    from ember.codegen.mlir.backend import MLIRBackend

    counter = [0]
    if getattr(MLIRBackend.compile, "_ember_counting", None) is not None:
        return MLIRBackend.compile._ember_counting
    orig = MLIRBackend.compile

    def counting(self, items, **kw):
        counter[0] += len(items)
        return orig(self, items, **kw)

    counting._ember_counting = counter
    MLIRBackend.compile = counting
    return counter


def speed(args: Any, cases: list) -> list[dict]:
    rows = []
    for case in cases:
        torch.manual_seed(args.seed)
        fn, inputs = case.make()
        static = ember.compile(fn, dynamic=False)
        symbolic = ember.compile(fn, dynamic=True)
        with torch.no_grad():
            ref = fn(*inputs)
            from ember.runtime import diskcache
            for name, c in (("static", static), ("symbolic", symbolic)):
                check = measure.compare(c(*inputs), ref, case.rtol, case.atol)
                if not check.ok:
                    raise SystemExit(f"{case.name}: {name} differs from eager: {check}")
            diskcache.flush_all()  # background writes end before timing
            t = measure.time_interleaved(
                {"eager": lambda: fn(*inputs), "static": lambda: static(*inputs),
                 "symbolic": lambda: symbolic(*inputs)}, args.reps, args.warmup)
        sym_graphs = symbolic.ember_report.graphs
        native = all(g.inputs and not g.eager_reason for g in sym_graphs)
        row = {"case": case.name, "eager_ms": t["eager"].median_ms,
               "static_ms": t["static"].median_ms, "symbolic_ms": t["symbolic"].median_ms,
               "symbolic_native": native}
        row["ratio"] = row["static_ms"] / row["symbolic_ms"]
        rows.append(row)
        print(f"  {case.name:34s} eager {row['eager_ms']:9.3f} ms  static "
              f"{row['static_ms']:9.3f} ms  symbolic {row['symbolic_ms']:9.3f} ms  "
              f"static/symbolic {row['ratio']:.2f}x{'' if native else '  (NOT symbolic)'}",
              flush=True)
        torch._dynamo.reset()
    return rows


def sweep(args: Any, lengths: int, tiny: bool) -> dict:
    dim, heads, batch = (32, 2, 1) if tiny else (256, 4, 2)
    torch.manual_seed(args.seed)
    # positions up to 2x the sweep, as real models have (GPT-2: 1024): slicing the
    # mask at exactly its length would make Dynamo specialize that length
    model = bench_cases.DecoderBlock(dim, heads, 2 * lengths).eval()
    compiled = ember.compile(model)
    counter = _count_compiles()
    before = counter[0]
    xs = [torch.randn(batch, n, dim) for n in range(1, lengths + 1)]
    worst = 0.0
    with torch.no_grad():
        for x in xs[:4]:  # torch's own per-shape caches (oneDNN) warm for both loops
            model(x)
        t0 = time.perf_counter()
        for x in xs:
            compiled(x)
        compiled_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        for x in xs:
            model(x)
        eager_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        for x in xs:  # every size compiled: the steady state
            compiled(x)
        again_s = time.perf_counter() - t0
        for x in xs:
            worst = max(worst, (compiled(x) - model(x)).abs().max().item())
    graphs = compiled.ember_report.graphs
    specs = [s for g in graphs for s in g.specializations]
    per_size = [s.compile_seconds for s in specs]  # the newest (the report keeps some)
    total = sum(getattr(g.compiled, "seconds", 0.0) for g in graphs)
    out = {"lengths": lengths, "dynamo_graphs": len(graphs),
           "specializations": sum(getattr(g.compiled, "compiles", 0) for g in graphs),
           "kernels_compiled": counter[0] - before,
           "ember_ms_per_new_length": statistics.median(per_size) * 1e3 if per_size else None,
           "ember_s_total": total, "loop_s": compiled_s, "second_loop_s": again_s,
           "eager_loop_s": eager_s, "max_abs_diff": worst,
           "fallbacks": len(compiled.ember_report.fallbacks)}
    print(f"  decoder block {batch}x(1..{lengths})x{dim}: {out['dynamo_graphs']} Dynamo graphs, "
          f"{out['specializations']} sizes specialized, {out['kernels_compiled']} kernels "
          f"compiled, Ember {out['ember_ms_per_new_length'] or 0:.1f} ms per new length "
          f"(median, {total:.1f} s in all); first loop {compiled_s:.2f} s, second "
          f"loop {again_s:.2f} s, eager loop {eager_s:.2f} s; max |diff| {worst:.2e}",
          flush=True)
    return out


def main(args: Any) -> dict:
    cases = [c for c in bench_cases.suite(args.tiny)
             if not args.cases or any(s in c.name for s in args.cases.split(","))]
    print(f"static vs symbolic kernels ({len(cases)} cases, median of {args.reps}):", flush=True)
    rows = speed(args, cases)
    ratios = [r["ratio"] for r in rows]
    geo = statistics.geometric_mean(ratios) if ratios else float("nan")
    print(f"  geomean static/symbolic {geo:.2f}x (worst {min(ratios):.2f}x)")
    print("sequence-length sweep (dynamic=None):", flush=True)
    sw = sweep(args, args.sweep, args.tiny)
    return {"speed": rows, "geomean_static_over_symbolic": geo, "sweep": sw}
