"""Which graph outputs may share memory with inputs or with each other.

A value's *roots* are the buffers it may live in: a view lives in its input's,
an eager fallback's output may be a view of any of its inputs (or fresh), and
every other op writes a fresh buffer. Two values alias when their roots meet.
The compiler compares this before and after its passes: simplifications such as
``x * 1 -> x`` or merging two ``clone`` ops must not make outputs alias what
eager would have kept apart.
"""

from __future__ import annotations

from dataclasses import dataclass

from .graph import Graph, Value
from .ops import Kind, get_op


@dataclass(frozen=True)
class OutputAliasing:
    inputs: tuple[frozenset[int], ...]  # per output: the graph inputs it may alias
    pairs: frozenset[tuple[int, int]]  # (i, k), i < k: outputs i and k may alias


def output_aliasing(g: Graph) -> OutputAliasing:
    roots: dict[Value, frozenset[Value]] = {v: frozenset([v]) for v in g.inputs}
    for n in g.nodes:
        kind = get_op(n.op).kind
        for o in n.outputs:
            if kind is Kind.VIEW:
                roots[o] = roots[n.inputs[0]]
            elif kind is Kind.FALLBACK:
                roots[o] = frozenset([o]).union(*(roots[i] for i in n.inputs))
            else:
                roots[o] = frozenset([o])
    outs = [roots[o] for o in g.outputs]
    index = {v: j for j, v in enumerate(g.inputs)}
    inputs = tuple(frozenset(index[r] for r in rs if r in index) for rs in outs)
    pairs = frozenset((i, k) for i in range(len(outs)) for k in range(i + 1, len(outs))
                      if outs[i] & outs[k])
    return OutputAliasing(inputs, pairs)


def outputs_to_copy(before: OutputAliasing, after: OutputAliasing) -> list[int]:
    """Outputs that alias something after the passes that they did not alias before."""
    copy = set()
    for i, (b, a) in enumerate(zip(before.inputs, after.inputs)):
        if not a <= b:
            copy.add(i)
    for i, k in after.pairs - before.pairs:
        copy.add(k)
    return sorted(copy)
