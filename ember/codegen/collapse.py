"""Kernel -> kernel: merge adjacent domain axes that every access walks as one.

Two neighbouring axes ``d, d+1`` (both outer or both reduce) merge when, for
every access, ``stride[d] == stride[d+1] * size[d+1]`` (or either axis has size
1) and no ``index`` instruction or masked read (``within``) uses either of
them. The merged kernel computes exactly the same thing with fewer index
divisions: a ``[2, 8, 32]`` domain read as ``(256, 32, 1)`` and ``(8, 1, 0)``
becomes ``[16, 32]``. A shared rewrite: the
compiler applies it to every kernel before the backend schedules it, so a CPU
vector loop or a Triton block runs along the longest contiguous axis there is.
"""

from __future__ import annotations

import math
from dataclasses import replace

from .kernel import Access, Instr, Kernel


def collapse_axes(k: Kernel) -> Kernel:
    """``k`` with mergeable adjacent axes merged (``k`` itself when none are)."""
    nd, nouter = len(k.domain), len(k.domain) - k.num_reduce
    if nd < 2 or math.prod(k.domain) == 0:
        return k
    indexed = {i.attrs["axis"] for i in k.body + k.epilogue if i.op == "index"}
    # a masked read's axes keep their indices (in the epilogue: outer axes, the same)
    indexed |= {w[0] for i in k.body + k.epilogue for w in i.attrs.get("within", ())}
    indexed |= set(k.ordered)  # a scatter's ordered axes stay axes of their own
    # every access as full-rank strides (outer-rank ones padded with zeros)
    accesses = [i.attrs["access"] for i in k.body + k.epilogue if i.op in ("load", "gather")]
    accesses += [s.access for s in k.stores]
    rows = [list(a.strides) + [0] * (nd - len(a.strides)) for a in accesses]

    groups: list[list[int]] = [[0]]
    sizes = [k.domain[0]]
    strides = [[r[0]] for r in rows]  # per access, per group
    for d in range(1, nd):
        n = k.domain[d]
        prev = groups[-1][-1]
        mergeable = ((prev < nouter) == (d < nouter) and prev not in indexed
                     and d not in indexed
                     and (sizes[-1] == 1 or n == 1
                          or all(st[-1] == r[d] * n for st, r in zip(strides, rows))))
        if mergeable:
            groups[-1].append(d)
            if n > 1:  # the merged axis steps like its inner part
                for st, r in zip(strides, rows):
                    st[-1] = r[d]
            sizes[-1] *= n
        else:
            groups.append([d])
            sizes.append(n)
            for st, r in zip(strides, rows):
                st.append(r[d])
    if len(groups) == nd:
        return k
    new_of = {d: g for g, ax in enumerate(groups) for d in ax}
    new_outer = len({new_of[d] for d in range(nouter)}) if nouter else 0
    new_access = {}
    for a, st in zip(accesses, strides):
        rank = len(groups) if len(a.strides) == nd else new_outer
        new_access[id(a)] = Access(a.offset, tuple(st[:rank]))

    def fix(instrs: tuple[Instr, ...]) -> tuple[Instr, ...]:
        out = []
        for i in instrs:
            if i.op in ("load", "gather"):
                i = replace(i, attrs=dict(i.attrs, access=new_access[id(i.attrs["access"])]))
                if "within" in i.attrs:
                    i.attrs["within"] = tuple((new_of[a], lo, hi)
                                              for a, lo, hi in i.attrs["within"])
            elif i.op == "index":
                i = replace(i, attrs=dict(i.attrs, axis=new_of[i.attrs["axis"]]))
            out.append(i)
        return tuple(out)

    stores = tuple(replace(s, access=new_access[id(s.access)]) for s in k.stores)
    return replace(k, domain=tuple(sizes), num_reduce=len(groups) - new_outer,
                   body=fix(k.body), epilogue=fix(k.epilogue), stores=stores,
                   ordered=tuple(new_of[a] for a in k.ordered))
