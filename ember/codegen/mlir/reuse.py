"""CPU rewrite of staged kernels: store a costly value in its first pass, reload it later.

A staged kernel recomputes a body value in every pass that needs it; softmax
computes ``exp(x - max)`` in its sum pass and again to normalize. When a
prologue store of a later pass writes a value computed from such a costly
value (one with transcendental math), and that costly value is itself computed
in an earlier pass for a reduction, has the output's dtype and is read at the
same point, this rewrite stores it to that output in the earlier pass and has
the later pass ``reload`` it (the later store then overwrites it). Memory sees
one more write and one more read of a row that is still in cache; the
transcendental is computed once. Eager's softmax does the same.

The rewrite is the CPU backend's: on a GPU the store and the reload could be
done by different threads of a block, which would need a barrier.
"""

from __future__ import annotations

from dataclasses import replace

from ...ir.ops import TRANSCENDENTAL
from ..kernel import Instr, Kernel, Store, body_stages, needed, row_invariant


def reuse_stored(k: Kernel) -> Kernel:
    """``k`` with costly values reloaded instead of recomputed (``k`` when none)."""
    if not k.num_reduce or not any(i.op == "reduced" for i in k.body):
        return k
    stages, inv = body_stages(k), row_invariant(k)
    costly: list[bool] = []
    for ins in k.body:
        costly.append(ins.op in TRANSCENDENTAL or any(costly[a] for a in ins.args))
    reduced_in = {}  # body value -> the stages of the reductions that read it
    for r in k.reductions:
        for i, n in enumerate(needed(k.body, [r.value])):
            if n:
                reduced_in.setdefault(i, set()).add(stages[r.value])
    for si, st in enumerate(k.stores):
        if not st.prologue or stages[st.value] == 0:
            continue
        t = stages[st.value]
        if any(s.prologue and s.output == st.output for j, s in enumerate(k.stores) if j != si):
            continue
        cone = needed(k.body, [st.value])
        cands = [e for e in range(st.value) if cone[e] and costly[e] and not inv[e]
                 and stages[e] < t and stages[e] in reduced_in.get(e, ())
                 and k.body[e].dtype == k.outputs[st.output].dtype
                 and k.body[e].op not in ("load", "reload")]
        if cands:
            return _rewrite(k, cands[-1], si, stages)
    return k


def _rewrite(k: Kernel, e: int, si: int, stages: list[int]) -> Kernel:
    st = k.stores[si]
    body: list[Instr] = []
    index: list[int] = []
    reload = None
    for i, ins in enumerate(k.body):
        args = tuple(reload if a == e and stages[i] > stages[e] else index[a] for a in ins.args)
        body.append(Instr(ins.op, args, ins.dtype, ins.attrs))
        index.append(len(body) - 1)
        if i == e:
            body.append(Instr("reload", (), ins.dtype, {"output": st.output, "access": st.access}))
            reload = len(body) - 1
    stores = tuple(replace(s, value=index[s.value]) if s.prologue else s for s in k.stores)
    stores += (Store(st.output, index[e], st.access, prologue=True),)
    out = replace(k, body=tuple(body), stores=stores,
                  reductions=tuple(replace(r, value=index[r.value]) for r in k.reductions))
    out.validate()
    return out
