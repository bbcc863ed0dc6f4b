"""Partition: decides which nodes Ember compiles and which run eagerly.

Import already turned unknown ATen ops into ``fallback`` nodes. This pass moves
known ops to the eager side too when the target cannot compile them: ops the
user forces out (``EMBER_FALLBACK_OPS=erf,tanh``, handy for bisecting a wrong
result) and dtypes the backend does not support. Each move is noted with its
reason. An Ember op on the eager side becomes an ``eager`` node naming the op and
its attributes, which the runtime runs through the op's eager reference.
"""

from __future__ import annotations

from ..ir.graph import Graph, Node
from ..ir.ops import Kind, get_op
from .manager import PassContext, register_pass

_COMPILED_KINDS = (Kind.POINTWISE, Kind.SOURCE, Kind.REDUCTION, Kind.SCAN, Kind.VIEW,
                   Kind.MOVEMENT, Kind.GATHER, Kind.SCATTER, Kind.LIBRARY)


@register_pass("partition")
def partition(g: Graph, ctx: PassContext) -> Graph:
    forced = set(ctx.options.get("fallback_ops", ()))
    supported = ctx.options.get("dtypes")
    out: list[Node] = []
    for n in g.nodes:
        kind = get_op(n.op).kind
        reason = None
        if kind in _COMPILED_KINDS:
            if n.op in forced:
                reason = "forced to eager by EMBER_FALLBACK_OPS"
            elif supported is not None and kind not in (Kind.LIBRARY, Kind.VIEW):
                # library steps are torch's, any dtype; a view is a torch view unless a
                # kernel reads it, and then the kernel's own ops are checked
                bad = {v.dtype for v in n.inputs + n.outputs} - set(supported)
                if bad:
                    reason = f"dtype {sorted(bad)} not supported by the backend"
        if reason is None:
            out.append(n)
            continue
        ctx.note("partition", n.op, reason)
        fb = g.add("eager", n.inputs, loc=n.loc, append=False, of=n.op,
                   attrs=tuple(n.attrs.items()))
        fb.outputs = n.outputs
        for o in fb.outputs:
            o.producer = fb
        out.append(fb)
    g.nodes = out
    return g
