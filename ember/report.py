"""What Ember did, for ``ember.explain`` and tests: graphs, breaks, fallbacks, kernels."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class KernelInfo:
    """A generated kernel: its backend ("cpu": MLIR -> LLVM, "triton"), name and artifacts.

    ``artifacts`` maps names to texts: "mlir" and "ll" (CPU), "triton" and "ptx"
    (Triton). ``source`` is the first of them (the code as generated).
    ``origin`` says where this compilation got it: "compiled" (fresh), "memory"
    (the in-process cache) or "disk" (the on-disk cache; the artifacts are then
    the texts stored with it).
    """

    backend: str
    name: str
    artifacts: Any = field(default_factory=dict, repr=False)
    graph: str = ""
    origin: str = "compiled"

    @property
    def source(self) -> str:
        return self.artifacts[next(iter(self.artifacts.keys()))] if self.artifacts else ""

    @property
    def llvm(self) -> str:
        """The LLVM IR of a CPU kernel ("" for other backends)."""
        return self.artifacts["ll"] if "ll" in self.artifacts.keys() else ""


@dataclass
class FallbackInfo:
    op: str
    reason: str
    loc: str | None = None
    graph: str = ""


@dataclass
class GraphBreak:
    reason: str
    user_stack: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        """One line: Dynamo's headline and explanation (the full text is ``reason``)."""
        lines = [ln.strip() for ln in self.reason.splitlines() if ln.strip()]
        text = " ".join(lines[:1] + [ln for ln in lines[1:] if ln.startswith("Explanation:")])
        where = f" at {self.user_stack[-1]}" if self.user_stack else ""
        return f"{text}{where}"


@dataclass
class GraphInfo:
    name: str
    fx: str = ""  # the ATen FX graph, as Python code
    ir: str = ""  # Ember IR as imported
    final_ir: str = ""  # Ember IR after the pipeline
    kernels: list[KernelInfo] = field(default_factory=list)
    fallbacks: list[FallbackInfo] = field(default_factory=list)
    notes: list[tuple[str, str, str]] = field(default_factory=list)  # (pass, op, reason)
    # (producer op, consumer kernel, reason): each fusion the fusion pass refused
    why_not_fused: list[tuple[str, str, str]] = field(default_factory=list)
    steps: list[tuple[str, str]] = field(default_factory=list)  # (kind, name)
    pass_seconds: list[tuple[str, float]] = field(default_factory=list)
    compile_seconds: float = 0.0
    eager_reason: str | None = None  # set when the whole graph runs eagerly
    dump_dir: str | None = None
    # Inputs as Dynamo captured them ("x: f32[s77,8]"); set for graphs with symbolic
    # sizes, which run as per-shape specializations (child records, newest last).
    inputs: list[str] = field(default_factory=list)
    specializations: list["GraphInfo"] = field(default_factory=list)
    recompile_reason: str | None = None  # Dynamo's guard failure that led to this graph
    compiled: Any = field(default=None, repr=False)  # the CompiledGraph, for profile()


@dataclass(eq=False)
class Report:
    """A printable account of one or more compilations.

    Attributes:
        graphs: every captured graph, compiled or run eagerly (see ``eager_reason``).
        graph_breaks: where Dynamo split the function, each with its reason.
        fallbacks: ops that run eagerly inside compiled graphs, with reasons.
        kernels: the kernels Ember generated, each with backend, name and source.
        events: other things worth knowing (recompile limit hits, ...).
    """

    graphs: list[GraphInfo] = field(default_factory=list)
    graph_breaks: list[GraphBreak] = field(default_factory=list)
    events: list[str] = field(default_factory=list)
    # Dynamo's name for the compiled function's frame, "'f' (path.py:12)", to route events.
    owner: str | None = field(default=None, repr=False)

    def _all_graphs(self) -> list[GraphInfo]:
        return [x for g in self.graphs for x in (g, *g.specializations)]

    @property
    def fallbacks(self) -> list[FallbackInfo]:
        graphs = self._all_graphs()
        out = [f for g in graphs for f in g.fallbacks]
        out += [FallbackInfo("<whole graph>", g.eager_reason, None, g.name)
                for g in graphs if g.eager_reason]
        return out

    @property
    def kernels(self) -> list[KernelInfo]:
        return [k for g in self._all_graphs() for k in g.kernels]

    def __str__(self) -> str:
        lines = [f"Ember report: {len(self.graphs)} graph(s), {len(self.graph_breaks)} graph "
                 f"break(s), {len(self.kernels)} kernel(s), {len(self.fallbacks)} fallback(s)"]
        for b in self.graph_breaks:
            lines.append(f"  graph break: {b}")
        for e in self.events:
            lines.append(f"  event: {e}")
        for g in self._all_graphs():
            if g.inputs:
                status = (f"symbolic sizes, {len(g.specializations)} specialization(s) "
                          f"so far")
            elif g.eager_reason:
                status = f"EAGER ({g.eager_reason})"
            else:
                status = f"compiled in {g.compile_seconds * 1e3:.1f} ms"
            lines.append(f"\n== graph {g.name}: {status}")
            if g.recompile_reason:
                lines.append(f"  recompiled because: {g.recompile_reason}")
            for desc in g.inputs:
                lines.append(f"  input {desc}")
            if g.inputs:
                lines.append("  each new combination of sizes compiles once (the graph1[...] "
                             "entries); sizes 0 and 1 are specialized by Dynamo (a call with "
                             "such a size compiles a graph of its own)".replace(
                                 "graph1", g.name))
            for f in g.fallbacks:
                lines.append(f"  fallback {f.op}{' at ' + f.loc if f.loc else ''}: {f.reason}")
            for p, op, why in g.notes:
                lines.append(f"  note [{p}] {op}: {why}")
            for prod, cons, why in g.why_not_fused:
                lines.append(f"  not fused: {prod} into {cons}: {why}")
            for kind, name in g.steps:
                lines.append(f"  step {kind:8s} {name}")
            for k in g.kernels:
                lines.append(f"  kernel {k.name} ({k.backend}): {k.origin}")
            if g.dump_dir:
                lines.append(f"  dumps: {g.dump_dir}")
            if g.final_ir:
                lines.append("  IR after passes:")
                lines += ["    " + ln for ln in g.final_ir.rstrip().splitlines()]
        return "\n".join(lines)
