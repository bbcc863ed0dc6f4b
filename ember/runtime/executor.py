"""The compiled graph: a list of steps over slots, built once, run per call.

Step kinds: kernel launch (a compiled Ember kernel writing a fresh buffer),
library call (matmul through torch), runtime view (torch view ops on a
materialized tensor), constant, and eager fallback (an ATen op or an Ember op's
eager reference). Every step is a closure prepared at compile time, so a call
does no graph walking. Slots are cleared after their last use so intermediates
are freed as early as eager would free them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Callable

import torch

log = logging.getLogger("ember")

Step = Callable[[list], None]


@dataclass
class StepInfo:
    kind: str  # kernel | library | view | constant | fallback
    name: str


class GuardFailure(Exception):
    pass


class CompiledGraph:
    """Callable ``fn(*tensors) -> list[Tensor]`` for one captured graph.

    Inputs whose dtype, shape or strides differ from those the graph was compiled
    for are never run through the kernels: the call goes to ``eager`` (the
    original graph) and a warning is logged once.
    """

    def __init__(self, steps: list[Step], infos: list[StepInfo], nslots: int,
                 input_slots: list[int], output_slots: list[int],
                 input_specs: list[tuple], eager: Callable[..., Any] | None,
                 constants: dict[int, torch.Tensor], report: Any = None) -> None:
        self.steps = steps
        self.infos = infos
        self.nslots = nslots
        self.input_slots = input_slots
        self.output_slots = output_slots
        self.input_specs = input_specs
        self.eager = eager
        self.template = [None] * nslots
        for slot, t in constants.items():
            self.template[slot] = t
        self.report = report
        # Outputs the passes made alias an input or another output (``x * 1 -> x``);
        # eager returns fresh tensors there, so these are copied.
        self.copy_outputs: list[int] = []
        self._warned = False

    def guard(self, args: tuple) -> bool:
        for a, (shape, stride, dtype) in zip(args, self.input_specs):
            if (not isinstance(a, torch.Tensor) or a.dtype != dtype or a.shape != shape
                    or a.device.type != "cpu"):
                return False
            # Only strides of non-unit dims matter: kernels never step along unit dims.
            if a.numel() and any(s != 1 and st != want for s, st, want
                                 in zip(shape, a.stride(), stride)):
                return False
        return len(args) == len(self.input_specs)

    def profile(self, *args: Any, reps: int = 10) -> list[tuple[str, str, float]]:
        """Runs the graph ``reps`` times; returns (kind, name, median seconds) per step."""
        import statistics
        import time

        if not self.guard(args):
            raise GuardFailure("inputs do not match the compiled signature")
        named = [i for i in self.infos if i.kind != "constant"]
        times: list[list[float]] = [[] for _ in self.steps]
        for _ in range(reps):
            env = list(self.template)
            for slot, a in zip(self.input_slots, args):
                env[slot] = a
            for i, step in enumerate(self.steps):
                t0 = time.perf_counter()
                step(env)
                times[i].append(time.perf_counter() - t0)
        return [(info.kind, info.name, statistics.median(t)) for info, t in zip(named, times)]

    def __call__(self, *args: Any) -> list[torch.Tensor]:
        if not self.guard(args):
            if self.eager is None:
                raise GuardFailure("inputs do not match the compiled signature")
            if not self._warned:
                log.warning("ember: inputs differ from the compiled signature "
                            "(shape/stride/dtype/device); running this graph eagerly")
                self._warned = True
            out = self.eager(*args)
            return list(out) if isinstance(out, (tuple, list)) else [out]
        env = list(self.template)
        for slot, a in zip(self.input_slots, args):
            env[slot] = a
        for step in self.steps:
            step(env)
        outs = [env[s] for s in self.output_slots]
        for i in self.copy_outputs:
            outs[i] = outs[i].clone()
        return outs


def kernel_step(fns: list[Callable[..., None]], in_slots: list[int], out_slot: int,
                shape: tuple[int, ...], dtype: torch.dtype, free: list[int],
                reuse: int | None = None, strides: tuple[int, ...] | None = None) -> Step:
    """A kernel launch writing a fresh buffer, or the dead buffer in slot ``reuse``;
    ``strides`` (dense, any order; default contiguous) is the output's layout."""
    fns = [getattr(f, "fn", f) for f in fns]  # the raw ctypes entry point when there is one
    if any(s == 0 for s in shape):
        fns = []  # nothing to compute, but the (empty) output must exist

    if reuse is not None:
        def alloc(env: list) -> torch.Tensor:
            # kernel outputs are dense: numel elements from their storage offset
            buf = env[reuse]
            out = buf.view(shape) if strides is None else \
                buf.as_strided(shape, strides, buf.storage_offset())
            env[reuse] = None
            return out
    elif strides is None:
        def alloc(env: list) -> torch.Tensor:
            return torch.empty(shape, dtype=dtype)
    else:
        def alloc(env: list) -> torch.Tensor:
            return torch.empty_strided(shape, strides, dtype=dtype)

    def run(env: list) -> None:
        out = alloc(env)
        if fns:
            ptrs = [env[s].data_ptr() for s in in_slots]
            ptrs.append(out.data_ptr())
            for fn in fns:
                fn(*ptrs)
        env[out_slot] = out
        for s in free:
            env[s] = None

    return run


def call_step(fn: Callable[..., Any], build_args: Callable[[list], tuple],
              out_slots: list[int], free: list[int], contiguous: bool) -> Step:
    """A library, view or fallback call; ``contiguous`` forces contiguous outputs."""

    def run(env: list) -> None:
        args, kwargs = build_args(env)
        res = fn(*args, **kwargs)
        outs = res if isinstance(res, (tuple, list)) else (res,)
        for slot, t in zip(out_slots, outs):
            if contiguous and not t.is_contiguous():
                t = t.contiguous()
            env[slot] = t
        for s in free:
            env[s] = None

    return run
