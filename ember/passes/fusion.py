"""Fusion: groups pointwise, view and reduction ops into ``kernel`` nodes.

Decisions (each refused fusion is recorded in ``ctx.notes`` for explain):

* A value is *materialized* (gets a buffer) when a graph output, a non-fusible
  op (matmul, fallback, a top-level view) or a reduction needs it. Everything
  else is computed inside the kernels that consume it: pointwise producers are
  inlined, and recomputed when several kernels consume them (cheaper than a
  round trip through memory for memory-bound code, as Inductor does).
* A reduction is materialized at the top of its *epilogue chain*: the single-use
  pointwise ops after it that keep its output shape (``rsqrt(var + eps)``,
  ``sum * (1/n)``). That kernel computes prologue, reduction and epilogue.
* Views are inlined as index arithmetic when affine (permute, expand, slice,
  squeeze, unsqueeze, and reshapes that only split dims or move unit dims);
  other reshapes run as runtime views on materialized values.
* ``cat`` is a kernel root: its inputs' producers fuse into it.

So softmax over the last axis is 3 kernels (amax; sum of exp; normalize) and
layer norm is 3 (mean; variance with rsqrt epilogue; normalize and affine).
"""

from __future__ import annotations

from ..ir.graph import Graph, Node, Value
from ..ir.ops import TRANSCENDENTAL, Kind, get_op
from .manager import PassContext, register_pass

_INLINE_KINDS = (Kind.POINTWISE, Kind.SOURCE)


def reshape_is_affine(in_shape: tuple[int, ...], out_shape: tuple[int, ...]) -> bool:
    """True if every input index is an affine function of the output index.

    That holds when, ignoring unit dims, each input dim is the product of a run of
    consecutive output dims (a split); merging dims needs div/mod.
    """
    a = [s for s in in_shape if s != 1]
    b = [s for s in out_shape if s != 1]
    j = 0
    for s in a:
        prod = 1
        while prod < s and j < len(b):
            prod *= b[j]
            j += 1
        if prod != s:
            return False
    return j == len(b)


def view_is_inlinable(n: Node) -> bool:
    if n.op == "reshape":
        return reshape_is_affine(n.inputs[0].shape, n.out.shape)
    return get_op(n.op).kind is Kind.VIEW


@register_pass("fusion")
def fusion(g: Graph, ctx: PassContext) -> Graph:
    users = g.users()
    need: set[Value] = set(g.outputs)
    for n in g.nodes:
        kind = get_op(n.op).kind
        if kind in (Kind.MATMUL, Kind.FALLBACK, Kind.CONSTANT, Kind.KERNEL):
            need.update(n.inputs)
    for n in g.nodes:
        if get_op(n.op).kind is Kind.REDUCTION:
            need.add(_epilogue_top(n, users, set(g.outputs)))

    position = {n: i for i, n in enumerate(g.nodes)}
    # Recomputing shared producers is cheap until they hold transcendental math and
    # feed many kernels (GELU before layer norm feeds 3): then compute them once.
    extra: set[Value] = set()
    for _ in range(4):
        trial = PassContext(options=ctx.options)
        kernels = _group(g, need | extra, users, trial, position)
        shared = _shared_expensive(kernels, users) - extra
        if not shared:
            break
        extra |= shared
    else:  # ran out of rounds: group once more with everything found
        trial = PassContext(options=ctx.options)
        kernels = _group(g, need | extra, users, trial, position)
    for v in sorted(extra, key=lambda v: position[v.producer]):
        ctx.note("fusion", v.producer.op, f"computed once: shared by {_SHARED_LIMIT}+ kernels "
                 "and holds transcendental math")
    ctx.notes += trial.notes

    out: list[Node] = []
    subst: dict[Value, Value] = {}
    for n in g.nodes:
        n.inputs = [subst.get(i, i) for i in n.inputs]
        k = kernels.get(n)
        if k is None:
            out.append(n)
            continue
        region, inputs, _ = k
        region.name = f"k{sum(x.op == 'kernel' for x in out)}_{_describe(region)}"
        new = g.add("kernel", [subst.get(i, i) for i in inputs], loc=n.loc, region=region,
                    out_types=[n.out.type], append=False, name=region.name)
        out.append(new)
        subst[n.out] = new.out
    g.nodes = out
    g.outputs = [subst.get(o, o) for o in g.outputs]
    from .dce import dce

    return dce(g, ctx)


def _group(g: Graph, need: set[Value], users: dict[Value, list[Node]], ctx: PassContext,
           position: dict[Node, int]) -> dict[Node, tuple[Graph, list[Value], set[Node]]]:
    """Kernel roots -> (region, inputs, original nodes inside), for a given need set."""
    need = set(need)
    kernels: dict[Node, tuple[Graph, list[Value], set[Node]]] = {}
    for n in reversed(g.nodes):
        kind = get_op(n.op).kind
        if not any(o in need for o in n.outputs):
            continue
        if kind is Kind.VIEW and (n.inputs[0] in need or not (
                n.inputs[0].producer is not None
                and get_op(n.inputs[0].producer.op).kind in _INLINE_KINDS
                and view_is_inlinable(n))):
            # A runtime view of a materialized value; it also keeps a view of an
            # output a view of it, as in eager.
            need.update(n.inputs)
            continue
        if kind not in _INLINE_KINDS + (Kind.REDUCTION, Kind.MOVEMENT, Kind.VIEW):
            continue
        kernels[n] = _build_region(n, need, users, ctx, position)
    return kernels


_SHARED_LIMIT = 3


def _shared_expensive(kernels, users: dict[Value, list[Node]]) -> set[Value]:
    """Values recomputed in _SHARED_LIMIT or more kernels whose shared part is expensive."""
    count: dict[Node, int] = {}
    for _, _, inside in kernels.values():
        for n in inside:
            if get_op(n.op).kind is Kind.POINTWISE:
                count[n] = count.get(n, 0) + 1
    shared = {n for n, c in count.items() if c >= _SHARED_LIMIT}
    out = set()
    for n in shared:
        if all(u in shared for u in users.get(n.out, [])):
            continue  # not the top of the shared part
        stack, seen = [n], set()
        while stack:
            m = stack.pop()
            if m in seen:
                continue
            seen.add(m)
            if m.op in TRANSCENDENTAL:
                out.add(n.out)
                break
            stack += [i.producer for i in m.inputs if i.producer in shared]
    return out


def _epilogue_top(r: Node, users: dict[Value, list[Node]], outputs: set[Value]) -> Value:
    """The last value of the single-use, same-shape pointwise chain after a reduction."""
    t = r.out
    while t not in outputs:
        us = users.get(t, [])
        if len(us) != 1 or get_op(us[0].op).kind is not Kind.POINTWISE or us[0].out.shape != r.out.shape:
            break
        t = us[0].out
    return t


def _build_region(root: Node, need: set[Value], users: dict[Value, list[Node]],
                  ctx: PassContext,
                  position: dict[Node, int]) -> tuple[Graph, list[Value], set[Node]]:
    """Collects the nodes computed inside the kernel rooted at ``root``.

    Returns the region graph, the kernel's inputs (materialized values) and the
    original nodes it computes.
    """
    inside: set[Node] = set()
    loads: list[Value] = []
    has_reduction = get_op(root.op).kind is Kind.REDUCTION
    stack: list[tuple[Value, bool]] = [(i, False) for i in root.inputs]
    if has_reduction:
        stack = [(root.inputs[0], False)]
    inside.add(root)
    # 'epilogue' is True while walking values of the reduction's output shape.
    if get_op(root.op).kind in _INLINE_KINDS:
        stack = [(i, i.shape == root.out.shape) for i in root.inputs]
    while stack:
        v, epi = stack.pop()
        p = v.producer
        if p is None or p in inside:
            if p is None and v not in loads:
                loads.append(v)
            continue
        kind = get_op(p.op).kind
        ok = False  # materialized values are loaded
        if v in need:
            pass
        elif kind in _INLINE_KINDS:
            ok = True
        elif kind is Kind.VIEW:
            ok = view_is_inlinable(p)
            if not ok:
                ctx.note("fusion", p.op, "view kept outside the kernel (not an affine reindexing)")
        elif kind is Kind.REDUCTION:
            # Absorbed only where its output index is the kernel's outer index: on a
            # same-shape pointwise path from the root, and used nowhere else.
            ok = (epi and not has_reduction and v.shape == root.out.shape
                  and len(users.get(v, ())) == 1)
            if ok:
                has_reduction = True
                inside.add(p)
                stack.append((p.inputs[0], False))
                continue
        if not ok:
            if v not in loads:
                loads.append(v)
            need.add(v)
            continue
        inside.add(p)
        # Only same-shape pointwise values of an epilogue stay epilogue values.
        stack.extend((i, epi and kind is Kind.POINTWISE and i.shape == root.out.shape)
                     for i in p.inputs)
    region = Graph()
    env: dict[Value, Value] = {}
    for v in loads:
        env[v] = region.add_input(v.shape, v.dtype)
    for n in sorted(inside, key=position.__getitem__):
        node = region.add(n.op, [env[i] for i in n.inputs], loc=n.loc, **n.attrs)
        for o, no in zip(n.outputs, node.outputs):
            env[o] = no
    region.outputs = [env[root.out]]
    return region, loads, inside


def _describe(region: Graph) -> str:
    ops = [n.op for n in region.nodes if get_op(n.op).kind is not Kind.VIEW and n.op != "full"]
    names = list(dict.fromkeys(ops))
    return "_".join(names[:4]) or "copy"


