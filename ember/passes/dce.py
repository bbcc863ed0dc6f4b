"""Dead code elimination: drops nodes none of whose outputs reach the graph outputs.

Fallback nodes are kept only when used too: every ATen op imported here comes
from a functionalized graph, so none has side effects.
"""

from __future__ import annotations

from ..ir.graph import Graph
from .manager import PassContext, register_pass


@register_pass("dce")
def dce(g: Graph, ctx: PassContext) -> Graph:
    live = set(g.outputs)
    kept = []
    for n in reversed(g.nodes):
        if any(o in live for o in n.outputs):
            kept.append(n)
            live.update(n.inputs)
    g.nodes = kept[::-1]
    return g
