"""Dead code elimination: drops nodes none of whose outputs reach the graph outputs.

Fallback nodes are kept only when used too: every ATen op imported here comes
from a functionalized graph, so none has side effects. Random ops
(``OpDef.random``, and fallbacks of ATen ops tagged ``nondeterministic_seeded``)
are kept even when unused: eager drew their numbers, which moves every later draw.
"""

from __future__ import annotations

from ..ir.graph import Graph
from ..ir.ops import draws_random
from .manager import PassContext, register_pass


@register_pass("dce")
def dce(g: Graph, ctx: PassContext) -> Graph:
    live = set(g.outputs)
    kept = []
    for n in reversed(g.nodes):
        if any(o in live for o in n.outputs) or draws_random(n):
            kept.append(n)
            live.update(n.inputs)
    g.nodes = kept[::-1]
    return g
