"""The Triton backend as a :class:`~ember.codegen.backend.Backend` (name "triton", device "cuda").

It also runs on CPU tensors when Triton's interpreter is on (``TRITON_INTERPRET=1``),
which is how it is tested without a GPU.
"""

from __future__ import annotations

import math
from typing import Sequence

from ... import __version__
from ..backend import Backend, CompiledKernel, register
from ..kernel import DTYPES, FLOAT_DTYPES, Kernel
from ..schedule import Schedule
from . import TritonLoweringError, available, interpreting
from ..collapse import collapse_axes
from .source import spread

# Reductions whose row fits one block of this many elements are persistent.
PERSISTENT_MAX = 4096
# Elements per program for pointwise kernels (the interpreter runs one program
# at a time in Python, so it gets larger blocks).
POINTWISE_BLOCK = {"cuda": 1024, "interpret": 8192}
# Elements of a [XBLOCK, RBLOCK] reduction tile.
TILE = {"cuda": 4096, "interpret": 16384}
LOOP_RBLOCK = 2048


def _pow2(n: int) -> int:
    return 1 << max(0, math.ceil(math.log2(max(n, 1))))


def _tile2d(kernel: Kernel) -> tuple[int, int] | None:
    """2-D tile sizes when a pointwise kernel reads or writes across its innermost axis.

    After merging axes, an access whose unit stride is on another axis than the
    innermost (a transpose) would make a 1-D block's reads (or writes) strided;
    ``[rows, cols]`` tiles let Triton move both sides coalesced.
    """
    c = collapse_axes(kernel)
    dom = c.domain
    if len(dom) < 2 or dom[-1] < 2:
        return None
    accs = [i.attrs["access"] for i in c.body if i.op in ("load", "gather")]
    accs += [s.access for s in c.stores]
    across = any(abs(a.strides[-1]) != 1 and any(abs(st) == 1 and n > 1 for st, n in
                                                 zip(a.strides[:-1], dom[:-1])) for a in accs)
    if not across:
        return None
    rows, cols = math.prod(dom[:-1]), dom[-1]
    r = min(_pow2(cols), 64)
    x = min(_pow2(rows), 64)
    if math.ceil(cols / r) > 65535:  # grid axis 1 limit
        return None
    return (x, r)


def choose_schedule(kernel: Kernel, target: str) -> Schedule:
    """Block sizes, reduction strategy, warps and accumulators for ``kernel``.

    Pointwise: a 1-D block over the flattened domain, or 2-D tiles over
    (leading axes, innermost axis) when an access runs across the innermost axis. Reductions: persistent
    when a row (the flattened reduce axes) fits ``PERSISTENT_MAX`` elements,
    with several rows per program when rows are short; looped over blocks of
    ``LOOP_RBLOCK`` otherwise. Float sums and products accumulate in f32 (f64
    for f64), the way Inductor does: a tree reduction in f32 is accurate enough.
    """
    acc = tuple(("f64" if r.dtype == "f64" else "f32")
                if r.kind in ("sum", "prod") and r.dtype in FLOAT_DTYPES else r.dtype
                for r in kernel.reductions)
    acc = acc if acc != tuple(r.dtype for r in kernel.reductions) else ()
    if not kernel.num_reduce:
        tiles = None if kernel.ordered else _tile2d(kernel)
        if tiles is not None:
            return Schedule(block=tiles, num_warps=4)
        n = math.prod(spread(kernel))  # a scatter loops over its ordered axes
        x = min(_pow2(n), POINTWISE_BLOCK[target])
        warps = 4 if x >= 512 else (2 if x >= 128 else 1)
        return Schedule(block=(x,), num_warps=warps)
    outer, red = math.prod(kernel.outer), math.prod(kernel.reduce)
    if _pow2(red) <= PERSISTENT_MAX:
        r = _pow2(red)
        x = max(1, min(_pow2(outer), TILE[target] // r))
        warps = 8 if r >= 2048 else (4 if x * r >= 512 else 2)
        return Schedule(block=(x, r), reduction="persistent", accumulate=acc, num_warps=warps)
    return Schedule(block=(1, LOOP_RBLOCK), reduction="loop", accumulate=acc, num_warps=8)


def tuning_candidates(kernel: Kernel, schedule: Schedule) -> list[dict]:
    """Launch configs a GPU tuner times for ``kernel`` (the schedule's first).

    Only block sizes and warps that the generated source does not depend on:
    pointwise ``XBLOCK``; rows per program of a persistent reduction (its
    ``RBLOCK`` must cover the row); the chunk of a looped one.
    """
    x = schedule.block[0] if schedule.block else POINTWISE_BLOCK["cuda"]
    r = schedule.block[1] if len(schedule.block) > 1 else 1
    base = {"XBLOCK": x, "RBLOCK": r, "num_warps": schedule.num_warps}
    out = [base]
    if not kernel.num_reduce and len(schedule.block) == 2:
        cols = collapse_axes(kernel).domain[-1]
        for xb, rb, w in ((32, 32, 4), (64, 64, 8), (16, 64, 4), (64, 16, 4)):
            if math.ceil(cols / rb) <= 65535:  # grid axis 1 limit
                out.append({"XBLOCK": xb, "RBLOCK": rb, "num_warps": w})
    elif not kernel.num_reduce:
        n = _pow2(math.prod(spread(kernel)))
        for xb, w in ((256, 2), (512, 4), (1024, 4), (2048, 8), (4096, 8)):
            if xb <= max(n, 256):
                out.append({"XBLOCK": xb, "RBLOCK": 1, "num_warps": w})
    elif schedule.reduction == "persistent":
        rows = _pow2(math.prod(kernel.outer))
        for xb in (1, 2, 4, 8, 16, 32, 64):
            if xb <= rows and xb * r <= 8192:
                for w in (2, 4, 8):
                    if xb * r >= 32 * w:  # every thread has an element
                        out.append({"XBLOCK": xb, "RBLOCK": r, "num_warps": w})
    else:
        for rb, w in ((1024, 4), (2048, 8), (4096, 8)):
            out.append({"XBLOCK": 1, "RBLOCK": rb, "num_warps": w})
    return list({tuple(sorted(c.items())): c for c in out}.values())


class TritonBackend(Backend):
    """Kernels as Triton source; on a GPU, or on the CPU under ``TRITON_INTERPRET=1``."""

    name = "triton"
    device_type = "cuda"

    @property
    def target(self) -> str:
        """"interpret" under Triton's interpreter, else "cuda"."""
        return "interpret" if interpreting() else "cuda"

    @property
    def artifact_suffixes(self) -> dict[str, str]:  # type: ignore[override]
        if self.target == "cuda":
            return {"triton": ".py", "ptx": ".ptx"}
        return {"triton": ".py"}

    def available(self) -> tuple[bool, str]:
        return available()

    def runs_on(self, device_type: str) -> bool:
        # Triton's interpreter runs kernels on CPU tensors (TRITON_INTERPRET=1).
        return device_type == "cuda" or (device_type == "cpu" and interpreting())

    def fingerprint(self) -> str:
        try:
            import triton

            version = triton.__version__
        except Exception:
            version = "none"
        arch = "interpret"
        if self.target == "cuda":
            import torch

            try:
                major, minor = torch.cuda.get_device_capability()
                arch = f"sm_{major}{minor}"
            except Exception:  # no usable device: nothing will launch anyway
                arch = "no-device"
        return f"triton-{version}/{arch}/ember-{__version__}"

    def native_ops(self) -> frozenset[str]:
        from .source import LOWERINGS

        return frozenset(LOWERINGS)

    def dtypes(self) -> frozenset[str]:
        return frozenset(DTYPES)

    def schedule(self, kernel: Kernel) -> Schedule:
        return choose_schedule(kernel, self.target)

    def compile(self, items: Sequence[tuple[Kernel, Schedule]], *,
                opt_level: int = 3) -> list[CompiledKernel]:
        from .compile import compile_kernels

        return compile_kernels(items, self.target)

    def library_kernel(self, name: str, op: str, attrs: dict, inputs,
                       epilogue=None) -> CompiledKernel | None:
        """mm/bmm/addmm in f16/bf16/f32/f64 as the ``tl.dot`` template (``matmul.py``),
        with ``epilogue`` ((kernel, index of the matmul's result among its inputs))
        fused when ``epilogue.fusable`` allows it (else None)."""
        import dataclasses

        import torch

        from .epilogue import fusable
        from .matmul import MatmulKernel, spec_for

        # f32 matmul follows torch's switch, so results match eager's precision
        tf32 = self.target == "cuda" and torch.backends.cuda.matmul.allow_tf32
        spec = spec_for(name, op, attrs, inputs, "tf32" if tf32 else "ieee")
        if spec is None:
            return None
        if epilogue is not None:
            k, ci = epilogue
            c_shape = (spec.batch, spec.m, spec.n) if op == "bmm" else (spec.m, spec.n)
            if fusable(k, ci, c_shape) is not None:
                return None
            spec = dataclasses.replace(spec, epilogue=k, epi_c=ci)
            try:
                return MatmulKernel(spec, self.target)
            except TritonLoweringError:
                return None
        return MatmulKernel(spec, self.target)


register(TritonBackend())
