"""Fusion: groups pointwise, view and reduction ops into ``kernel`` nodes.

Three questions are asked apart (as Inductor's scheduler does), and every "no"
is recorded with both sides and the reason (``ctx.why_not``, shown by explain):

* **Legal** (:func:`_legal`): can this value be computed inside the kernel that
  reads it? No when it is materialized for a reason of its own (a graph output,
  an input of a matmul or an eager fallback, a reduction read at another index
  than its own kernel's), or when it is a view that is not an affine reindexing.
* **Profitable** (:func:`_materialize_once`): recomputing a shared pointwise
  producer in each consumer is cheaper than a round trip through memory (as
  Inductor does), until the shared part holds transcendental math that
  ``_SHARED_LIMIT`` or more kernels would recompute (GELU before layer norm): then
  it is computed once. The analysis is redone after each such decision, so a
  value materialized for a reason that a later decision removed is not kept.
* **Vetoed** by the backend (``ctx.options["backend"].fusion_veto``).

Shapes of kernels:

* A reduction is materialized at the top of its *epilogue chain*: the single-use
  pointwise ops after it that keep its output shape (``rsqrt(var + eps)``). That
  kernel computes prologue, reduction and epilogue.
* Views are inlined as index arithmetic when affine (permute, expand, slice,
  squeeze, unsqueeze, and reshapes that only split dims or move unit dims);
  other reshapes run as runtime views on materialized values.
* ``cat`` fuses like a pointwise op: its parts' producers fuse into it, and it
  into what reads it (each part read only in its range of the cat axis, see
  ``within`` in ``codegen/kernel.py``). Not when a part computes transcendental
  math (one kernel evaluates every part at every point), nor when a reshape,
  unfold or as_strided reads it (its axis must stay one kernel axis): then it
  is materialized, one copy kernel per part (``codegen/lower.py``).
* A scan (``cumsum``, ``cumprod``) is a kernel root: its input's pointwise
  producers fuse into it; its result is materialized (its readers load it).
* **Multi-output kernels**: a pointwise kernel whose value a later reduction
  kernel reads at every point of its domain (``h = x + r`` that RMSNorm then
  reduces, or a GELU that layer norm reduces) is merged into that reduction
  kernel, which stores the value as a second output while reducing it: one
  pass over memory instead of two.
* **Staged kernels** (:meth:`_Fusion._merge_staged`): a reduction kernel whose
  (keepdim) result another kernel reads broadcast along the rows it reduced
  joins that kernel, which then makes one pass over each row per stage while
  the row stays in cache. Refused, with the reason, when a row's inputs exceed
  ``STAGED_ROW_BYTES``, the result has other readers or is read through a view,
  or a transcendental value would be computed in more than
  ``STAGED_MAX_RECOMPUTE`` passes.

So softmax over the last axis is one kernel (max; sum of exp; normalize), as are
layer norm (mean; variance; normalize and affine) and a residual add followed by
RMSNorm (which also stores the sum).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..ir import dtypes
from ..ir.graph import Graph, Node, Value
from ..ir.ops import TRANSCENDENTAL, Kind, get_op
from .manager import PassContext, register_pass

_INLINE_KINDS = (Kind.POINTWISE, Kind.SOURCE)
# Whether a cat may fuse into what reads it (False: every cat is materialized,
# as before masked reads; bench/cat.py compares the two).
CAT_FUSES = True
_SHARED_LIMIT = 3
_MAX_ROUNDS = 32


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
    if n.op in ("view_as_real", "view_as_complex"):  # change the element type
        return False
    if n.op == "reshape":
        return reshape_is_affine(n.inputs[0].shape, n.out.shape)
    return get_op(n.op).kind is Kind.VIEW


@dataclass(eq=False)  # compared and hashed by identity
class _Region:
    """A kernel being formed: its root, the original nodes it computes, its loads."""

    root: Node
    inside: set[Node]
    loads: list[Value]
    extra_outputs: list[Value] = field(default_factory=list)  # stored besides the root


class _Fusion:
    def __init__(self, g: Graph, ctx: PassContext) -> None:
        self.g, self.ctx = g, ctx
        self.users = g.users()
        self.outputs = set(g.outputs)
        self.position = {n: i for i, n in enumerate(g.nodes)}
        self.backend = ctx.options.get("backend")
        # value -> why it gets a buffer of its own (legality reasons)
        self.need: dict[Value, str] = {o: "graph output" for o in g.outputs}
        for n in g.nodes:
            kind = get_op(n.op).kind
            if kind in (Kind.MATMUL, Kind.FALLBACK, Kind.CONSTANT, Kind.KERNEL):
                for i in n.inputs:
                    self.need.setdefault(i, f"input of {n.op}")
        for n in g.nodes:
            if get_op(n.op).kind is Kind.REDUCTION:
                top = self._epilogue_top(n)
                self.need.setdefault(top, f"result of reduction {n.op}")
            elif get_op(n.op).kind is Kind.GATHER:  # reads its table at computed addresses
                self.need.setdefault(n.inputs[0], f"gathered from by {n.op}")
            elif get_op(n.op).kind is Kind.SCATTER:  # complete only after its kernel
                self.need.setdefault(n.out, f"result of {n.op}")

    # -- legality ---------------------------------------------------------------------
    def _legal(self, v: Value, consumer: Node, need: dict[Value, str]) -> str | None:
        """None if ``v``'s producer may be computed inside ``consumer``'s kernel, else why not."""
        p = v.producer
        if v in need:
            return f"materialized ({need[v]})"
        kind = get_op(p.op).kind
        if kind is Kind.VIEW and not view_is_inlinable(p):
            return "not an affine reindexing (a reshape that merges dims)"
        if p.op == "cat" and not CAT_FUSES:
            return "cat fusion is off (fusion.CAT_FUSES)"
        if p.op == "cat":
            heavy = self._transcendental_part(p, need)
            if heavy:
                return f"a part computes {heavy} (every part is evaluated at every point)"
        elif kind not in _INLINE_KINDS + (Kind.VIEW, Kind.REDUCTION, Kind.GATHER):
            return f"{kind} ops are not fused"
        if self.backend is not None:
            veto = self.backend.fusion_veto(p.op, consumer.op)
            if veto:
                return f"vetoed by the {self.backend.name} backend: {veto}"
        return None

    def _transcendental_part(self, cat: Node, need: dict[Value, str]) -> str | None:
        """A transcendental op that a part of ``cat`` would compute inside the kernel
        reading it (walking the producers it would fuse), or None."""
        stack, seen = [i for i in cat.inputs], set()
        while stack:
            v = stack.pop()
            p = v.producer
            if p is None or v in need or p in seen:
                continue
            seen.add(p)
            if p.op in TRANSCENDENTAL:
                return p.op
            if get_op(p.op).kind in _INLINE_KINDS + (Kind.VIEW,) or p.op == "cat":
                stack.extend(p.inputs)
        return None

    def _misread_cats(self, r: _Region) -> list[Node]:
        """The cats in ``r`` that a path from its root reads through a view mapping
        their axis to no single kernel axis (a reshape, unfold, as_strided): a
        part is read only in a range of one axis (``within``)."""
        ok: dict[Node, bool] = {}
        for n in sorted(r.inside, key=self.position.__getitem__, reverse=True):
            f = ok.get(n, True) and _keeps_axes(n)
            for i in n.inputs:
                if i.producer in r.inside:
                    ok[i.producer] = ok.get(i.producer, True) and f
        return [n for n in r.inside if n.op == "cat" and n is not r.root and not ok.get(n, True)]

    # -- grouping ---------------------------------------------------------------------
    def settle(self, need: dict[Value, str]) -> dict[Value, str]:
        """``need`` plus what grouping with it materializes besides (the operands of
        runtime views, values a kernel must load), until nothing changes. Regions
        are built from the last node back, so a value that an earlier runtime view
        materializes is found after a later kernel chose to recompute it; with the
        settled set every kernel loads it (else a residual stream is recomputed
        from the embeddings in every layer's kernels)."""
        for _ in range(_MAX_ROUNDS):
            after = dict(need)
            self.group(need, record=False, out=after)
            if after.keys() == need.keys():
                break
            need = after
        return need

    def group(self, need: dict[Value, str], record: bool,
              out: dict[Value, str] | None = None) -> dict[Node, _Region]:
        """Kernel roots -> regions, for a given set of materialized values (``out``
        gets the set grouping ended with)."""
        need = out if out is not None else dict(need)
        kernels: dict[Node, _Region] = {}
        for n in reversed(self.g.nodes):
            kind = get_op(n.op).kind
            if not any(o in need for o in n.outputs):
                continue
            if kind is Kind.VIEW and (n.inputs[0] in need or not (
                    n.inputs[0].producer is not None
                    and get_op(n.inputs[0].producer.op).kind in _INLINE_KINDS
                    and view_is_inlinable(n))):
                # A runtime view of a materialized value; it also keeps a view of an
                # output a view of it, as in eager.
                for i in n.inputs:
                    need.setdefault(i, f"viewed at run time by {n.op}")
                continue
            if kind not in _INLINE_KINDS + (Kind.REDUCTION, Kind.SCAN, Kind.MOVEMENT,
                                            Kind.VIEW, Kind.GATHER, Kind.SCATTER):
                continue
            r = self._region(n, need, record)
            for _ in range(_MAX_ROUNDS):
                bad = self._misread_cats(r)
                if not bad:
                    break
                for c in bad:
                    need.setdefault(c.out, f"a cat read through a reshape by {n.op}")
                r = self._region(n, need, record)
            kernels[n] = r
        return kernels

    def _region(self, root: Node, need: dict[Value, str], record: bool) -> _Region:
        """Collects the nodes computed inside the kernel rooted at ``root``."""
        inside: set[Node] = {root}
        loads: list[Value] = []
        kind = get_op(root.op).kind
        has_reduction = kind is Kind.REDUCTION
        # 'epi' is True while walking values of the root's shape on a pointwise path
        # from the root: there a reduction's output index is the kernel's outer index.
        if has_reduction or kind is Kind.SCAN:  # the producers run at the input's index
            stack = [(root.inputs[0], False)]
        elif kind is Kind.SCATTER:  # self in the copy kernel, the rest in the scatter's
            stack = [(i, False) for i in root.inputs]
        else:
            stack = [(i, kind in _INLINE_KINDS and i.shape == root.out.shape)
                     for i in root.inputs]
        while stack:
            v, epi = stack.pop()
            p = v.producer
            if p is None or p in inside:
                if p is None and v not in loads:
                    loads.append(v)
                continue
            why = self._legal(v, root, need)
            pkind = get_op(p.op).kind
            if why is None and pkind is Kind.REDUCTION:
                # Absorbed only where its output index is the kernel's outer index.
                if not (epi and not has_reduction and v.shape == root.out.shape
                        and len(self.users.get(v, ())) == 1):
                    why = "a reduction read at another index than its kernel's own"
                else:
                    has_reduction = True
                    inside.add(p)
                    stack.append((p.inputs[0], False))
                    continue
            if why is not None:
                if v not in loads:
                    loads.append(v)
                    if record:
                        self.refused.append((p, root, why))
                need.setdefault(v, why)  # the first reason it is materialized
                continue
            inside.add(p)
            # Only same-shape pointwise values of an epilogue stay epilogue values.
            stack.extend((i, epi and pkind is Kind.POINTWISE and i.shape == root.out.shape)
                         for i in p.inputs)
        return _Region(root, inside, loads)

    def _epilogue_top(self, r: Node) -> Value:
        """The last value of the single-use, same-shape pointwise chain after a reduction."""
        t = r.out
        while t not in self.outputs:
            us = self.users.get(t, [])
            if (len(us) != 1 or get_op(us[0].op).kind is not Kind.POINTWISE
                    or us[0].out.shape != r.out.shape):
                break
            t = us[0].out
        return t

    # -- profitability ------------------------------------------------------------------
    def _materialize_once(self, kernels: dict[Node, _Region]) -> Value | None:
        """The earliest value whose recomputation would repeat transcendental math in
        ``_SHARED_LIMIT`` or more kernels, or None."""
        count: dict[Node, int] = {}
        for r in kernels.values():
            for n in r.inside:
                if get_op(n.op).kind is Kind.POINTWISE:
                    count[n] = count.get(n, 0) + 1
        shared = {n for n, c in count.items() if c >= _SHARED_LIMIT}
        found = []
        for n in shared:
            if all(u in shared for u in self.users.get(n.out, [])):
                continue  # not the top of the shared part
            stack, seen = [n], set()
            while stack:
                m = stack.pop()
                if m in seen:
                    continue
                seen.add(m)
                if m.op in TRANSCENDENTAL:
                    found.append(n)
                    break
                stack += [i.producer for i in m.inputs if i.producer in shared]
        return min(found, key=self.position.__getitem__).out if found else None

    def plan(self) -> dict[Node, _Region]:
        need = self.settle(dict(self.need))
        once: list[Value] = []
        for _ in range(_MAX_ROUNDS):
            kernels = self.group(need, record=False)
            v = self._materialize_once(kernels)
            if v is None:
                break
            # One decision at a time: materializing it changes what the others share.
            need[v] = f"computed once: shared by {_SHARED_LIMIT}+ kernels and holds " \
                      "transcendental math"
            need = self.settle(need)
            once.append(v)
        for v in once:
            self.ctx.note("fusion", v.producer.op, need[v])
        self.refused: list[tuple[Node, Node, str]] = []
        kernels = self.group(need, record=True)
        self._merge_into_reductions(kernels)
        self._merge_staged(kernels)
        # a refusal that a later merge overturned (both ends in one kernel) is not news
        home = {n: r for r in kernels.values() for n in r.inside}
        seen = set()
        for p, c, why in self.refused:
            r = home.get(c)
            key = (p.op, _label(c), why)
            if (r is None or p not in r.inside) and key not in seen:
                seen.add(key)
                self.ctx.why_not(*key)
        return kernels

    # -- staged kernels ---------------------------------------------------------------
    def _merge_staged(self, kernels: dict[Node, _Region]) -> None:
        """Moves a reduction kernel into the kernel that reads its result broadcast
        over the same rows (softmax's max into the sum of exp, that into the
        normalization): the merged kernel makes one pass over each row per stage
        while the row stays in cache, instead of one pass over memory per kernel."""
        changed = True
        while changed:
            changed = False
            for c in sorted(kernels, key=self.position.__getitem__, reverse=True):
                cr = kernels.get(c)
                if cr is None:
                    continue
                for v in list(cr.loads):
                    p = v.producer
                    pr = kernels.get(p) if p is not None else None
                    if pr is None or p is c:
                        continue
                    why = self._staged_reason(v, pr, cr, kernels)
                    if why is None:
                        cr.inside |= pr.inside
                        gone = {p.out} | set(pr.extra_outputs)
                        cr.loads = [x for x in cr.loads if x not in gone]
                        cr.loads += [x for x in pr.loads if x not in cr.loads]
                        cr.extra_outputs += [x for x in pr.extra_outputs
                                             if self._readers(x, kernels) - {cr, pr}]
                        del kernels[p]
                        changed = True
                        break
                    if why is not _QUIET:
                        self.refused.append((p, c, f"not merged into one staged kernel: {why}"))
                if changed:
                    break

    def _readers(self, v: Value, kernels: dict[Node, _Region]) -> set:
        """What reads materialized ``v``: the kernels that load it, the nodes outside
        kernels that use it, and "output" for a graph output. (A pointwise node
        may be computed inside several kernels, so a user node inside the reader
        does not mean no other kernel reads the value.)"""
        readers: set = {r for r in kernels.values() if v in r.loads}
        inside = set().union(*(r.inside for r in kernels.values()))
        readers |= {u for u in self.users.get(v, []) if u not in inside}
        if v in self.outputs:
            readers.add("output")
        return readers

    def _staged_reason(self, v: Value, pr: _Region, cr: _Region, kernels: dict[Node, _Region]):
        """None if reduction kernel ``pr`` (its result ``v``) can join ``cr``, else why
        not (``_QUIET``: not a candidate at all, nothing to record)."""
        reds = _reductions(pr)
        if not reds or get_op(pr.root.op).kind is Kind.GATHER:
            return _QUIET
        x, axes = reds[0].inputs[0], set(reds[0].attrs["axes"])
        if any(n.inputs[0].shape != x.shape or set(n.attrs["axes"]) != axes
               or not n.attrs["keepdim"] for n in reds):
            return "its reductions are not keepdim reductions of one shape and axes"
        if v.shape != tuple(1 if d in axes else s for d, s in enumerate(x.shape)):
            return "its result does not have the reduction's (keepdim) shape"
        c_reds = _reductions(cr)
        if c_reds:
            if any(n.inputs[0].shape != x.shape or set(n.attrs["axes"]) != axes
                   for n in c_reds):
                return "the reader reduces other rows"
        elif cr.root.out.shape != x.shape or get_op(cr.root.op).kind is not Kind.POINTWISE:
            return "the reader is not a pointwise kernel over the same rows"
        if self._readers(v, kernels) - {cr}:
            return "its result is used by another kernel"
        c_pos = self.position[cr.root]
        for h in pr.extra_outputs:
            for r in self._readers(h, kernels) - {cr, pr, "output"}:
                if self.position[r.root if isinstance(r, _Region) else r] < c_pos:
                    return "a value it stores is used before the reader"
        for u in self.users.get(v, []):
            if get_op(u.op).kind is not Kind.POINTWISE or u.out.shape not in (x.shape, v.shape):
                return "its result is read through a view"
        ws = 0  # bytes of the inputs' elements that one row reads
        for t in set(cr.loads + pr.loads):
            lead = x.rank - t.rank  # broadcasting aligns trailing dims
            ws += dtypes.itemsize(t.dtype) * math.prod(
                t.shape[d - lead] for d in axes if d >= lead)
        if ws > STAGED_ROW_BYTES:
            return f"a row's inputs take {ws} bytes, over {STAGED_ROW_BYTES} (rows must stay in cache)"
        heavy = _passes_of_transcendentals(
            sorted(cr.inside | pr.inside, key=self.position.__getitem__), x.shape)
        if heavy:
            op, n = heavy
            return f"it would compute {op} in {n} passes over each row"
        return None

    # -- multi-output kernels ----------------------------------------------------------------
    def _merge_into_reductions(self, kernels: dict[Node, _Region]) -> None:
        """Moves pointwise kernels into the reduction kernel that reads them whole."""
        roots = sorted(kernels, key=self.position.__getitem__)
        for p in roots:
            pr = kernels.get(p)
            if pr is None or get_op(p.op).kind is not Kind.POINTWISE or pr.extra_outputs:
                continue
            v = p.out
            for r in roots:
                rr = kernels.get(r)
                if rr is None or self.position[r] <= self.position[p] or v not in rr.loads:
                    continue
                why = self._merge_reason(v, pr, rr)
                if why is None:
                    rr.inside |= pr.inside
                    rr.loads = [x for x in rr.loads if x is not v]
                    rr.loads += [x for x in pr.loads if x not in rr.loads]
                    rr.extra_outputs.append(v)
                    del kernels[p]
                else:
                    self.refused.append((p, r, f"not merged as a second output: {why}"))
                break  # only the first kernel that reads v is considered

    def _merge_reason(self, v: Value, pr: _Region, rr: _Region) -> str | None:
        red = _reduction_of(rr)
        if red is None:
            return "the reader is not a reduction kernel"
        if any(get_op(n.op).kind is Kind.REDUCTION for n in pr.inside):
            return "it holds a reduction of its own"
        if v.shape != red.inputs[0].shape:
            return "the reduction does not read it at every point"
        uses = [n for n in rr.inside if v in n.inputs]
        if any(n is not red and (get_op(n.op).kind is not Kind.POINTWISE
                                 or n.out.shape != v.shape) for n in uses):
            return "read through a view or broadcast in the reduction"
        r_pos = self.position[rr.root]
        others = [u for u in self.users.get(v, []) if u not in rr.inside]
        if any(self.position[u] < r_pos for u in others):
            return "used before the reduction"
        produced_between = {x for x in pr.loads if x.producer is not None
                             and self.position[x.producer] > self.position[pr.root]}
        if produced_between:
            return "its inputs are computed after it"
        return None


# A staged kernel passes over each row once per stage; its rows' inputs must fit
# in about a quarter of a core's L2 (1 MiB on the development machine).
STAGED_ROW_BYTES = 256 * 1024
# At most this many passes may compute the same transcendental value.
STAGED_MAX_RECOMPUTE = 2
_QUIET = "quiet"


def _reductions(r: _Region) -> list[Node]:
    return [n for n in r.inside if get_op(n.op).kind is Kind.REDUCTION
            and n.inputs[0].rank and n.attrs["axes"]]


def _passes_of_transcendentals(order: list[Node], row_shape) -> tuple[str, int] | None:
    """A transcendental op the merged kernel (its nodes in graph ``order``) would
    compute in more than ``STAGED_MAX_RECOMPUTE`` passes over a row (op, passes),
    or None."""
    inside = set(order)
    stage: dict[Node, int] = {}  # the pass a node's value is first available in
    for n in order:
        stage[n] = max((stage[i.producer] + (get_op(i.producer.op).kind is Kind.REDUCTION)
                        for i in n.inputs if i.producer in inside), default=0)
    users: dict[Node, list[Node]] = {}
    for n in order:
        for i in n.inputs:
            if i.producer in inside:
                users.setdefault(i.producer, []).append(n)
    # the passes a row-shaped value is computed in: those of the reductions and
    # stores it feeds (a node no other reads is stored)
    sinks: dict[Node, set[int]] = {}
    for n in reversed(order):
        out = set() if users.get(n) else {stage[n]}
        for u in users.get(n, []):
            if get_op(u.op).kind is Kind.REDUCTION:
                out.add(stage[u])
            elif u.out.shape == row_shape:
                out |= sinks[u]
        sinks[n] = out
    for n in order:
        if n.op in TRANSCENDENTAL and n.out.shape == row_shape:
            k = len(sinks[n])
            if k > STAGED_MAX_RECOMPUTE:
                return n.op, k
    return None


def _reduction_of(r: _Region) -> Node | None:
    reds = [n for n in r.inside if get_op(n.op).kind is Kind.REDUCTION
            and n.inputs[0].rank and n.attrs["axes"]]
    return reds[0] if len(reds) == 1 else None


def _keeps_axes(n: Node) -> bool:
    """Whether ``n`` reads each input axis at one axis of its own, with a positive
    coefficient (or at a constant): all but reshapes that regroup dims, unfold
    and as_strided."""
    if n.op == "reshape":
        return [s for s in n.inputs[0].shape if s != 1] == [s for s in n.out.shape if s != 1]
    return n.op not in ("unfold", "as_strided")


def _label(n: Node) -> str:
    return f"{n.op}{' at ' + n.loc if n.loc else ''}"


@register_pass("fusion")
def fusion(g: Graph, ctx: PassContext) -> Graph:
    kernels = _Fusion(g, ctx).plan()
    position = {n: i for i, n in enumerate(g.nodes)}
    # Regions are built from the original nodes, before the loop below rewires inputs.
    regions = {n: _build(r, position) for n, r in kernels.items()}
    count = 0

    def visit(n: Node, subst: dict[Value, Value]) -> list[Node] | None:
        nonlocal count
        r = kernels.get(n)
        if r is None:
            return None  # nodes computed inside kernels are dead now; DCE drops them
        region = regions[n]
        region.name = f"k{count}_{_describe(region)}"
        count += 1
        results = [n.out] + r.extra_outputs
        new = g.add("kernel", [subst.get(i, i) for i in r.loads], loc=n.loc, region=region,
                    out_types=[v.type for v in results], append=False, name=region.name)
        subst.update(zip(results, new.outputs))
        return [new]

    g.rebuild(visit)
    from .dce import dce

    return dce(g, ctx)


def _build(r: _Region, position: dict[Node, int]) -> Graph:
    region = Graph()
    env: dict[Value, Value] = {}
    for v in r.loads:
        env[v] = region.add_input(v.shape, v.dtype)
    for n in sorted(r.inside, key=position.__getitem__):
        node = region.add(n.op, [env[i] for i in n.inputs], loc=n.loc, **n.attrs)
        for o, no in zip(n.outputs, node.outputs):
            env[o] = no
    region.outputs = [env[r.root.out]] + [env[v] for v in r.extra_outputs]
    return region


def _describe(region: Graph) -> str:
    ops = [n.op for n in region.nodes if get_op(n.op).kind is not Kind.VIEW and n.op != "full"]
    names = list(dict.fromkeys(ops))
    return "_".join(names[:4]) or "copy"
