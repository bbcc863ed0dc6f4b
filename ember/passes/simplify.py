"""Algebraic simplification and constant folding, as declarative rewrite rules.

Each rule is a named function ``(node, ctx) -> Value | None`` with one comment
stating its identity; :func:`rewrite` applies the rule list to a fixed point.
Rules build replacement nodes through ``ctx.emit``, which inserts them where the
rewritten node stood.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

import torch

from ..ir import dtypes
from ..ir.graph import Graph, Node, Value
from ..ir.ops import Kind, get_op
from .manager import PassContext, register_pass


@dataclass
class RewriteCtx:
    new_nodes: list[Node] = field(default_factory=list)
    scratch: Graph = field(default_factory=Graph)

    def emit(self, op: str, *inputs: Value, loc: str | None = None, **attrs: Any) -> Value:
        node = self.scratch.add(op, list(inputs), loc=loc, append=False, **attrs)
        self.new_nodes.append(node)
        return node.out


Rule = Callable[[Node, RewriteCtx], "Value | None"]


def _full_value(v: Value) -> Any:
    """The fill value if ``v`` is a ``full`` constant, else None."""
    p = v.producer
    return p.attrs["value"] if p is not None and p.op == "full" else None


def _same(n: Node) -> Value | None:
    x = n.inputs[0]
    return x if x.type == n.out.type else None


# cast(x, dtype(x)) -> x  (a clone; if that makes an output alias an input or
# another output, the compiler copies that output, see ir/aliasing.py)
def cast_noop(n: Node, ctx: RewriteCtx) -> Value | None:
    return _same(n) if n.op == "cast" else None


# reshape/permute/expand/squeeze to the same type -> x (identity views)
def view_noop(n: Node, ctx: RewriteCtx) -> Value | None:
    if n.op == "permute" and n.attrs["dims"] != tuple(range(n.out.rank)):
        return None
    if n.op in ("reshape", "permute", "expand", "squeeze"):
        return _same(n)
    return None


# reshape(reshape(x, a), b) -> reshape(x, b)
def reshape_reshape(n: Node, ctx: RewriteCtx) -> Value | None:
    p = n.inputs[0].producer if n.op == "reshape" else None
    if p is not None and p.op == "reshape":
        return ctx.emit("reshape", p.inputs[0], loc=n.loc, shape=n.attrs["shape"])
    return None


# permute(permute(x, p), q) -> permute(x, p[q])
def permute_permute(n: Node, ctx: RewriteCtx) -> Value | None:
    p = n.inputs[0].producer if n.op == "permute" else None
    if p is not None and p.op == "permute":
        dims = tuple(p.attrs["dims"][d] for d in n.attrs["dims"])
        return ctx.emit("permute", p.inputs[0], loc=n.loc, dims=dims)
    return None


# x * 1 -> x  and  1 * x -> x  (exact for every value, NaN and -0.0 included)
def mul_one(n: Node, ctx: RewriteCtx) -> Value | None:
    if n.op != "mul":
        return None
    a, b = n.inputs
    if _full_value(b) == 1 and a.type == n.out.type:
        return a
    if _full_value(a) == 1 and b.type == n.out.type:
        return b
    return None


# x / c -> x * (1/c) when 1/c is exact (c a power of two), as eager rounds identically
def div_pow2(n: Node, ctx: RewriteCtx) -> Value | None:
    if n.op != "div":
        return None
    c = _full_value(n.inputs[1])
    if not isinstance(c, float) or c == 0 or c != c or abs(c) == float("inf"):
        return None
    m, e = math.frexp(c)
    if abs(m) != 0.5 or not -14 <= e <= 14:  # 1/c must stay exact and in range, f16 too
        return None
    one_over = ctx.emit("full", shape=n.inputs[1].shape, value=1.0 / c, dtype=n.out.dtype)
    return ctx.emit("mul", n.inputs[0], one_over, loc=n.loc)


# pow(x, 2) -> x * x  (exact: pow with an integral exponent of 2 is one rounding)
def pow_two(n: Node, ctx: RewriteCtx) -> Value | None:
    if n.op == "pow" and _full_value(n.inputs[1]) == 2 and n.inputs[0].type == n.out.type:
        return ctx.emit("mul", n.inputs[0], n.inputs[0], loc=n.loc)
    return None


# op(full(a), full(b), ...) -> full(op(a, b, ...))  (pointwise ops of constants fold)
def fold_full(n: Node, ctx: RewriteCtx) -> Value | None:
    opdef = get_op(n.op)
    if opdef.kind is not Kind.POINTWISE or not n.inputs:
        return None
    vals = [_full_value(i) for i in n.inputs]
    if any(v is None for v in vals):
        return None
    args = [torch.tensor(v, dtype=dtypes.to_torch(i.dtype)) for v, i in zip(vals, n.inputs)]
    res = opdef.eager(*args, **n.attrs).item()
    return ctx.emit("full", loc=n.loc, shape=n.out.shape, value=res, dtype=n.out.dtype)


# fallback(full(a), ...) -> full(fallback(a, ...))  (a deterministic ATen op of scalar
# constants folds: Dynamo turns a float computed from a symbolic size, such as
# size ** -0.5, into such 0-d tensor ops; with the size known they are constants)
def fold_scalar_fallback(n: Node, ctx: RewriteCtx) -> Value | None:
    if n.op != "fallback" or not n.inputs or n.out.shape != ():
        return None
    if any(i.shape != () or _full_value(i) is None for i in n.inputs):
        return None
    from ..ir.interpret import _fallback
    from ..ir.ops import resolve_target

    target = resolve_target(n.attrs["target"])
    if torch.Tag.nondeterministic_seeded in getattr(target, "tags", ()):
        return None
    args = [torch.tensor(_full_value(i), dtype=dtypes.to_torch(i.dtype)) for i in n.inputs]
    (res,) = _fallback(n, args)
    if not isinstance(res, torch.Tensor) or res.shape != () or \
            res.dtype != dtypes.to_torch(n.out.dtype):
        return None
    return ctx.emit("full", loc=n.loc, shape=(), value=res.item(), dtype=n.out.dtype)


RULES: list[Rule] = [cast_noop, view_noop, reshape_reshape, permute_permute, mul_one,
                     div_pow2, pow_two, fold_full, fold_scalar_fallback]


def rewrite(g: Graph, rules: list[Rule], max_rounds: int = 8) -> Graph:
    """Applies ``rules`` until nothing changes (or ``max_rounds``)."""
    for _ in range(max_rounds):
        ctx = RewriteCtx()

        def visit(n: Node, subst: dict[Value, Value]) -> list[Node] | None:
            if n.region is not None or len(n.outputs) != 1:
                return None
            for r in rules:
                ctx.new_nodes = []
                new = r(n, ctx)
                if new is not None:
                    if new.type != n.out.type:
                        raise AssertionError(f"rule {r.__name__} changed the type of {n.op}")
                    subst[n.out] = new
                    return ctx.new_nodes
            return None

        if not g.rebuild(visit):
            break
    return g


@register_pass("simplify")
def simplify(g: Graph, ctx: PassContext) -> Graph:
    return rewrite(g, RULES)
