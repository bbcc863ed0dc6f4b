"""MLIR CPU code generator: :class:`~ember.codegen.kernel.Kernel` -> native code.

Pipeline: ``backend.choose_schedule`` picks each kernel's vector axis and width
(from the host's vector registers), parallel axis and accumulators; ``builder``
turns each kernel into a ``func.func`` of scf loops over static-shape memrefs,
vector code along the vector axis (ops come from the ``lowering`` table, generic
over scalars and vectors; f32 transcendental functions in vector code from
``vmath``'s polynomials), ``jit`` lowers the module to the LLVM dialect with
upstream passes, compiles it with MLIR's ExecutionEngine at ``-O3`` and wraps
kernels with a parallel axis in a threaded entry (``ember.runtime.threads``).
See docs/vector_math.md. A batch of kernels shares one module and one
engine, so JIT start-up is paid once per batch.

This package must import without the MLIR wheels: ``mlir`` is only imported
inside :func:`available` and :func:`compile_kernels`.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:  # pragma: no cover
    from ..kernel import Kernel
    from ..schedule import Schedule
    from .native import CompiledKernel

__all__ = ["LoweringError", "available", "compile_kernels"]


class LoweringError(Exception):
    """A kernel the MLIR backend cannot lower (message names kernel and op)."""


_AVAILABLE: tuple[bool, str] | None = None
# The bindings share one MLIR context across batches (creating one costs a few
# ms of dialect registration) and an MLIR context is not thread-safe.
_LOCK = threading.RLock()
_PROBE_LOCK = threading.Lock()


def available() -> tuple[bool, str]:
    """Whether this backend can run here: ``(True, "")`` or ``(False, reason)``.

    Imports the bindings and JIT-compiles a trivial kernel once, or loads it from
    the disk cache (the result is cached). Never raises.
    """
    global _AVAILABLE
    if _AVAILABLE is None:
        # not _LOCK: the probe takes the compiler's cache lock, and compiles take
        # that lock before _LOCK
        with _PROBE_LOCK:
            if _AVAILABLE is None:
                _AVAILABLE = _probe()
    return _AVAILABLE


def _probe() -> tuple[bool, str]:
    try:
        import mlir.ir  # noqa: F401
        from mlir.execution_engine import ExecutionEngine  # noqa: F401
    except Exception as e:  # ImportError, or a broken libLLVM load
        return False, f"MLIR Python bindings not importable: {type(e).__name__}: {e}"
    try:
        import ctypes

        from ..kernel import Access, Buffer, Instr, Kernel, Store

        acc = Access(0, (1,))
        k = Kernel(
            name="ember_probe", domain=(2,), num_reduce=0,
            inputs=(Buffer("x", "f32", 2),), outputs=(Buffer("y", "f32", 2),),
            body=(Instr("load", (), "f32", {"buffer": 0, "access": acc}),
                  Instr("exp", (0,), "f32")),
            stores=(Store(0, 1, acc),),
        )
        (ck,) = _probe_compile(k)
        x = (ctypes.c_float * 2)(0.0, 1.0)
        y = (ctypes.c_float * 2)()
        ck(ctypes.addressof(x), ctypes.addressof(y))
        if abs(y[0] - 1.0) > 1e-6 or abs(y[1] - 2.7182817) > 1e-5:
            return False, f"MLIR JIT self-test gave wrong results {list(y)}"
    except Exception as e:
        return False, f"MLIR JIT failed to initialize: {type(e).__name__}: {e}"
    return True, ""


def _probe_compile(k: Kernel):
    """The probe kernel through the compiler's caches: on a warm start it comes from
    the disk cache (built earlier by the same MLIR and LLVM, whose versions are in
    the key), so a process whose kernels are all stored never runs the JIT."""
    from ...compiler import compile_kernels as cached
    from ...config import Config, ConfigError
    from ..backend import get_backend

    try:
        config = Config.from_env()
    except ConfigError:  # reported where the configuration is read; probe without a cache
        return compile_kernels([k])
    return cached(get_backend("cpu"), [k], config)


def compile_kernels(kernels: Sequence[Kernel], *, opt_level: int = 3,
                    schedules: Sequence[Schedule] | None = None) -> list[CompiledKernel]:
    """Compile ``kernels`` into one module / ExecutionEngine; one callable each.

    Each result has ``name`` (the kernel's), ``source`` (its MLIR as built,
    before any pass), ``llvm`` (LLVM IR of its function as handed to the JIT,
    computed on first access) and is called as ``ck(*ptrs)`` with the data
    pointers (ints) of the inputs then the outputs.

    ``schedules`` (one per kernel) default to :class:`Schedule` ``()``.

    Raises :class:`LoweringError` for a kernel this backend cannot lower, and
    ``ValueError`` (from ``Kernel.validate``) for an ill-formed one.
    """
    kernels = list(kernels)
    for k in kernels:
        k.validate()
    if not kernels:
        return []
    from . import jit

    with _LOCK:
        return jit.compile_batch(kernels, opt_level=opt_level, lock=_LOCK,
                                 schedules=list(schedules) if schedules is not None else None)
