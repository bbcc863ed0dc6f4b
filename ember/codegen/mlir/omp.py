"""Parallel kernels on torch's own OpenMP thread pool.

A kernel with a parallel axis has a ``<sym>_range(ptrs..., lo, hi)`` entry. Run on
Ember's own Python thread pool, its chunks competed for the cores with torch's
OpenMP workers, which spin for a while after every parallel ATen op: on two
cores an Ember kernel that followed a matmul or an eager op ran at half speed.
So when the process has the GNU OpenMP runtime that torch itself uses
(``torch/lib/libgomp.so.1``), a parallel kernel also gets
``<sym>_range_omp(ptr data)``, an outlined body in the shape ``GOMP_parallel``
expects: ``data`` holds the kernel's pointers, the chunk count and the chunk
bounds; each OpenMP thread runs chunks ``tid, tid + nthreads, ...``. The entry
calls ``GOMP_parallel`` through ctypes (which releases the GIL), so the chunks
run on the same threads as torch's parallel regions.

Without that runtime (another torch build, or none loaded), kernels keep
Ember's pool (``runtime/threads.py``).
"""

from __future__ import annotations

import ctypes
import functools
import os
from typing import Callable

from mlir import ir

_DECLS = """
llvm.func @omp_get_thread_num() -> i32
llvm.func @omp_get_num_threads() -> i32
"""


@functools.lru_cache(maxsize=1)
def runtime() -> tuple[str, Callable] | None:
    """(path of libgomp, its GOMP_parallel) when torch's OpenMP runtime is usable."""
    try:
        import torch
    except ImportError:
        return None
    path = os.path.join(os.path.dirname(torch.__file__), "lib", "libgomp.so.1")
    if not os.path.exists(path):
        return None
    try:
        lib = ctypes.CDLL(path)
        fn = lib.GOMP_parallel
    except (OSError, AttributeError):
        return None
    fn.restype = None
    fn.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint, ctypes.c_uint]
    return path, fn


def omp_function(range_symbol: str, num_args: int) -> str:
    """LLVM-dialect text of ``<range_symbol>_omp(ptr data)``.

    ``data`` is an i64 array: ``num_args`` pointers, the chunk count, then
    ``lo, hi`` per chunk.
    """
    n = num_args
    lines = [f"llvm.func @{range_symbol}_omp(%data: !llvm.ptr) {{",
             "  %tid32 = llvm.call @omp_get_thread_num() : () -> i32",
             "  %nth32 = llvm.call @omp_get_num_threads() : () -> i32",
             "  %tid = llvm.sext %tid32 : i32 to i64",
             "  %nth = llvm.sext %nth32 : i32 to i64"]
    for i in range(n):
        lines += [f"  %g{i} = llvm.getelementptr %data[{i}] : (!llvm.ptr) -> !llvm.ptr, i64",
                  f"  %p{i} = llvm.load %g{i} : !llvm.ptr -> !llvm.ptr"]
    lines += [f"  %gn = llvm.getelementptr %data[{n}] : (!llvm.ptr) -> !llvm.ptr, i64",
              "  %nchunks = llvm.load %gn : !llvm.ptr -> i64",
              "  llvm.br ^loop(%tid : i64)",
              "^loop(%c: i64):",
              "  %more = llvm.icmp \"slt\" %c, %nchunks : i64",
              "  llvm.cond_br %more, ^body, ^exit",
              "^body:",
              "  %one = llvm.mlir.constant(1 : i64) : i64",
              "  %two = llvm.mlir.constant(2 : i64) : i64",
              f"  %base = llvm.mlir.constant({n + 1} : i64) : i64",
              "  %c2 = llvm.mul %c, %two : i64",
              "  %ilo = llvm.add %c2, %base : i64",
              "  %ihi = llvm.add %ilo, %one : i64",
              "  %glo = llvm.getelementptr %data[%ilo] : (!llvm.ptr, i64) -> !llvm.ptr, i64",
              "  %ghi = llvm.getelementptr %data[%ihi] : (!llvm.ptr, i64) -> !llvm.ptr, i64",
              "  %lo = llvm.load %glo : !llvm.ptr -> i64",
              "  %hi = llvm.load %ghi : !llvm.ptr -> i64"]
    args = ", ".join([f"%p{i}" for i in range(n)] + ["%lo", "%hi"])
    types = ", ".join(["!llvm.ptr"] * n + ["i64", "i64"])
    lines += [f"  llvm.call @{range_symbol}({args}) : ({types}) -> ()",
              "  %next = llvm.add %c, %nth : i64",
              "  llvm.br ^loop(%next : i64)",
              "^exit:",
              "  llvm.return",
              "}"]
    return "\n".join(lines)


def append_omp_functions(module: ir.Module, ranges: list[tuple[str, int]]) -> list[str]:
    """Adds ``<sym>_omp`` for each ``(range symbol, num_args)``; returns their symbols."""
    if not ranges:
        return []
    # the range functions are declared so that the text parses alone; only the
    # OpenMP declarations and the new functions move into the module
    stubs = "\n".join(f"llvm.func @{sym}({', '.join(['!llvm.ptr'] * n + ['i64', 'i64'])})"
                      for sym, n in ranges)
    text = _DECLS + stubs + "\n" + "\n".join(omp_function(sym, n) for sym, n in ranges)
    parsed = ir.Module.parse(text)
    have = {ir.StringAttr(op.attributes["sym_name"]).value for op in module.body.operations}
    stubbed = {sym for sym, _ in ranges}
    for op in list(parsed.body.operations):
        name = ir.StringAttr(op.attributes["sym_name"]).value
        if name not in stubbed and name not in have:
            module.body.append(op)
    return [f"{sym}_omp" for sym, _ in ranges]


def omp_entry(omp_addr: int, num_args: int, chunks: list[tuple[int, int]]):
    """A callable ``(*ptrs)`` running the kernel's chunks on torch's OpenMP threads."""
    _, gomp = runtime()
    tail = [len(chunks)] + [b for lo_hi in chunks for b in lo_hi]
    array_t = ctypes.c_int64 * (num_args + len(tail))
    nthreads = len(chunks)

    def call(*ptrs: int) -> None:
        data = array_t(*ptrs, *tail)  # per call: concurrent callers never share it
        gomp(omp_addr, ctypes.addressof(data), nthreads, 0)

    return call
