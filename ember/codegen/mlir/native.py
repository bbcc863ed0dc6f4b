"""The callable side of the CPU backend: :class:`CompiledKernel` over native code.

Made from the JIT's function addresses (``jit.compile_batch``) or from a shared
object of the disk cache (:func:`load_batch`), with the same entries either way.
This module does not import the MLIR bindings' dialects or the ExecutionEngine,
so a warm start that finds every kernel on disk never loads the code generator.
"""

from __future__ import annotations

import ctypes

from .. import backend as _backend
from ..kernel import Kernel
from . import omp


class _Artifacts(dict):
    """``mlir`` as built; ``ll`` translated on first access (it costs a translation)."""

    def __init__(self, ck: "CompiledKernel") -> None:
        super().__init__(mlir=ck.source)
        self._ck = ck

    def __missing__(self, key: str) -> str:
        if key != "ll":
            raise KeyError(key)
        self["ll"] = self._ck.llvm
        return self["ll"]

    def keys(self):  # noqa: D401  (both names, whether computed yet or not)
        return ["mlir", "ll"]

    def items(self):
        return [(k, self[k]) for k in self.keys()]


class CompiledKernel(_backend.CompiledKernel):
    """A compiled kernel (JIT, or loaded from the disk cache): ``ck(*ptrs)`` with
    input then output data pointers.

    ``fn`` is the raw ctypes function (same arguments, one thread); calling it
    directly skips one Python frame. A kernel scheduled with a parallel axis
    also has ``range_fn`` (the same plus ``lo, hi`` bounds of that axis) and
    ``chunks``, the bounds its calls split the axis into across threads
    (:mod:`ember.runtime.threads`); ``pointer_entry()`` is then the threaded
    callable. ``batch`` keeps the code alive and gives the ``ll`` text
    (``jit._Batch``: the engine and module; :class:`_Library`: a loaded ``.so``).
    """

    def __init__(self, name: str, source: str, symbol: str, addr: int, num_args: int,
                 batch, range_addr: int | None = None,
                 chunks: list[tuple[int, int]] | None = None,
                 split: tuple[int, int, int] | None = None, omp_addr: int | None = None,
                 entries: dict[str, str] | None = None):
        self.name, self.source, self.symbol = name, source, symbol
        self.num_args = num_args
        self._fn_addr = addr
        # entry kind ("range", "range_omp", "partial", "finish") -> symbol; the disk
        # cache stores them to find the same functions in a shared object
        self.entries = dict(entries or {})
        ptr, i64 = ctypes.c_void_p, ctypes.c_int64
        self.fn = ctypes.CFUNCTYPE(None, *([ptr] * num_args))(addr)
        self.range_fn = None
        self.chunks = chunks if (range_addr or split) and chunks and len(chunks) > 1 else None
        self._entry = self.fn
        if self.chunks and range_addr:
            self.range_fn = ctypes.CFUNCTYPE(None, *([ptr] * num_args), i64, i64)(range_addr)
            self._entry = (omp.omp_entry(omp_addr, num_args, self.chunks) if omp_addr
                           else _threaded(self.range_fn, self.chunks))
        elif self.chunks and split:
            partial_addr, finish_addr, nred = split
            nargs = num_args + nred
            partial = ctypes.CFUNCTYPE(None, *([ptr] * nargs), i64, i64, i64)(partial_addr)
            finish = ctypes.CFUNCTYPE(None, *([ptr] * nargs), i64)(finish_addr)
            self.range_fn = (partial, finish)
            self._entry = _split(partial, finish, self.chunks, nred)
        self._batch = batch
        self.artifacts = _Artifacts(self)
        self._addrs: dict[str, int] = {}  # entry symbol -> address (for bind)

    def __call__(self, *ptrs: int) -> None:
        self._entry(*ptrs)

    def bind(self, kernel: Kernel, schedule, values: tuple[int, ...]) -> "CompiledKernel":
        """This size-parametric template (``codegen/params.py``) for one concrete
        ``kernel`` whose parameter values are ``values``: thread chunks from its
        sizes, and the parameter array passed after the buffers' pointers."""
        e = self.entries
        bound = CompiledKernel(
            kernel.name, self.source, self.symbol, self._fn_addr,
            self.num_args, self._batch, range_addr=self._addr(e.get("range")),
            omp_addr=self._addr(e.get("range_omp")),
            chunks=chunks_of(kernel, schedule) if e else None,
            split=(self._addr(e["partial"]), self._addr(e["finish"]), len(kernel.reductions))
            if "partial" in e else None, entries=e)
        array = (ctypes.c_int64 * len(values))(*values)
        params = ctypes.addressof(array)
        inner = bound._entry

        def entry(*ptrs: int) -> None:
            inner(*ptrs, params)

        bound._params = array  # alive as long as the kernel
        bound._entry = entry
        bound._addrs = self._addrs
        bound.artifacts = self.artifacts
        return bound

    def _addr(self, symbol: str | None) -> int | None:
        return None if symbol is None else self._addrs[symbol]

    def launch(self, args, stream=None) -> None:
        self._entry(*[t.data_ptr() for t in args])

    def pointer_entry(self):
        return self._entry

    @property
    def llvm(self) -> str:
        """LLVM IR of this kernel's function (with the libm declarations it
        calls), as translated from the LLVM dialect and handed to the JIT,
        i.e. before LLVM's own -O3 pipeline."""
        return self._batch.llvm_text(self.symbol)

    def __repr__(self) -> str:
        return f"<CompiledKernel {self.name} ({self.num_args} args)>"


def _threaded(range_fn, chunks):
    from ...runtime.threads import run_chunks

    def call(*ptrs: int) -> None:
        run_chunks(range_fn, ptrs, chunks)

    return call


def _split(partial, finish, chunks, nred: int):
    """Entry of a split reduction: partial accumulators per chunk on the pool
    (into per-call scratch slots), then one combine + epilogue."""
    from ...runtime.threads import run_chunks

    bounds = [(lo, hi, i) for i, (lo, hi) in enumerate(chunks)]
    nslots = len(chunks)
    slots_t = ctypes.c_double * nslots  # 8 bytes, 8-aligned: any accumulator dtype

    def call(*ptrs: int) -> None:
        bufs = [slots_t() for _ in range(nred)]
        args = (*ptrs, *(ctypes.addressof(b) for b in bufs))
        run_chunks(partial, args, bounds)
        finish(*args, nslots)

    return call


def num_args(k: Kernel) -> int:
    """Pointer arguments: the buffers, and a template's parameter array."""
    return len(k.inputs) + len(k.outputs) + (1 if k.num_params else 0)


# scratch slots of a split reduction (one per thread chunk), statically sized
MAX_SLOTS = 256


def chunks_of(kernel: Kernel, schedule) -> list[tuple[int, int]] | None:
    """The bounds a kernel's calls split its parallel (or split-reduce) axis into."""
    from ...runtime.threads import split

    if schedule is None or schedule.threads <= 1:
        return None
    opts = dict(schedule.extra)
    va = opts.get("vector_axis")
    pa = opts.get("parallel_axis")
    threads = schedule.threads
    if pa is None:
        pa = opts.get("split_reduce")
        if pa is None:
            return None
        threads = min(threads, MAX_SLOTS)
    align = schedule.vector_width if va == pa else 1
    return split(kernel.domain[pa], threads, max(1, align))


def _make_kernel(k: Kernel, chunks, source: str, symbol: str, entries: dict[str, str],
                 addr: dict[str, int], batch) -> CompiledKernel:
    """The :class:`CompiledKernel` of ``k`` from its symbols' addresses (cold or warm)."""
    ck = _new_kernel(k, chunks, source, symbol, entries, addr, batch)
    ck._addrs = {s: addr[s] for s in entries.values()}
    return ck


def _new_kernel(k: Kernel, chunks, source: str, symbol: str, entries: dict[str, str],
                addr: dict[str, int], batch) -> CompiledKernel:
    return CompiledKernel(
        k.name, source, symbol, addr[symbol], num_args(k), batch,
        range_addr=addr[entries["range"]] if "range" in entries else None,
        omp_addr=addr[entries["range_omp"]] if "range_omp" in entries else None,
        chunks=chunks if entries else None,
        split=(addr[entries["partial"]], addr[entries["finish"]], len(k.reductions))
        if "partial" in entries else None,
        entries=entries)


class _Library:
    """A batch loaded from the disk cache: the library handle and the stored ``ll`` texts."""

    def __init__(self, lib: ctypes.CDLL, llvm: dict[str, str]):
        self.lib, self._llvm = lib, llvm

    def llvm_text(self, symbol: str) -> str:
        return self._llvm.get(symbol, "")


def load_batch(path: str, metas: list[dict], items: list) -> list[CompiledKernel]:
    """The kernels of ``items`` ((kernel, schedule) pairs) from the shared object
    ``path`` (checked by the caller) and their stored ``metas``: the same entries
    as ``jit.compile_batch`` made. The library stays loaded for the process's life. Raises OSError/KeyError/AttributeError when the
    library does not load or lacks a symbol."""
    if any("range_omp" in m["entries"] for m in metas):
        omp.runtime()  # torch's libgomp mapped first: the library's needed entry binds to it
    lib = ctypes.CDLL(path)
    batch = _Library(lib, {m["symbol"]: m["ll"] for m in metas})
    out = []
    for (k, _), m in zip(items, metas):
        entries = dict(m["entries"])
        if "range_omp" in entries and omp.runtime() is None:
            del entries["range_omp"]  # no OpenMP runtime here: Ember's pool runs the chunks
        addr = {sym: ctypes.cast(getattr(lib, sym), ctypes.c_void_p).value
                for sym in [m["symbol"], *entries.values()]}
        if num_args(k) != m["num_args"]:
            raise KeyError(f"{m['symbol']}: {m['num_args']} arguments, kernel has another count")
        chunks = [tuple(c) for c in m["chunks"]] if m["chunks"] else None
        out.append(_make_kernel(k, chunks, m["mlir"], m["symbol"], entries, addr, batch))
    return out
