"""Common subexpression elimination: identical (op, inputs, attrs) compute once.

Ember ops are pure; fallback nodes are left alone since an ATen op may draw
random numbers.
"""

from __future__ import annotations

from typing import Any

import torch

from ..ir.graph import Graph
from ..ir.ops import draws_random
from ..ir.printer import format_attr
from .manager import PassContext, register_pass


def _key(attrs: dict[str, Any]) -> tuple:
    # Tensors (constant values) are compared by their printed bytes.
    return tuple((k, format_attr(v) if isinstance(v, torch.Tensor) else _hashable(v))
                 for k, v in sorted(attrs.items()))


def _hashable(v: Any) -> Any:
    if isinstance(v, float) and v != v:
        return ("nan",)  # nan != nan would defeat the lookup
    if isinstance(v, float):
        return ("float", v.hex())  # -0.0 == 0.0 in Python, but they are different constants
    if isinstance(v, tuple):
        return tuple(_hashable(x) for x in v)
    return (type(v).__name__, v)


@register_pass("cse")
def cse(g: Graph, ctx: PassContext) -> Graph:
    seen: dict[tuple, Any] = {}

    def visit(n, subst):
        # Fallbacks may be random (aten.rand, dropout): two calls are not one.
        if n.region is not None or n.op == "fallback" or draws_random(n):
            return None
        key = (n.op, tuple(id(i) for i in n.inputs), _key(n.attrs))
        prev = seen.get(key)
        if prev is not None and [o.type for o in prev.outputs] == [o.type for o in n.outputs]:
            subst.update(zip(n.outputs, prev.outputs))
            return []
        seen[key] = n
        return None

    g.rebuild(visit)
    return g
