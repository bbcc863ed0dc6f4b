"""Graphs Dynamo captured with symbolic sizes, run through per-shape specializations.

With ``dynamic=None`` (automatic dynamic shapes) or ``dynamic=True``, Dynamo hands
Ember one graph whose inputs have symbolic sizes (``f32[s77,8]``) and that takes
the symbols' values as extra integer inputs. Dynamo then never recompiles for a
new value of a symbol, so there is no recompile cliff.

Ember compiles such a graph per *concrete* signature (the shapes, strides and
dtypes of the tensor inputs and the values of the integer inputs) on the first
call that has it: the ATen graph is retraced with the call's sizes
(``make_fx``, about 10 ms), which gives an ordinary static graph for the usual
pipeline. Each specialization is kept in a bounded LRU per graph, so a loop over
many sizes compiles each size once and memory stays bounded. Kernels equal
across sizes (those that do not depend on a symbol) come from the kernel cache.

A specialization that fails to compile runs the symbolic graph eagerly for that
signature, with its reason in the report (never a crash, never a wrong answer).
"""

from __future__ import annotations

import logging
import operator
import threading
import time
from collections import OrderedDict
from typing import Any, Callable

import torch

from ..report import GraphInfo

log = logging.getLogger("ember")

# Specializations kept per symbolic graph (least recently used dropped first): more
# than the lengths a decoding loop usually spans, so that a second pass over them
# compiles nothing; each costs some 100-200 KB (its steps, bound kernels, report).
MAX_SPECIALIZATIONS = 512
# Specializations the report keeps (newest), with their IR texts and kernels.
REPORTED_SPECIALIZATIONS = 64


def is_symbolic(example_inputs: list[Any]) -> bool:
    """Whether Dynamo captured the graph with symbolic sizes."""
    for x in example_inputs:
        if isinstance(x, (torch.SymInt, torch.SymFloat, torch.SymBool)):
            return True
        if isinstance(x, torch.Tensor) and not all(
                isinstance(s, int) for s in (*x.shape, *x.stride())):
            return True
    return False


def describe_inputs(gm: torch.fx.GraphModule, example_inputs: list[Any]) -> list[str]:
    """One line per graph input, symbolic sizes as Dynamo names them: ``x: f32[s77,8]``."""
    from ..ir import dtypes

    names = [n.name for n in gm.graph.nodes if n.op == "placeholder"]
    out = []
    for name, x in zip(names, example_inputs):
        if isinstance(x, torch.Tensor):
            try:
                dt = dtypes.from_torch(x.dtype)
            except dtypes.UnsupportedDtype:
                dt = str(x.dtype).replace("torch.", "")
            out.append(f"{name}: {dt}[{','.join(str(s) for s in x.shape)}]")
        else:
            out.append(f"{name}: {type(x).__name__} {x}")
    return out


def _varying(example_inputs: list[Any]) -> tuple[list[int], list[int]]:
    """Positions of the integer inputs and of the tensors with a symbolic size or
    stride: only these can differ between calls that reach this graph (Dynamo's
    guards pin every static size, stride, dtype and device)."""
    ints, tensors = [], []
    for i, x in enumerate(example_inputs):
        if isinstance(x, torch.Tensor):
            if not all(isinstance(s, int) for s in (*x.shape, *x.stride())):
                tensors.append(i)
        else:
            ints.append(i)
    return ints, tensors


def _binding(example_inputs: list[Any], args: tuple) -> str:
    """``s77=5, s3=128``: the symbols' values in this call (from the integer inputs)."""
    parts = []
    for ex, a in zip(example_inputs, args):
        if isinstance(ex, torch.SymInt) and not isinstance(a, torch.Tensor):
            parts.append(f"{ex}={a}")
    return ", ".join(parts) or ", ".join(
        "x".join(map(str, a.shape)) for a in args if isinstance(a, torch.Tensor))


def specialize_graph(gm: torch.fx.GraphModule, args: tuple,
                     example_inputs: list[Any] | None = None) -> torch.fx.GraphModule:
    """``gm`` with the sizes of ``args``: every integer the graph computes from its
    symbols becomes a constant, integer inputs are dropped (the result takes the
    tensor inputs only), and each node's ``meta["val"]`` has concrete sizes.

    Fast path: the symbols' values are read off ``args`` (where the example
    inputs have a bare symbol), and each node's symbolic metadata is evaluated
    with them (meta tensors: no data, no dispatch). When a value is not
    determined that way, fake tensors are propagated through the graph instead
    (slower; not ``make_fx``, whose global tracing flag would break other threads
    running compiled code).
    """
    vals: dict[torch.fx.Node, Any] | None = None
    if example_inputs is not None:
        try:
            vals = _evaluate_metadata(gm, _symbol_values(example_inputs, args))
        except _Unbound:
            vals = None
    if vals is None:
        vals = _propagate_fake(gm, args)
    graph = torch.fx.Graph()
    remap: dict[torch.fx.Node, torch.fx.Node] = {}
    out = graph.graph_copy(gm.graph, remap)
    graph.output(out)
    for old, new in remap.items():
        if old.op == "output":
            continue
        val = vals.get(old)
        if isinstance(val, (int, float, bool)) and not isinstance(val, torch.Tensor):
            for user in list(new.users):
                user.args = torch.fx.node.map_arg(user.args, lambda a: val if a is new else a)
                user.kwargs = torch.fx.node.map_arg(
                    user.kwargs, lambda a: val if a is new else a)
            graph.erase_node(new)
        elif val is not None:
            new.meta["val"] = val
    graph.eliminate_dead_code()
    return torch.fx.GraphModule(gm, graph)


class _Unbound(Exception):
    """A symbolic value the call's arguments do not determine."""


def _symbol_values(example_inputs: list[Any], args: tuple) -> dict:
    """Symbol -> value, from the sizes, strides and integers of ``args`` where the
    example inputs have a bare symbol (``s77``, not ``2*s77``)."""
    import sympy

    env: dict = {}

    def bind(ex: Any, v: Any) -> None:
        expr = getattr(getattr(ex, "node", None), "expr", None)
        if isinstance(expr, sympy.Symbol):
            if env.setdefault(expr, v) != v:
                raise _Unbound(f"{expr} is both {env[expr]} and {v}")

    for ex, a in zip(example_inputs, args):
        if isinstance(ex, torch.Tensor) and isinstance(a, torch.Tensor):
            for e, v in zip((*ex.shape, *ex.stride()), (*a.shape, *a.stride())):
                bind(e, v)
        elif not isinstance(a, torch.Tensor):
            bind(ex, a)
    return env


def _evaluate_metadata(gm: torch.fx.GraphModule, env: dict) -> dict[torch.fx.Node, Any]:
    """Each node's ``meta["val"]`` with the symbols of ``env`` substituted."""
    import sympy

    memo: dict = {}
    env = {k: sympy.Integer(v) for k, v in env.items()}

    def num(x: Any) -> Any:
        node = getattr(x, "node", None)
        if node is None:
            return x
        expr = node.expr
        if expr not in memo:
            v = expr.xreplace(env)
            if not isinstance(v, (sympy.Integer, sympy.Float)) and v not in (
                    sympy.true, sympy.false):
                raise _Unbound(f"{expr} is not determined by the inputs' sizes")
            memo[expr] = (int(v) if isinstance(v, sympy.Integer) else
                          float(v) if isinstance(v, sympy.Float) else bool(v))
        return memo[expr]

    def conc(v: Any) -> Any:
        if isinstance(v, torch.Tensor):
            return torch.empty_strided([num(s) for s in v.shape], [num(s) for s in v.stride()],
                                       dtype=v.dtype, device="meta")
        if isinstance(v, (list, tuple)):
            return type(v)(conc(x) for x in v)
        if isinstance(v, (torch.SymInt, torch.SymFloat, torch.SymBool)):
            return num(v)
        return v

    out = {}
    for n in gm.graph.nodes:
        if n.op in ("placeholder", "call_function") and "val" in n.meta:
            out[n] = conc(n.meta["val"])
    return out


def _propagate_fake(gm: torch.fx.GraphModule, args: tuple) -> dict[torch.fx.Node, Any]:
    from torch._subclasses.fake_tensor import FakeTensorMode

    mode = FakeTensorMode(allow_non_fake_inputs=True)
    fake_args = [mode.from_tensor(a) if isinstance(a, torch.Tensor) else a for a in args]
    vals: dict[torch.fx.Node, Any] = {}

    class _Prop(torch.fx.Interpreter):
        def run_node(self, n: torch.fx.Node) -> Any:
            vals[n] = out = super().run_node(n)
            return out

    with mode:
        _Prop(gm).run(*fake_args)
    return vals


class Specializing:
    """Callable ``fn(*args) -> list[Tensor]`` for a graph with symbolic sizes.

    Args:
        gm: the ATen graph (symbolic) from aot_autograd.
        example_inputs: its example inputs (fake tensors with symbolic sizes, SymInts).
        compile_static: ``(info, gm, example_inputs, eager=fn)``: compiles a static
            ATen graph for concrete example inputs into a callable returning a list
            of tensors (the usual Ember path), filling in ``info``; ``eager`` runs
            when inputs miss the compiled signature.
        info: the report record of the symbolic graph; each specialization adds
            a child record to ``info.specializations``.
        strict: raise a failed specialization's error instead of running eagerly.
    """

    def __init__(self, gm: torch.fx.GraphModule, example_inputs: list[Any],
                 compile_static: Callable[[GraphInfo, torch.fx.GraphModule, list[Any]],
                                          Callable[..., Any]],
                 info: GraphInfo, strict: bool = False) -> None:
        self.gm = gm
        self.strict = strict
        self.example_inputs = list(example_inputs)
        self.compile_static = compile_static
        self.info = info
        self.cache: "OrderedDict[tuple, Callable[..., list]]" = OrderedDict()
        self._ints, self._tensors = _varying(self.example_inputs)
        self.lock = threading.Lock()
        self.compile_lock = threading.Lock()
        self.seconds = 0.0  # Ember's time in all specializations so far
        self.compiles = 0

    def _signature(self, args: tuple) -> tuple:
        return (tuple(args[i] for i in self._ints),
                tuple((args[i].shape, args[i].stride()) for i in self._tensors))

    def __call__(self, *args: Any) -> list[Any]:
        key = self._signature(args)
        with self.lock:
            entry = self.cache.get(key)
            if entry is not None:
                self.cache.move_to_end(key)
        if entry is None:
            entry = self._specialize(key, args)
        return entry(*args)

    def _specialize(self, key: tuple, args: tuple) -> Callable[..., list]:
        with self.compile_lock:  # one compile at a time; a racing thread reuses it
            with self.lock:
                entry = self.cache.get(key)
            if entry is None:
                entry = self._compile(args)
                with self.lock:
                    self.cache[key] = entry
                    while len(self.cache) > MAX_SPECIALIZATIONS:
                        self.cache.popitem(last=False)
            return entry

    def _compile(self, args: tuple) -> Callable[..., list]:
        t0 = time.perf_counter()
        binding = _binding(self.example_inputs, args)
        child = GraphInfo(f"{self.info.name}[{binding}]")
        self.compiles += 1
        tensor_pos = [i for i, a in enumerate(args) if isinstance(a, torch.Tensor)]
        pick = operator.itemgetter(*tensor_pos) if len(tensor_pos) > 1 else (
            lambda a: tuple(a[i] for i in tensor_pos))
        gm = self.gm
        fixed = {i: a for i, a in enumerate(args) if not isinstance(a, torch.Tensor)}

        def symbolic(*tensors: Any) -> Any:
            # the guard-failure path: the symbolic graph itself (keeping the static
            # copy alive for it would cost its FX graph per size)
            it = iter(tensors)
            return gm(*[fixed[i] if i in fixed else next(it) for i in range(len(args))])

        try:
            static = specialize_graph(gm, args, self.example_inputs)
            run = self.compile_static(child, static, [args[i] for i in tensor_pos],
                                      eager=symbolic)
        except Exception as e:  # noqa: BLE001  (a failed specialization runs eagerly)
            if self.strict:
                raise
            child.eager_reason = f"specialization failed: {type(e).__name__}: {e}"
            log.warning("ember: specializing %s failed, running it eagerly: %s",
                        child.name, child.eager_reason)
            run = None
        child.compile_seconds = time.perf_counter() - t0
        self.seconds += child.compile_seconds
        self.info.specializations.append(child)
        del self.info.specializations[:-REPORTED_SPECIALIZATIONS]
        if run is None:
            def eager(*a: Any) -> list[Any]:
                out = gm(*a)
                return list(out) if isinstance(out, (tuple, list)) else [out]
            return eager

        def call(*a: Any) -> list[Any]:
            return run(*pick(a))
        return call
