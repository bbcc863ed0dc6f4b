"""Pass manager: runs a named pipeline of ``Graph -> Graph`` passes.

Each pass is timed; in debug mode the graph is verified after every pass and its
text form must parse back to the same text; with a dump directory the IR after
each pass is written to ``NN-<pass>.ir``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable

from ..ir.graph import Graph
from ..ir.parser import parse
from ..ir.printer import print_graph
from ..ir.verifier import VerifyError, verify


@dataclass
class PassContext:
    """What passes share: decisions they record for explain, and options."""

    notes: list[tuple[str, str, str]] = field(default_factory=list)  # (pass, op, reason)
    options: dict[str, Any] = field(default_factory=dict)
    # (producer op, consumer kernel, reason): every fusion refused, for explain
    why_not_fused: list[tuple[str, str, str]] = field(default_factory=list)

    def note(self, pass_name: str, op: str, reason: str) -> None:
        self.notes.append((pass_name, op, reason))

    def why_not(self, producer: str, consumer: str, reason: str) -> None:
        """Records that ``producer`` was not fused into ``consumer``'s kernel, and why."""
        self.why_not_fused.append((producer, consumer, reason))


@dataclass(frozen=True)
class Pass:
    name: str
    run: Callable[[Graph, PassContext], Graph]


PIPELINES: dict[str, list[str]] = {}
_PASSES: dict[str, Pass] = {}


def register_pass(name: str):
    def deco(fn: Callable[[Graph, PassContext], Graph]):
        _PASSES[name] = Pass(name, fn)
        return fn

    return deco


@dataclass
class PassTiming:
    name: str
    seconds: float


class PassManager:
    """Runs ``PIPELINES[pipeline]`` over a graph.

    Args:
        pipeline: a name in PIPELINES or an explicit list of pass names.
        debug: verify after every pass.
        dump: called as ``dump(filename, text)`` with the IR after each pass.
    """

    def __init__(self, pipeline: str | list[str], *, debug: bool = False,
                 dump: Callable[[str, str], None] | None = None) -> None:
        from . import load_all  # registers the passes

        load_all()
        names = PIPELINES[pipeline] if isinstance(pipeline, str) else list(pipeline)
        unknown = [n for n in names if n not in _PASSES]
        if unknown:
            raise KeyError(f"unknown passes {unknown}; known: {sorted(_PASSES)}")
        self.passes = [_PASSES[n] for n in names]
        self.debug = debug
        self.dump = dump
        self.timings: list[PassTiming] = []

    def run(self, g: Graph, ctx: PassContext | None = None) -> Graph:
        ctx = ctx or PassContext()
        if self.debug:
            check(g)
        if self.dump:
            self.dump("00-input.ir", print_graph(g))
        for i, p in enumerate(self.passes, 1):
            t0 = time.perf_counter()
            g = p.run(g, ctx)
            self.timings.append(PassTiming(p.name, time.perf_counter() - t0))
            if self.debug:
                check(g, p.name)
            if self.dump:
                self.dump(f"{i:02d}-{p.name}.ir", print_graph(g))
        return g


def check(g: Graph, after: str = "import") -> None:
    """Verifies ``g`` and that print -> parse -> print is the identity.

    Raises:
        VerifyError: naming the pass after which the graph went wrong.
    """
    try:
        verify(g)
        text = print_graph(g)
        again = print_graph(parse(text))
    except Exception as e:  # noqa: BLE001  (any failure here is a verifier failure)
        raise VerifyError(f"after {after}: {type(e).__name__}: {e}") from e
    if again != text:
        raise VerifyError(f"after {after}: the IR text does not round-trip:\n{text}\n---\n{again}")
