"""The compiled graph: a list of steps over slots, built once, run per call.

Step kinds: kernel launch (a compiled Ember kernel writing a fresh buffer),
library call (matmul, convolution, sort, ... through torch), runtime view (torch view ops on a
materialized tensor), constant, and eager fallback (an ATen op or an Ember op's
eager reference). Every step is a closure prepared at compile time, so a call
does no graph walking. Slots are cleared after their last use so intermediates
are freed as early as eager would free them.
"""

from __future__ import annotations

import logging
import math
import threading
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
                 constants: dict[int, torch.Tensor], report: Any = None,
                 device: torch.device | None = None) -> None:
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
        self.device_type = (device or torch.device("cpu")).type
        # a cheap device test for the guard's fast path (Tensor.device builds an object)
        self._on_device = {"cpu": "is_cpu", "cuda": "is_cuda"}.get(self.device_type, "is_meta")
        # Outputs the passes made alias an input or another output (``x * 1 -> x``);
        # eager returns fresh tensors there, so these are copied.
        self.copy_outputs: list[int] = []
        self._warned = False

    def guard(self, args: tuple) -> bool:
        """True when ``args`` match the compiled signature (dtype, shape, strides, device)."""
        if len(args) != len(self.input_specs):
            return False
        device = self.device_type
        on_device = self._on_device
        for a, spec in zip(args, self.input_specs):
            shape, stride, dtype = spec
            try:  # the common case: exactly the example's layout (one tuple compare each)
                if (a.dtype is dtype and a.stride() == stride and a.shape == shape
                        and getattr(a, on_device)):
                    continue
            except (AttributeError, TypeError):
                return False
            if not _same_layout(a, spec, device):
                return False
        return True

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


def _same_layout(a: Any, spec: tuple, device: str) -> bool:
    """The guard's slow path: strides of unit dims (and of empty tensors) do not matter,
    since kernels never step along them."""
    shape, stride, dtype = spec
    if (not isinstance(a, torch.Tensor) or a.dtype != dtype or a.shape != shape
            or a.device.type != device):
        return False
    return not a.numel() or all(s == 1 or st == want
                                for s, st, want in zip(shape, a.stride(), stride))


def kernel_step(kernels: list[Any], in_slots: list[int], out_slots: list[int],
                outs: list[tuple[tuple[int, ...], torch.dtype, tuple[int, ...]]],
                free: list[int], reuse: int | None = None,
                device: torch.device | None = None, pool: bool = False) -> Step:
    """A kernel launch writing fresh buffers (or, for a single output, the dead
    buffer in slot ``reuse``); with ``pool``, CPU outputs of ``POOL_MIN_BYTES``
    or more (up to ``POOL_MAX_BYTES``) come from an :class:`OutputPool`.

    ``kernels`` are :class:`~ember.codegen.backend.CompiledKernel` objects (run in
    order on the same arguments); those with a pointer entry are called with data
    pointers, the others through ``launch`` with tensors. ``outs`` gives each
    output's (shape, dtype, strides); strides are dense, in any order.
    """
    device = device or torch.device("cpu")
    if all(any(s == 0 for s in shape) for shape, _, _ in outs):
        kernels = []  # nothing to compute, but the (empty) outputs must exist
    entries = [k.pointer_entry() for k in kernels]
    by_pointer = all(e is not None for e in entries)

    if reuse is not None:
        ((shape, _, strides),) = outs

        def alloc(env: list) -> list[torch.Tensor]:
            # kernel outputs are dense: numel elements from their storage offset
            buf = env[reuse]
            env[reuse] = None
            return [buf.as_strided(shape, strides, buf.storage_offset())]
    elif pool and device.type == "cpu" and any(_poolable(sh, dt) for sh, dt, _ in outs):
        pools = [OutputPool(shape, dtype, strides, device) if _poolable(shape, dtype) else None
                 for shape, dtype, strides in outs]

        def alloc(env: list) -> list[torch.Tensor]:
            return [p.take() if p is not None else
                    torch.empty_strided(shape, strides, dtype=dtype, device=device)
                    for p, (shape, dtype, strides) in zip(pools, outs)]
    else:
        def alloc(env: list) -> list[torch.Tensor]:
            return [torch.empty_strided(shape, strides, dtype=dtype, device=device)
                    for shape, dtype, strides in outs]

    def run(env: list) -> None:
        results = alloc(env)
        if by_pointer:
            if entries:
                ptrs = [env[s].data_ptr() for s in in_slots]
                ptrs += [t.data_ptr() for t in results]
                for fn in entries:
                    fn(*ptrs)
        else:
            args = [env[s] for s in in_slots] + results
            for k in kernels:
                k.launch(args)
        for slot, t in zip(out_slots, results):
            env[slot] = t
        for s in free:
            env[s] = None

    return run


# Kernel outputs at least this large come from their step's pool (``pool=True``),
# up to POOL_MAX_BYTES: a function holding twice that between calls is too much
# to assume.
POOL_MIN_BYTES = 1 << 20
POOL_MAX_BYTES = 1 << 30


# Buffers a pool keeps per output: two, so that ``x = f(x)`` in a loop (the last
# result is this call's input) still finds a free one.
POOL_DEPTH = 2


def _poolable(shape, dtype) -> bool:
    return POOL_MIN_BYTES <= math.prod(shape) * dtype.itemsize <= POOL_MAX_BYTES


class OutputPool:
    """The buffers one kernel output was written to on earlier calls, kept and
    handed out again once nothing else holds them (on the CPU).

    A fresh buffer above glibc's mmap threshold is new address space on every
    call: the kernel's first touch of each 4 KiB page faults and the kernel
    zeroes it, which costs more than the kernel's own work on a memory-bound op
    (a 64 MiB output is 16384 faults). Eager and Inductor pay this; static-graph
    compilers plan their buffers once instead. A pooled buffer is handed out as
    a view of a base tensor only the pool holds, so it is free again exactly
    when its storage has no other user (the caller dropped the result and every
    view of it): ``torch._C._storage_Use_Count`` back at its baseline. Memory
    cost: up to ``POOL_DEPTH`` buffers per pooled output stay allocated while
    the compiled function lives (``ember.compile(..., output_pool=False)`` or
    ``EMBER_OUTPUT_POOL=0`` turns it off).
    """

    __slots__ = ("shape", "dtype", "strides", "device", "bases", "lock")

    def __init__(self, shape, dtype, strides, device) -> None:
        self.shape, self.dtype, self.strides, self.device = shape, dtype, strides, device
        self.bases: list[tuple[torch.Tensor, int]] = []  # (base tensor, its use-count baseline)
        self.lock = threading.Lock()

    def take(self) -> torch.Tensor:
        with self.lock:
            for base, idle in self.bases:
                if _use_count(base) == idle:
                    return base.as_strided(self.shape, self.strides)
            base = torch.empty_strided(self.shape, self.strides, dtype=self.dtype,
                                       device=self.device)
            if len(self.bases) < POOL_DEPTH:
                self.bases.append((base, _use_count(base)))
            return base.as_strided(self.shape, self.strides)


def _use_count(t: torch.Tensor) -> int:
    """How many holders ``t``'s storage has (tensors and views of it, and storage objects)."""
    return torch._C._storage_Use_Count(t.untyped_storage()._cdata)


def call_step(fn: Callable[..., Any], build_args: Callable[[list], tuple],
              out_slots: list[int], free: list[int], contiguous: bool,
              strides: list[tuple[int, ...]] | None = None) -> Step:
    """A library, view or fallback call; ``contiguous`` forces contiguous outputs, and
    ``strides`` (one per output) the strides the compiled graph was built for instead."""

    def run(env: list) -> None:
        args, kwargs = build_args(env)
        res = fn(*args, **kwargs)
        outs = res if isinstance(res, (tuple, list)) else (res,)
        for i, (slot, t) in enumerate(zip(out_slots, outs)):
            if strides is not None:
                if t.stride() != strides[i]:
                    t = torch.empty_strided(t.shape, strides[i], dtype=t.dtype,
                                            device=t.device).copy_(t)
            elif contiguous and not t.is_contiguous():
                t = t.contiguous()
            env[slot] = t
        for s in free:
            env[s] = None

    return run
