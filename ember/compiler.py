"""From an Ember graph to a runnable :class:`CompiledGraph`.

passes (pipeline) -> layouts of materialized values -> kernel lowering ->
backend codegen (cached by kernel text) -> runtime steps.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections import OrderedDict
from dataclasses import replace
from typing import Any, Callable

import torch

from . import dumps
from .codegen.backend import Backend, BackendUnavailable, select
from .codegen.collapse import collapse_axes
from .codegen.kernel import Access, Kernel
from .codegen.lower import Layout, lower_kernel
from .codegen.params import parametrize
from .config import Config
from .ir import dtypes
from .ir.aliasing import output_aliasing, outputs_to_copy
from .ir.graph import Graph, Value
from .ir.interpret import fallback_call
from .ir.library_linalg import MIRRORS
from .ir.ops import InputRef, Kind, get_op
from .ir.printer import print_graph
from .passes import PassContext, PassManager
from .report import GraphInfo, KernelInfo
from .runtime import diskcache, memory
from .runtime.executor import CompiledGraph, StepInfo, call_step, kernel_step
from .runtime.plan import StepSpec, plan_buffers

log = logging.getLogger("ember")


# Compiled kernels by key, least recently used first; bounded so that a process
# compiling many distinct functions keeps only the recent ones (and their JIT code):
# at most CACHE_ENTRIES kernels and CACHE_BYTES of what building them cost. A JIT
# batch costs some 0.8 MB of C heap even for a one-line kernel (its LLVM JIT, the
# lowered module), so the entry count alone would let 1024 kernels hold ~800 MB.
_cache: "OrderedDict[str, Any]" = OrderedDict()
_cache_cost: dict[str, int] = {}  # key -> bytes charged (its share of its batch's cost)
_cache_bytes = 0
_cache_lock = threading.Lock()
CACHE_ENTRIES = 1024
CACHE_BYTES = 128 << 20
# What a batch is charged where the C heap cannot be measured (not glibc).
BATCH_BYTES_UNMEASURED = 1 << 20


def compile_kernels(backend: Backend, kernels: list[Kernel], config: Config,
                    parametric: bool = False, origins: list[str] | None = None) -> list[Any]:
    """Compiles kernels with ``backend``, reusing cached ones.

    The cache key is the backend's fingerprint, the opt level, the schedule and
    the kernel's name-free text: equal kernels under different names compile once.
    Two tiers: an LRU in memory, then the disk cache at ``config.cache_dir``
    (``runtime/diskcache.py``; backends that can export their code).

    Args:
        parametric: (graphs with symbolic sizes, on a backend that can) each kernel
            compiles as its size-parametric template (``codegen/params.py``), which
            every size of the graph shares, and is bound to its own sizes.
        origins: when given, gets one entry per kernel: "memory", "disk" or
            "compiled" (where this call found it).
    """
    kernels = [collapse_axes(k) for k in kernels]  # shared rewrite: fewer, longer axes
    items = [(k, backend.schedule(k)) for k in kernels]
    if parametric and backend.parametric:
        pairs = [parametrize(k) for k in kernels]
        templates = _compile_items(backend, [(t, s) for (t, _), (_, s) in zip(pairs, items)],
                                   config, origins)
        return [ck.bind(k, s, values) if values else ck
                for ck, (_, values), (k, s) in zip(templates, pairs, items)]
    return _compile_items(backend, items, config, origins)


def _compile_items(backend: Backend, items: list, config: Config,
                   origins: list[str] | None) -> list[Any]:
    prefix = f"{backend.fingerprint()}/O{config.opt_level}"
    keys = [f"{prefix}\n{s.text()}\n{k.text(named=False)}" for k, s in items]
    with _cache_lock:
        # Kernels with equal text in one batch compile once.
        todo = {key: item for item, key in zip(items, keys) if key not in _cache}
        found = {key: "memory" for key in keys if key not in todo}
        diskcache.STATS.memory_hits += len(keys) - len(todo)
        diskcache.STATS.memory_misses += len(todo)
        # only backends that can export their code use the disk tier (not Triton)
        stores = type(backend).export_compiled is not Backend.export_compiled
        disk = (diskcache.for_dir(config.cache_dir, config.cache_max_bytes)
                if todo and stores else None)
        if disk is not None:
            before = memory.heap_in_use()
            loaded = _load_from_disk(disk, backend, todo)
            _cache_put(loaded, before)
            found.update(dict.fromkeys(loaded, "disk"))
            todo = {key: item for key, item in todo.items() if key not in loaded}
        if todo:
            before = memory.heap_in_use()
            built = backend.compile(list(todo.values()), opt_level=config.opt_level)
            _cache_put(dict(zip(todo, built)), before)
            found.update(dict.fromkeys(todo, "compiled"))
            if disk is not None and disk.writable:
                try:
                    exported = backend.export_compiled(built)
                except Exception as e:  # noqa: BLE001  (the kernels work; only not stored)
                    log.warning("ember: disk cache: could not export kernels (%s: %s)",
                                type(e).__name__, e)
                    exported = None
                if exported is not None:
                    disk.store(list(todo), *exported)
        out = []
        for key in keys:
            _cache.move_to_end(key)
            out.append(_cache[key])
        evicted = _evict()
    if todo or evicted:
        memory.release_freed()  # a JIT batch's freed memory, or evicted batches
    if origins is not None:
        origins.extend(found[key] for key in keys)
    return out


def _cache_put(kernels: dict[str, Any], heap_before: int | None) -> None:
    """Adds ``kernels`` (one build or load), charging each an equal share of what
    the C heap grew by since ``heap_before`` (caller holds ``_cache_lock``)."""
    global _cache_bytes
    if not kernels:
        return
    after = memory.heap_in_use()
    cost = (max(after - heap_before, 0) if heap_before is not None and after is not None
            else BATCH_BYTES_UNMEASURED)
    share = cost // len(kernels)
    for key, ck in kernels.items():
        _cache_bytes += share - _cache_cost.get(key, 0)
        _cache[key], _cache_cost[key] = ck, share


def _evict() -> int:
    """Drops least recently used kernels past the bounds (caller holds ``_cache_lock``);
    the most recent one always stays. Returns how many."""
    global _cache_bytes
    n = 0
    while len(_cache) > 1 and (len(_cache) > CACHE_ENTRIES or _cache_bytes > CACHE_BYTES):
        key, _ = _cache.popitem(last=False)
        _cache_bytes -= _cache_cost.pop(key, 0)
        n += 1
    return n


def cache_info() -> dict[str, int]:
    """The in-memory tier: ``entries``, ``bytes`` (charged, see ``CACHE_BYTES``) and
    its bounds ``max_entries``, ``max_bytes``."""
    with _cache_lock:
        return {"entries": len(_cache), "bytes": _cache_bytes,
                "max_entries": CACHE_ENTRIES, "max_bytes": CACHE_BYTES}


def _load_from_disk(disk: "diskcache.DiskCache", backend: Backend,
                    todo: dict[str, tuple[Kernel, Any]]) -> dict[str, Any]:
    """The kernels of ``todo`` that the disk cache holds (verified), by key."""
    by_blob: dict[str, list[tuple[str, dict]]] = {}
    for key in todo:
        entry = disk.lookup(key)
        if entry is not None:
            by_blob.setdefault(entry["blob"], []).append((key, entry["meta"]))
    loaded: dict[str, Any] = {}
    for digest, group in by_blob.items():
        path = disk.blob_path(digest)  # checked before the backend loads it
        if path is None:
            continue
        try:
            cks = backend.load_compiled(path, [m for _, m in group],
                                        [todo[key] for key, _ in group])
        except Exception as e:  # noqa: BLE001  (a bad entry is a miss, never an error)
            log.warning("ember: disk cache: %s did not load (%s: %s); compiling again",
                        path, type(e).__name__, e)
            continue
        loaded.update(zip((key for key, _ in group), cks))
    diskcache.STATS.disk_hits += len(loaded)
    diskcache.STATS.disk_misses += len(todo) - len(loaded)
    return loaded


def clear_cache() -> None:
    """Empties the in-memory tier (``ember cache clear`` empties the disk tier) and
    hands the memory it frees back to the system."""
    global _cache_bytes
    with _cache_lock:
        _cache.clear()
        _cache_cost.clear()
        _cache_bytes = 0
    gc.collect()  # a compiled kernel and its JIT batch refer to each other
    memory.release_freed(force=True)


def compile_graph(graph: Graph, example_inputs: list[torch.Tensor], *,
                  config: Config | None = None, eager: Callable[..., Any] | None = None,
                  info: GraphInfo | None = None, parametric: bool = False) -> CompiledGraph:
    """Compiles an Ember graph for the CPU.

    Args:
        graph: the graph (its ``outputs`` set); it is transformed in place.
        example_inputs: tensors (real or fake) whose shapes, dtypes and strides the
            compiled code is specialized to; other inputs go to ``eager``.
        config: options; defaults to the environment's.
        eager: what to run when the inputs do not match (a guard failure).
        info: a report record to fill in; a new one otherwise.
        parametric: compile size-parametric kernels (a specialization of a graph
            with symbolic sizes: its other sizes reuse them).
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
    ctx = PassContext(options={"fallback_ops": config.fallback_ops, "backend": backend,
                               "dtypes": backend.dtypes()})
    pm = PassManager(config.pipeline, debug=config.debug, dump=dump)
    aliasing = output_aliasing(graph)
    graph = pm.run(graph, ctx)
    copies = outputs_to_copy(aliasing, output_aliasing(graph))
    info.final_ir = print_graph(graph)
    info.notes = list(ctx.notes)
    info.why_not_fused = list(ctx.why_not_fused)
    info.pass_seconds = [(t.name, t.seconds) for t in pm.timings]
    built = _Builder(graph, example_inputs, config, info, dump, backend, parametric)
    compiled = built.build(eager)
    compiled.copy_outputs = copies
    info.compiled = compiled
    info.compile_seconds = time.perf_counter() - t0
    return compiled


class _Builder:
    def __init__(self, graph: Graph, example_inputs: list[torch.Tensor], config: Config,
                 info: GraphInfo, dump: Callable[[str, str], None] | None,
                 backend: Backend, parametric: bool = False) -> None:
        self.g = graph
        self.parametric = parametric
        self.backend = backend
        devices = [t.device for t in example_inputs if isinstance(t, torch.Tensor)]
        self.device = devices[0] if devices else torch.device("cpu")
        self.examples = example_inputs
        self.config = config
        self.info = info
        self.dump = dump
        self.slots: dict[Value, int] = {}
        self.layouts: dict[Value, Layout] = {}
        self.fused: dict = {}  # kernel node -> the matmul kernel it is the epilogue of
        self.g_outputs = set(graph.outputs)

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
        users = g.users()
        lowered: list[list[Kernel]] = []
        for n in g.nodes:
            kind = get_op(n.op).kind
            if kind is Kind.CONSTANT:
                constants[self.slot(n.out)] = n.attrs["value"].contiguous()
                self.layouts[n.out] = Layout.contiguous(n.out.shape)
                continue
            ins = [self.slot(v) for v in n.inputs]
            if n.op == "kernel":
                ks = lower_kernel(n.attrs["name"], n.region, [self.layouts[v] for v in n.inputs])
                ks, layout = _eager_output_layout(ks, n.outputs[0].shape, n.region)
                self.layouts[n.outputs[0]] = layout  # other outputs: contiguous (below)
                if self._fuse_epilogue(n, ks, nodes, specs, infos, users):
                    continue
                lowered.append(ks)
                # A single-output kernel may write into a dead buffer of its signature.
                sig = (n.out.dtype, n.out.type.numel) if len(n.outputs) == 1 else None
                specs.append(StepSpec("kernel", ins, [self.slot(o) for o in n.outputs], sig))
                infos.append(StepInfo("kernel", n.attrs["name"]))
            else:
                step_kind = kind.value if kind in (Kind.VIEW, Kind.FALLBACK) else "library"
                if kind is Kind.VIEW:
                    self._view_layout(n)
                elif n.op in EAGER_LAYOUT_OPS:
                    self._library_layout(n)
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
                if plan.reuse[i] is not None:
                    infos[i].name += " (reuses a dead buffer)"
                outs = [(tuple(o.shape), dtypes.to_torch(o.dtype), self.layouts[o].strides)
                        for o in n.outputs]
                steps.append(kernel_step(next(fns), spec.inputs, spec.outputs, outs,
                                         plan.frees[i], plan.reuse[i], self.device,
                                         pool=self.config.output_pool))
            elif n in self.fused:  # a matmul with this kernel as its epilogue
                out = (tuple(n.out.shape), dtypes.to_torch(n.out.dtype),
                       self.layouts[n.out].strides)
                steps.append(kernel_step([self.fused[n]], spec.inputs, spec.outputs, [out],
                                         plan.frees[i], None, self.device))
            elif (spec.kind == "library" and len(n.outputs) == 1
                  and (lib := self._library_kernel(n)) is not None):
                out = (tuple(n.out.shape), dtypes.to_torch(n.out.dtype),
                       self.layouts[n.out].strides)
                steps.append(kernel_step([lib], spec.inputs, spec.outputs, [out], plan.frees[i],
                                         None, self.device))
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
        origins: list[str] = []
        compiled = (iter(compile_kernels(b, flat, self.config, self.parametric, origins))
                    if flat else iter(()))
        origin = iter(origins)
        out = []
        for ks in lowered:
            fns = [next(compiled) for _ in ks]
            for k, ck in zip(ks, fns):
                self.info.kernels.append(KernelInfo(b.name, k.name, ck.artifacts, self.g.name,
                                                    origin=next(origin)))
                if self.dump:
                    self.dump(f"kernels/{k.name}.kernel", k.text() + "\n")
                    for art, suffix in b.artifact_suffixes.items():
                        self.dump(f"kernels/{k.name}{suffix}", ck.artifacts[art])
            out.append(fns)
        return out

    def _fuse_epilogue(self, n, ks, nodes, specs, infos, users) -> bool:
        """Fuses kernel ``n`` into the matmul producing one of its inputs as that
        matmul's epilogue, when the backend's library kernel can take it (Triton:
        bias, activation, residual, scale or cast computed on the tile of C, which
        never goes to memory). Replaces the matmul's step by the fused one."""
        if len(ks) != 1 or len(n.outputs) != 1:
            return False
        for ci, c in enumerate(n.inputs):
            m = c.producer
            if (m is None or m.op not in ("mm", "bmm", "addmm") or m not in nodes
                    or c in self.g_outputs or users.get(c, []) != [n]
                    or n.inputs.count(c) != 1):
                continue
            name = f"mm{len(self.info.kernels)}_{m.op}_{n.attrs['name']}"
            ins = [(tuple(v.shape), v.dtype, self.layouts[v].strides) for v in m.inputs]
            lib = self.backend.library_kernel(name, m.op, dict(m.attrs), ins,
                                              epilogue=(ks[0], ci))
            if lib is None:
                continue
            j = nodes.index(m)
            del nodes[j], specs[j], infos[j]
            rest = [self.slot(v) for i, v in enumerate(n.inputs) if i != ci]
            specs.append(StepSpec("library", [self.slot(v) for v in m.inputs] + rest,
                                  [self.slot(n.out)]))
            infos.append(StepInfo("kernel", name))
            nodes.append(n)
            self.fused[n] = lib
            self._report_library_kernel(name, lib)
            return True
        return False

    def _report_library_kernel(self, name: str, ck) -> None:
        self.info.kernels.append(KernelInfo(self.backend.name, name, ck.artifacts, self.g.name))
        if self.dump:
            for art, suffix in self.backend.artifact_suffixes.items():
                self.dump(f"kernels/{name}{suffix}", ck.artifacts[art])

    def _library_kernel(self, n):
        """The backend's kernel for a library op (Triton's matmul template), or None."""
        name = f"mm{len(self.info.kernels)}_{n.op}"
        ins = [(tuple(v.shape), v.dtype, self.layouts[v].strides) for v in n.inputs]
        ck = self.backend.library_kernel(name, n.op, dict(n.attrs), ins)
        if ck is not None:
            self._report_library_kernel(name, ck)
        return ck

    def _call(self, n, free: list[int], kind: str):
        if kind is Kind.FALLBACK:
            fn, args_t, kwargs_t = fallback_call(n)
            uses = self.g.users()
            used = [bool(uses.get(o)) or o in self.g.outputs for o in n.outputs]
            fn = _as_declared(fn, [o.type for o in n.outputs], used,
                              n.attrs.get("target", n.op))
        else:
            opdef = get_op(n.op)
            attrs = dict(n.attrs)
            fn = (lambda f, a: lambda *xs: f(*xs, **a))(opdef.eager, attrs)
            args_t, kwargs_t = tuple(InputRef(i) for i in range(len(n.inputs))), ()
        in_slots = [self.slot(v) for v in n.inputs]
        build = _arg_builder(args_t, kwargs_t, in_slots)
        out_slots = [self.slot(o) for o in n.outputs]
        strides = ([self.layouts[o].strides for o in n.outputs] if n.op in EAGER_LAYOUT_OPS
                   else None)
        return call_step(fn, build, out_slots, free, contiguous=(kind is not Kind.VIEW),
                         strides=strides)

    def _library_layout(self, n) -> None:
        """Eager's output strides for a linalg library op (LAPACK's factors are
        column-major), from the op's meta kernel given its inputs' layouts, so that what
        reads them (a kernel, another factorization) sees the layout it sees in eager;
        contiguous where the op has no meta kernel."""
        metas = [torch.empty_strided(v.shape, self.layouts[v].strides,
                                     dtype=dtypes.to_torch(v.dtype), device="meta")
                 for v in n.inputs]
        attrs = dict(n.attrs)
        if "device" in attrs:  # a factory (rand, randn): on meta too, drawing nothing
            attrs["device"] = torch.device("meta")
        try:
            res = get_op(n.op).eager(*metas, **attrs)
        except (NotImplementedError, RuntimeError):
            return
        outs = res if isinstance(res, (tuple, list)) else (res,)
        for o, t in zip(n.outputs, outs):
            if tuple(t.shape) == o.shape:
                self.layouts[o] = Layout(tuple(int(s) for s in t.stride()))

    def _view_layout(self, n) -> None:
        x = n.inputs[0]
        meta = torch.empty_strided(x.shape, self.layouts[x].strides, dtype=dtypes.to_torch(x.dtype),
                                   device="meta")
        res = get_op(n.op).eager(meta, **n.attrs)
        self.layouts[n.out] = Layout(tuple(res.stride()))


# Library ops whose outputs keep eager's strides (computed on meta tensors) rather than
# being made contiguous: the linalg ops, whose results feed each other, and the random
# ops (``rand_like`` of a transposed tensor is transposed).
EAGER_LAYOUT_OPS = frozenset(MIRRORS.values())


def _behind_cat(region) -> set[int]:
    """The region inputs (kernel buffers) that some ``cat`` in it reads: eager
    materializes the cat contiguously, so they stand for a contiguous operand."""
    seen, stack = set(), [i for n in region.nodes if n.op == "cat" for i in n.inputs]
    while stack:
        v = stack.pop()
        if v in seen:
            continue
        seen.add(v)
        if v.producer is not None:
            stack.extend(v.producer.inputs)
    return {i for i, v in enumerate(region.inputs) if v in seen}


def _eager_output_layout(ks: list[Kernel], shape: tuple[int, ...],
                         region=None) -> tuple[list[Kernel], Layout]:
    """The output layout eager would give a pointwise kernel's result, and the kernel
    storing with it; other kernels (reductions, a ``cat``) store contiguously.

    TensorIterator (``reorder_dimensions``) orders the output's dims by the operands'
    strides, the first operand with a strict order deciding, broadcast (0) strides
    ignored, equal strides putting the smaller dim inside; then allocates the output
    dense in that order. A fused kernel's loads, in evaluation order, stand for the
    operands: a transposed or channels-last input gives a transposed or
    channels-last output, as in eager (and Inductor).
    """
    k = ks[0] if len(ks) == 1 else None
    root = region.outputs[0].producer if region is not None else None
    cat = root is not None and root.op == "cat"
    if (k is None or cat or k.num_reduce or len(k.stores) != 1 or k.domain != tuple(shape)
            or len(shape) < 2 or k.stores[0].access.offset != 0):
        return ks, Layout.contiguous(shape)
    # A load of a cat's part stands for the contiguous cat eager materializes.
    dense, behind = Layout.contiguous(shape).strides, _behind_cat(region) if region else set()
    loads = [dense if i.attrs["buffer"] in behind else i.attrs["access"].strides
             for i in k.body if i.op == "load"]

    def should_swap(d0: int, d1: int) -> int:
        for st in loads:
            s0, s1 = st[d0], st[d1]
            if s0 == 0 or s1 == 0:
                continue
            if s0 != s1:
                return 1 if s0 > s1 else -1
            if shape[d0] > shape[d1]:
                return 1
        return 0

    perm = list(range(len(shape) - 1, -1, -1))  # innermost first
    for i in range(1, len(perm)):
        d1 = i
        for d0 in range(i - 1, -1, -1):
            c = should_swap(perm[d0], perm[d1])
            if c > 0:
                perm[d0], perm[d1] = perm[d1], perm[d0]
                d1 = d0
            elif c < 0:
                break
    strides, acc = [0] * len(shape), 1
    for d in perm:
        strides[d] = acc
        acc *= max(shape[d], 1)
    layout = Layout(tuple(strides))
    if layout == Layout.contiguous(shape):
        return ks, layout
    (store,) = k.stores
    store = replace(store, access=Access(0, layout.strides))
    return [replace(k, stores=(store,))], layout


def _as_declared(fn, types, used: list[bool], target: str):
    """``fn`` with its results converted to the dtypes the graph declared for them.

    A fallback's types come from PyTorch's meta kernel, which can disagree with the
    CPU kernel (``_batch_norm_with_update_functional`` on bf16: the meta says f32
    running stats, the kernel returns bf16); reading a tensor as another dtype would
    be silently wrong, so the result is converted, and a shape that differs raises
    when the result is used (``_embedding_bag_forward_only`` returns an empty
    ``offset2bag`` that its meta kernel sizes, and that nothing reads)."""
    from .ir import dtypes as _dt

    want = [(_dt.to_torch(t.dtype), tuple(t.shape)) for t in types]

    def run(*args, **kwargs):
        res = fn(*args, **kwargs)
        single = not isinstance(res, (tuple, list))
        outs = [res] if single else list(res)
        for i, (t, (dt, shape), needed) in enumerate(zip(outs, want, used)):
            if isinstance(t, torch.Tensor):
                if tuple(t.shape) != shape:
                    if not needed:
                        continue
                    raise RuntimeError(f"ember: fallback {target} returned shape "
                                       f"{tuple(t.shape)} for result {i}; its meta kernel "
                                       f"said {shape}")
                if t.dtype != dt:
                    outs[i] = t.to(dt)
        return outs[0] if single else outs

    return run


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

