"""Schedules: *how* a backend runs a :class:`~ember.codegen.kernel.Kernel`.

A kernel says what to compute; a schedule, chosen by the backend for each
kernel, says how: which leading outer axes are split across threads (CPU) or
programs (Triton), the vector width along the innermost axis, block sizes, the
reduction strategy and the accumulator dtype of each reduction. It sits beside
the kernel (``(kernel, schedule)`` pairs are what a backend compiles), never
inside it, so one kernel can be scheduled differently by each backend and the
cache key covers both.

Fields a backend does not use keep their defaults.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields


@dataclass(frozen=True, slots=True)
class Schedule:
    """How to run one kernel.

    Attributes:
        parallel_axes: how many leading outer axes are split into chunks that run
            in parallel (CPU threads, Triton programs); 0 runs the domain as one
            sequential loop nest.
        threads: CPU: the number of threads the chunks are spread over (1: none).
        vector_width: CPU: lanes of vector code along the innermost domain axis
            (1: scalar code).
        block: Triton: block size per blocked axis (outer block first, then the
            reduction block for reduction kernels).
        reduction: "loop" (the reduce axes are a loop), "persistent" (a whole row
            is one block), or "online" (a backend's single-pass form).
        accumulate: the accumulator dtype of each reduction, in the order of
            ``Kernel.reductions``; empty means each reduction's own dtype.
        num_warps, num_stages: Triton launch parameters.
    """

    parallel_axes: int = 0
    threads: int = 1
    vector_width: int = 1
    block: tuple[int, ...] = ()
    reduction: str = "loop"
    accumulate: tuple[str, ...] = ()
    num_warps: int = 4
    num_stages: int = 1
    extra: tuple[tuple[str, object], ...] = field(default=())

    def accumulator(self, kernel, k: int) -> str:
        """The accumulator dtype of reduction ``k`` of ``kernel``."""
        return self.accumulate[k] if self.accumulate else kernel.reductions[k].dtype

    def text(self) -> str:
        """A stable one-line form (part of cache keys and dumps); defaults are omitted."""
        default = Schedule()
        parts = [f"{f.name}={getattr(self, f.name)}" for f in fields(self)
                 if getattr(self, f.name) != getattr(default, f.name)]
        return "schedule " + (" ".join(parts) if parts else "default")
