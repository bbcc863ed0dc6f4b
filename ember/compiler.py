"""From an Ember graph to a runnable :class:`CompiledGraph`.

passes (pipeline) -> layouts of materialized values -> kernel lowering ->
backend codegen (cached by kernel text) -> runtime steps.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable

import torch

from . import dumps
from .codegen.backend import Backend, BackendUnavailable, select
from .codegen.kernel import Kernel
from .codegen.lower import Layout, lower_kernel
from .config import Config
from .ir import dtypes
from .ir.aliasing import output_aliasing, outputs_to_copy
from .ir.graph import Graph, Value
from .ir.interpret import fallback_call
from .ir.ops import InputRef, get_op
from .ir.printer import print_graph
from .passes import PassContext, PassManager
from .report import GraphInfo, KernelInfo
from .runtime.executor import CompiledGraph, StepInfo, call_step, kernel_step
from .runtime.plan import StepSpec, plan_buffers

log = logging.getLogger("ember")


_cache: dict[str, Any] = {}
_cache_lock = threading.Lock()


def compile_kernels(backend: Backend, kernels: list[Kernel], config: Config) -> list[Any]:
    """Compiles kernels with ``backend``, reusing cached ones.

    The cache key is the backend's fingerprint, the opt level, the schedule and
    the kernel's name-free text: equal kernels under different names compile once.
    """
    items = [(k, backend.schedule(k)) for k in kernels]
    prefix = f"{backend.fingerprint()}/O{config.opt_level}"
    keys = [f"{prefix}\n{s.text()}\n{k.text(named=False)}" for k, s in items]
    with _cache_lock:
        # Kernels with equal text in one batch compile once.
        todo = {key: item for item, key in zip(items, keys) if key not in _cache}
        if todo:
            built = backend.compile(list(todo.values()), opt_level=config.opt_level)
            _cache.update(zip(todo, built))
        return [_cache[key] for key in keys]


def clear_cache() -> None:
    with _cache_lock:
        _cache.clear()


def compile_graph(graph: Graph, example_inputs: list[torch.Tensor], *,
                  config: Config | None = None, eager: Callable[..., Any] | None = None,
                  info: GraphInfo | None = None) -> CompiledGraph:
    """Compiles an Ember graph for the CPU.

    Args:
        graph: the graph (its ``outputs`` set); it is transformed in place.
        example_inputs: tensors (real or fake) whose shapes, dtypes and strides the
            compiled code is specialized to; other inputs go to ``eager``.
        config: options; defaults to the environment's.
        eager: what to run when the inputs do not match (a guard failure).
        info: a report record to fill in; a new one otherwise.
    Returns:
        A callable returning a list of output tensors, with ``.report`` (GraphInfo).
    Raises:
        BackendUnavailable: when no backend can compile for the inputs' device.
    """
    config = config or Config.from_env()
    info = info or GraphInfo(graph.name)
    t0 = time.perf_counter()
    devices = {t.device.type for t in example_inputs if isinstance(t, torch.Tensor)}
    backend = select(config.backend, devices)  # raises BackendUnavailable before any work
    dump = dumps.writer(config, info)
    if not info.ir:
        info.ir = print_graph(graph)
    ctx = PassContext(options={"fallback_ops": config.fallback_ops})
    pm = PassManager(config.pipeline, debug=config.debug, dump=dump)
    aliasing = output_aliasing(graph)
    graph = pm.run(graph, ctx)
    copies = outputs_to_copy(aliasing, output_aliasing(graph))
    info.final_ir = print_graph(graph)
    info.notes = list(ctx.notes)
    info.pass_seconds = [(t.name, t.seconds) for t in pm.timings]
    built = _Builder(graph, example_inputs, config, info, dump, backend)
    compiled = built.build(eager)
    compiled.copy_outputs = copies
    info.compiled = compiled
    info.compile_seconds = time.perf_counter() - t0
    return compiled


class _Builder:
    def __init__(self, graph: Graph, example_inputs: list[torch.Tensor], config: Config,
                 info: GraphInfo, dump: Callable[[str, str], None] | None,
                 backend: Backend) -> None:
        self.g = graph
        self.backend = backend
        devices = [t.device for t in example_inputs if isinstance(t, torch.Tensor)]
        self.device = devices[0] if devices else torch.device("cpu")
        self.examples = example_inputs
        self.config = config
        self.info = info
        self.dump = dump
        self.slots: dict[Value, int] = {}
        self.layouts: dict[Value, Layout] = {}

    def slot(self, v: Value) -> int:
        if v not in self.slots:
            self.slots[v] = len(self.slots)
        return self.slots[v]

    def build(self, eager: Callable[..., Any] | None) -> CompiledGraph:
        g = self.g
        for v, ex in zip(g.inputs, self.examples):
            self.layouts[v] = Layout(tuple(int(s) for s in ex.stride()))
            self.slot(v)
        # Pass 1: what each node is as a runtime step (layouts, lowered kernels, slots).
        nodes, specs, infos, constants = [], [], [], {}
        lowered: list[list[Kernel]] = []
        for n in g.nodes:
            kind = get_op(n.op).kind
            if kind == "constant":
                constants[self.slot(n.out)] = n.attrs["value"].contiguous()
                self.layouts[n.out] = Layout.contiguous(n.out.shape)
                continue
            ins = [self.slot(v) for v in n.inputs]
            if n.op == "kernel":
                lowered.append(lower_kernel(n.attrs["name"], n.region,
                                            [self.layouts[v] for v in n.inputs]))
                sig = (n.out.dtype, n.out.type.numel)
                specs.append(StepSpec("kernel", ins, [self.slot(n.out)], sig))
                infos.append(StepInfo("kernel", n.attrs["name"]))
            else:
                step_kind = kind if kind in ("view", "fallback") else "library"
                if kind == "view":
                    self._view_layout(n)
                specs.append(StepSpec(step_kind, ins, [self.slot(o) for o in n.outputs]))
                infos.append(StepInfo(step_kind, n.attrs.get("target", n.op)))
            for o in n.outputs:
                self.layouts.setdefault(o, Layout.contiguous(o.shape))
            nodes.append(n)
        # Pass 2: buffer plan, then one closure per step.
        plan = plan_buffers(specs, [self.slots[v] for v in g.inputs],
                            [self.slot(v) for v in g.outputs])
        fns = iter(self._compile_kernels(lowered))
        steps = []
        for i, (n, spec) in enumerate(zip(nodes, specs)):
            if spec.kind == "kernel":
                out = n.out
                if plan.reuse[i] is not None:
                    infos[i].name += " (reuses a dead buffer)"
                steps.append(kernel_step(next(fns), spec.inputs, spec.outputs[0],
                                         tuple(out.shape), dtypes.to_torch(out.dtype),
                                         plan.frees[i], plan.reuse[i], self.device))
            elif spec.kind == "library" and (lib := self._library_kernel(n)) is not None:
                steps.append(kernel_step([lib], spec.inputs, spec.outputs[0], tuple(n.out.shape),
                                         dtypes.to_torch(n.out.dtype), plan.frees[i], None,
                                         self.device))
                infos[i].kind = "kernel"
            else:
                steps.append(self._call(n, plan.frees[i], get_op(n.op).kind))
        input_specs = [(tuple(v.shape), self.layouts[v].strides, dtypes.to_torch(v.dtype))
                       for v in g.inputs]
        self.info.steps = [(s.kind, s.name) for s in infos]
        return CompiledGraph(steps, infos, len(self.slots), [self.slots[v] for v in g.inputs],
                             [self.slot(v) for v in g.outputs], input_specs, eager,
                             {s: t.to(self.device) for s, t in constants.items()}, self.info,
                             device=self.device)

    def _compile_kernels(self, lowered: list[list[Kernel]]) -> list[list[Any]]:
        flat = [k for ks in lowered for k in ks]
        b = self.backend
        compiled = iter(compile_kernels(b, flat, self.config)) if flat else iter(())
        out = []
        for ks in lowered:
            fns = [next(compiled) for _ in ks]
            for k, ck in zip(ks, fns):
                self.info.kernels.append(KernelInfo(b.name, k.name, ck.artifacts, self.g.name))
                if self.dump:
                    self.dump(f"kernels/{k.name}.kernel", k.text() + "\n")
                    for art, suffix in b.artifact_suffixes.items():
                        self.dump(f"kernels/{k.name}{suffix}", ck.artifacts[art])
            out.append(fns)
        return out

    def _library_kernel(self, n):
        """The backend's kernel for a library op (Triton's matmul template), or None."""
        name = f"mm{len(self.info.kernels)}_{n.op}"
        ins = [(tuple(v.shape), v.dtype, self.layouts[v].strides) for v in n.inputs]
        ck = self.backend.library_kernel(name, n.op, dict(n.attrs), ins)
        if ck is not None:
            self.info.kernels.append(KernelInfo(self.backend.name, name, ck.artifacts, self.g.name))
            if self.dump:
                for art, suffix in self.backend.artifact_suffixes.items():
                    self.dump(f"kernels/{name}{suffix}", ck.artifacts[art])
        return ck

    def _call(self, n, free: list[int], kind: str):
        if kind == "fallback":
            fn, args_t, kwargs_t = fallback_call(n)
        else:
            opdef = get_op(n.op)
            attrs = dict(n.attrs)
            fn = (lambda f, a: lambda *xs: f(*xs, **a))(opdef.eager, attrs)
            args_t, kwargs_t = tuple(InputRef(i) for i in range(len(n.inputs))), ()
        in_slots = [self.slot(v) for v in n.inputs]
        build = _arg_builder(args_t, kwargs_t, in_slots)
        out_slots = [self.slot(o) for o in n.outputs]
        return call_step(fn, build, out_slots, free, contiguous=(kind != "view"))

    def _view_layout(self, n) -> None:
        x = n.inputs[0]
        meta = torch.empty_strided(x.shape, self.layouts[x].strides, dtype=dtypes.to_torch(x.dtype),
                                   device="meta")
        res = get_op(n.op).eager(meta, **n.attrs)
        self.layouts[n.out] = Layout(tuple(res.stride()))


def _arg_builder(args_t: tuple, kwargs_t: tuple, in_slots: list[int]):
    """Turns an argument template with InputRefs into a per-call argument builder."""

    def sub(x, env):
        if isinstance(x, InputRef):
            return env[in_slots[x.index]]
        if isinstance(x, tuple):
            return [sub(y, env) for y in x]
        return x

    if all(isinstance(a, InputRef) for a in args_t) and not kwargs_t:
        idx = [in_slots[a.index] for a in args_t]

        def fast(env):
            return [env[i] for i in idx], {}

        return fast

    def build(env):
        return [sub(a, env) for a in args_t], {k: sub(v, env) for k, v in kwargs_t}

    return build

