"""How the bench measures: timing, copy bandwidth, correctness, per-kernel profile.

Timing (:func:`time_interleaved`): every callable is warmed up, then one *sample*
times ``inner`` back-to-back calls (``inner`` is calibrated so a sample lasts at
least ``min_sample_s``, which matters only for microsecond-scale calls) and
divides. The callables are sampled in rounds, one sample each per round, in a
rotating order, so a change of machine load during the run hits them all alike.
The figure is the median sample; p25/p75 and min are kept for the spread.

Bytes moved are bytes read plus bytes written, for the copy (2 x its size) as
for a kernel (its inputs, each counted once, plus its output), so a kernel's
GB/s and the copy's are the same kind of figure.
"""

from __future__ import annotations

import contextlib
import gc
import math
import statistics
import time
import types
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import torch


@dataclass
class Timing:
    median_ms: float
    p25_ms: float
    p75_ms: float
    min_ms: float
    samples: int
    inner: int  # calls per sample

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def _quantile(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    pos = q * (len(xs) - 1)
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def summarize(seconds: list[float], inner: int) -> Timing:
    ms = [s * 1e3 for s in seconds]
    return Timing(statistics.median(ms), _quantile(ms, 0.25), _quantile(ms, 0.75), min(ms),
                  len(ms), inner)


def calibrate(fn: Callable[[], Any], min_sample_s: float, cap: int = 10_000) -> int:
    """Calls per sample so that one sample lasts at least ``min_sample_s``.

    The quickest of three calls decides, so one preempted call does not set it.
    """
    dt = math.inf
    for _ in range(3 if min_sample_s > 0 else 0):
        t0 = time.perf_counter()
        fn()
        dt = min(dt, time.perf_counter() - t0)
        if dt >= min_sample_s:
            break
    if dt >= min_sample_s:
        return 1
    return min(cap, max(1, math.ceil(min_sample_s / max(dt, 1e-7))))


def time_interleaved(fns: dict[str, Callable[[], Any]], reps: int, warmup: int = 3,
                     min_sample_s: float = 2e-3,
                     tick: Callable[[], None] | None = None) -> dict[str, Timing]:
    """Median-of-``reps`` timing of each zero-argument callable, sampled in rotating rounds.

    Args:
        fns: name -> callable (already compiled; its first call is not timed here).
        reps: samples per callable.
        warmup: untimed calls of each callable first.
        min_sample_s: a sample times enough calls to last at least this long.
        tick: called after every round (progress).
    """
    names = list(fns)
    for name in names:
        for _ in range(warmup):
            fns[name]()
    inner = {name: calibrate(fns[name], min_sample_s) for name in names}
    samples: dict[str, list[float]] = {name: [] for name in names}
    perf = time.perf_counter
    with no_gc():
        for r in range(reps):
            for j in range(len(names)):
                name = names[(r + j) % len(names)]
                fn, n = fns[name], inner[name]
                t0 = perf()
                for _ in range(n):
                    fn()
                samples[name].append((perf() - t0) / n)
            if tick:
                tick()
    return {name: summarize(samples[name], inner[name]) for name in names}


@contextlib.contextmanager
def no_gc() -> Iterator[None]:
    """Python's cyclic GC off while timing (as timeit does): its pauses are not the program's."""
    gc.collect()
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def time_one(fn: Callable[[], Any], reps: int, warmup: int = 2,
             min_sample_s: float = 2e-3) -> Timing:
    return time_interleaved({"f": fn}, reps, warmup, min_sample_s)["f"]


# -- copy bandwidth ---------------------------------------------------------------------
# glibc mallopt parameters
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3


def pin_malloc(mmap_mib: int = 32, trim_mib: int = 1024) -> str | None:
    """Fixes glibc malloc's mmap and trim thresholds for the rest of the process.

    By default glibc serves a large block (a 16 MiB output) with mmap until a
    larger one was freed, and moves that threshold as blocks come and go: which
    of eager, Ember and Inductor pays the page faults of a fresh output on each
    call (about 4096 per 16 MiB, some 1.5 ms on this machine) then depends on
    what ran before, not on the code measured; layer norm's eager median moved
    0.5 -> 3.2 ms that way between two runs. Fixed thresholds (32 MiB, glibc's
    largest mmap threshold; trims above 1 GiB) serve blocks up to 32 MiB from
    the heap and keep it, so after the warm-up no mode faults on a reused
    size. It is what PyTorch's CPU tuning guide gets from jemalloc/tcmalloc.
    Returns a description, or None where the C library is not glibc.
    """
    import ctypes

    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return None
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    if not (mallopt(_M_MMAP_THRESHOLD, mmap_mib << 20) and mallopt(_M_TRIM_THRESHOLD,
                                                                  trim_mib << 20)):
        return None
    return f"malloc: glibc, mmap threshold {mmap_mib} MiB, trim threshold {trim_mib} MiB (fixed)"


def copy_bandwidth(mbytes: int = 256, reps: int = 20) -> dict:
    """Median GB/s of ``dst.copy_(src)`` on ``mbytes`` MiB of float32 (read + write).

    Also ``clone_gbps``: the same copy into a freshly allocated tensor
    (``src.clone()``), which pays the page faults of new memory as every freshly
    allocated kernel output does; on some machines (VMs) that costs several times
    the copy itself.
    """
    n = mbytes * 1024 * 1024 // 4
    src = torch.rand(n)
    dst = torch.empty_like(src)
    t = time_one(lambda: dst.copy_(src), reps, warmup=3, min_sample_s=0.0)
    del dst
    tc = time_one(lambda: src.clone(), max(3, reps // 2), warmup=1, min_sample_s=0.0)
    moved = 2 * n * 4
    return {"mbytes": mbytes, "threads": torch.get_num_threads(), "median_ms": t.median_ms,
            "gbps": moved / (t.median_ms * 1e-3) / 1e9,
            "gbps_best": moved / (t.min_ms * 1e-3) / 1e9,
            "clone_gbps": moved / (tc.median_ms * 1e-3) / 1e9}


# -- correctness ------------------------------------------------------------------------
def flat_tensors(out: Any) -> list[torch.Tensor]:
    """The tensors of an output: a tensor, nested tuples/lists/dicts (ModelOutput too)."""
    if isinstance(out, torch.Tensor):
        return [out]
    if isinstance(out, dict):
        return [t for v in out.values() for t in flat_tensors(v)]
    if isinstance(out, (tuple, list)):
        return [t for v in out for t in flat_tensors(v)]
    return []


@dataclass
class Check:
    ok: bool
    max_abs_err: float
    detail: str = ""


def compare(out: Any, ref: Any, rtol: float, atol: float) -> Check:
    """allclose (NaN equal to NaN) of every output tensor against eager's."""
    outs, refs = flat_tensors(out), flat_tensors(ref)
    if len(outs) != len(refs):
        return Check(False, math.inf, f"{len(outs)} outputs, eager has {len(refs)}")
    worst = 0.0
    for i, (o, r) in enumerate(zip(outs, refs)):
        if o.shape != r.shape or o.dtype != r.dtype:
            return Check(False, math.inf, f"output {i}: {o.dtype}{list(o.shape)}, eager has "
                                          f"{r.dtype}{list(r.shape)}")
        if o.numel() == 0:
            continue
        d = (o.double() - r.double()).abs()
        both_nan = o.isnan() & r.isnan()
        d = torch.where(both_nan, torch.zeros_like(d), d)
        err = float(d.nan_to_num(math.inf).max())
        worst = max(worst, err)
        if not torch.allclose(o, r, rtol=rtol, atol=atol, equal_nan=True):
            return Check(False, worst, f"output {i}: max |diff| {err:.3g} "
                                       f"(rtol {rtol:g}, atol {atol:g})")
    return Check(True, worst)


# -- fresh function objects -------------------------------------------------------------
def fresh(fn: Any) -> Any:
    """A function with a new code object, so Dynamo's per-code caches start empty.

    Modules are returned as they are: the bench resets Dynamo between cases.
    """
    if isinstance(fn, types.FunctionType):
        g = types.FunctionType(fn.__code__.replace(), fn.__globals__, fn.__name__,
                               fn.__defaults__, fn.__closure__)
        g.__kwdefaults__ = fn.__kwdefaults__
        g.__qualname__ = fn.__qualname__
        return g
    return fn


def nbytes(args: Any) -> int:
    """Bytes of the distinct tensors in ``args`` (each storage span counted once)."""
    seen: set[tuple[int, int]] = set()
    total = 0
    for t in flat_tensors(list(args) if isinstance(args, tuple) else args):
        key = (t.data_ptr(), t.numel())
        if key not in seen:
            seen.add(key)
            total += t.numel() * t.element_size()
    return total


# -- Ember internals: graph inputs, per-step bytes, profile --------------------------------
@dataclass
class GraphCalls:
    """What Ember's compiled graphs were called with during one call (by CompiledGraph id)."""

    args: dict[int, tuple] = field(default_factory=dict)  # the first call's arguments
    calls: dict[int, int] = field(default_factory=dict)  # how many times each ran


@contextlib.contextmanager
def record_graph_inputs() -> Iterator[GraphCalls]:
    """Records the arguments each Ember CompiledGraph is called with, and how often.

    These are the graph's inputs in IR argument order (module parameters
    included), which ``CompiledGraph.profile`` and a direct call need. The hook
    wraps the class's ``__call__`` only inside this block.
    """
    from ember.runtime.executor import CompiledGraph

    seen = GraphCalls()
    orig = CompiledGraph.__call__

    def recording(self, *args):
        seen.args.setdefault(id(self), args)
        seen.calls[id(self)] = seen.calls.get(id(self), 0) + 1
        return orig(self, *args)

    CompiledGraph.__call__ = recording
    try:
        yield seen
    finally:
        CompiledGraph.__call__ = orig


def step_bytes(final_ir: str) -> list[int | None]:
    """Bytes moved by each runtime step of a graph, from its IR after the passes.

    One entry per non-constant node, in order (the order of ``CompiledGraph.infos``
    and of ``profile``); None for a runtime view (nothing moves unless torch has
    to copy, which the IR does not say). A step reads each distinct input once
    and writes its outputs; an input that is a view (expand, slice, ...) counts the smaller of
    the view and the tensor it views, so a broadcast operand is not overcounted.
    An empty list when the IR cannot be parsed.
    """
    from ember.ir import dtypes, parse
    from ember.ir.ops import get_op

    try:
        g = parse(final_ir)
    except Exception:  # noqa: BLE001  (no bytes is better than no bench)
        return []

    def size(v) -> int:
        n = v.type.numel
        p = v.producer
        while p is not None and get_op(p.op).kind == "view" and p.inputs:
            v = p.inputs[0]
            n = min(n, v.type.numel)
            p = v.producer
        return n * dtypes.itemsize(v.dtype)

    out = []
    for n in g.nodes:
        kind = get_op(n.op).kind
        if kind == "constant":
            continue
        if kind == "view":  # no data, unless a reshape of a strided tensor copies: unknown
            out.append(None)
            continue
        ins = list(dict.fromkeys(n.inputs))
        out.append(sum(size(v) for v in ins) +
                   sum(o.type.numel * dtypes.itemsize(o.dtype) for o in n.outputs))
    return out


SPLIT_PARTS = ("call", "guards_wrappers", "executor", "kernels", "library", "other_steps")


@dataclass
class GraphProfile:
    graph: str
    exec_ms: float  # the CompiledGraph called directly (executor + steps)
    steps: list[dict] = field(default_factory=list)  # kind, name, ms, bytes, gbps
    calls: int = 1  # times the graph runs per call of the compiled function


def _profile_rounds(reps, names, fns, inner, graphs, graph_args, times_per_call, per_round,
                    step_ms) -> None:
    """The rounds of :func:`profile_graphs`, filling ``per_round`` and ``step_ms``."""
    perf = time.perf_counter
    for r in range(reps):
        sample: dict[str, float] = {}
        for j in range(len(names)):
            name = names[(r + j) % len(names)]
            fn, n = fns[name], inner[name]
            t0 = perf()
            for _ in range(n):
                fn()
            sample[name] = (perf() - t0) / n * 1e3
        by_kind: dict[str, float] = {}
        for g in graphs:
            prof = g.compiled.profile(*graph_args[id(g.compiled)], reps=inner[g.name])
            cols = step_ms.setdefault(g.name, [[] for _ in prof])
            for col, (kind, _, sec) in zip(cols, prof):
                col.append(sec * 1e3)
                by_kind[kind] = by_kind.get(kind, 0.0) + sec * 1e3 * times_per_call[g.name]
        exec_ms = sum(sample[g.name] * times_per_call[g.name] for g in graphs)
        parts = {"call": sample["call"], "guards_wrappers": sample["call"] - exec_ms,
                 "executor": exec_ms - sum(by_kind.values()),
                 "kernels": by_kind.pop("kernel", 0.0), "library": by_kind.pop("library", 0.0),
                 "other_steps": sum(by_kind.values())}
        for k, v in parts.items():
            per_round.setdefault(k, []).append(v)
        for g in graphs:
            per_round.setdefault("exec:" + g.name, []).append(sample[g.name])


def profile_graphs(call: Callable[[], Any], report: Any, seen: GraphCalls, reps: int,
                   min_sample_s: float = 2e-3) -> tuple[dict, list[GraphProfile]]:
    """Per-step times of the compiled graphs and where one call of ``call`` goes.

    Each of ``reps`` rounds times the compiled function's call, each compiled
    graph called directly (executor + steps), and one ``CompiledGraph.profile``
    pass per graph (every step timed). The split is computed *per round* and its
    median taken, so a change of load between rounds does not tear the parts
    apart (a difference of medians taken at different times can go negative on a
    loaded machine). A graph that runs n times per call (recorded by
    :func:`record_graph_inputs`) counts n times in the split.

    Returns:
        (split, graphs). split, in ms: ``call`` (the compiled function),
        ``guards_wrappers`` (the call minus its graphs run directly: Dynamo guards,
        the aot_autograd and ``ember.compile`` wrappers, Python between graphs),
        ``executor`` (graphs run directly minus their steps: Ember's Python per
        step), and the steps by kind: ``kernels`` (Ember's), ``library`` (matmul
        through torch), ``other_steps`` (views, eager fallbacks); each the median
        over rounds, and ``best``: the parts of the quickest round. graphs: each
        step's median ms, bytes moved and GB/s.
    """
    graph_args = seen.args
    graphs = [g for g in report.graphs
              if g.compiled is not None and id(g.compiled) in graph_args]
    times_per_call = {g.name: seen.calls.get(id(g.compiled), 1) for g in graphs}

    def direct(cg, args):
        return lambda: cg(*args)

    fns = {"call": call}
    fns.update({g.name: direct(g.compiled, graph_args[id(g.compiled)]) for g in graphs})
    names = list(fns)
    for name in names:
        for _ in range(2):
            fns[name]()
    inner = {name: calibrate(fns[name], min_sample_s) for name in names}
    per_round: dict[str, list[float]] = {}
    step_ms: dict[str, list[list[float]]] = {}
    with no_gc():
        _profile_rounds(reps, names, fns, inner, graphs, graph_args, times_per_call, per_round,
                        step_ms)

    med = {k: statistics.median(v) for k, v in per_round.items()}
    # The least disturbed round (the smallest call + graphs + steps) as a whole: noise
    # only adds time, so on a loaded machine its parts are the steadier estimate
    # (shown when the medians disagree).
    totals = [per_round["call"][r] + sum(per_round["exec:" + g.name][r] for g in graphs)
              + sum(per_round[k][r] for k in ("kernels", "library", "other_steps"))
              for r in range(reps)]
    quick = totals.index(min(totals))
    best = {k: per_round[k][quick] for k in SPLIT_PARTS}
    out = []
    for g in graphs:
        cg = g.compiled
        sizes = step_bytes(g.final_ir)
        named = [i for i in cg.infos if i.kind != "constant"]
        if len(sizes) != len(named):
            sizes = [None] * len(named)
        steps = []
        for info, col, b in zip(named, step_ms.get(g.name, []), sizes):
            ms = statistics.median(col)
            steps.append({"kind": info.kind, "name": info.name, "ms": ms, "bytes": b,
                          "gbps": (b / (ms * 1e-3) / 1e9) if b and ms > 0 else None})
        out.append(GraphProfile(g.name, med["exec:" + g.name], steps,
                                times_per_call[g.name]))
    split = {k: med.get(k, 0.0) for k in SPLIT_PARTS}
    split["best"] = best
    return split, out
