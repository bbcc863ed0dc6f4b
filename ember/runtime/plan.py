"""Buffer planning: when each slot is freed, and which dead buffer a kernel writes into.

A kernel's output may reuse the buffer of an earlier kernel output of the same
dtype and size once that buffer is dead: not used by any later step, directly
or through an alias (a runtime view of it, or the output of an eager fallback,
which may be a view of any of its inputs), and not a graph output. The reuse
never involves the kernel's own inputs, so no kernel reads what it writes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

INF = float("inf")


@dataclass
class StepSpec:
    kind: str  # kernel | library | view | fallback | constant
    inputs: list[int]
    outputs: list[int]
    signature: tuple | None = None  # (dtype, numel) of a kernel's fresh output buffer


@dataclass
class Plan:
    frees: list[list[int]] = field(default_factory=list)  # slots cleared after each step
    reuse: list[int | None] = field(default_factory=list)  # slot whose buffer a kernel takes

    @property
    def reused(self) -> int:
        return sum(r is not None for r in self.reuse)


def plan_buffers(steps: list[StepSpec], input_slots: list[int],
                 output_slots: list[int]) -> Plan:
    roots: dict[int, set[int]] = {s: {s} for s in input_slots}
    reusable: set[int] = set()
    for st in steps:
        for i in st.inputs:
            roots.setdefault(i, {i})  # constants: their own root, never reused
        for o in st.outputs:
            if st.kind == "view":
                roots[o] = set().union(*(roots[i] for i in st.inputs))
            elif st.kind == "fallback":
                roots[o] = {o}.union(*(roots[i] for i in st.inputs))
            else:
                roots[o] = {o}
            if st.kind == "kernel":
                reusable.add(o)
    last_use: dict[int, float] = {}
    death: dict[int, float] = {}
    for i, st in enumerate(steps):
        for s in st.inputs:
            last_use[s] = i
            for r in roots[s]:
                death[r] = i
    for s in output_slots:
        last_use[s] = INF
        for r in roots.get(s, {s}):
            death[r] = INF

    signature = {o: st.signature for st in steps for o in st.outputs if o in reusable}
    dies_at: dict[float, list[int]] = {}
    for s in reusable:
        dies_at.setdefault(death.get(s, -1), []).append(s)

    plan = Plan([[] for _ in steps], [None] * len(steps))
    pool: dict[tuple, list[int]] = {}
    pooled_at: dict[int, int] = {}
    for i, st in enumerate(steps):
        if st.signature is not None and pool.get(st.signature):
            plan.reuse[i] = pool[st.signature].pop()
        for s in set(st.inputs):
            if last_use.get(s) == i and s not in reusable:
                plan.frees[i].append(s)
        # Buffers whose last alias dies here become available to later kernels.
        for s in dies_at.get(i, ()):
            pooled_at[s] = i
            pool.setdefault(signature[s], []).append(s)
        # Kernel outputs that nothing ever reads are dead at once.
        plan.frees[i] += [o for o in st.outputs if o in reusable and o not in death]
    taken = {r for r in plan.reuse if r is not None}
    for s, i in pooled_at.items():
        if s not in taken:
            plan.frees[i].append(s)
    for f in plan.frees:
        f.sort()
    return plan
