"""Size-parametric kernels: one compiled kernel for every size of a symbolic graph.

A graph Dynamo captured with symbolic sizes is compiled per concrete size
(``frontend/specialize.py``), so each specialization lowers to ordinary kernels
with integer sizes. :func:`parametrize` turns such a kernel into a *template*
and the values of its parameters: every domain size, stride and offset whose
value is not 0 or 1 becomes a run-time parameter (:class:`Param`), read from an
``i64`` array passed as one more pointer argument, after the buffers. Templates
of two sizes are equal whenever the kernels differ only in those values, so a
template is compiled once (the kernel cache is keyed by its text) and each size
binds its own values.

Correctness never rests on the template alone: each specialization is lowered
concretely, through the static pipeline, and its kernel is checked (bounds of
every access) before its values are bound. Values 0 and 1 stay constants
because they change a kernel's structure (no loop for a size-1 axis, a
broadcast for stride 0, contiguous vector loads for stride 1); a kernel that
has 1 where another has 7 is a different template. Buffer sizes become
:data:`DYNAMIC`: code generators must not use them for anything but checks.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from .kernel import Access, Buffer, Instr, Kernel, offset_range, read_box


@dataclass(frozen=True, slots=True)
class Param:
    """A run-time integer: element ``index`` of the kernel's parameter array."""

    index: int

    def __str__(self) -> str:
        return f"${self.index}"


DYNAMIC = -1  # the size of a template's buffer: known only per call


def is_param(v) -> bool:
    return isinstance(v, Param)


def parametrize(k: Kernel) -> tuple[Kernel, tuple[int, ...]]:
    """The template of ``k`` and its parameter values (``k`` must be valid)."""
    check_bounds(k)
    values: list[int] = []

    def p(v: int, static=(0, 1)):
        if v in static:
            return v
        values.append(v)
        return Param(len(values) - 1)

    domain = tuple(p(n) for n in k.domain)

    def acc(a: Access) -> Access:
        return Access(p(a.offset, (0,)), tuple(p(s) for s in a.strides))

    def instr(i: Instr) -> Instr:
        if i.op == "load":
            return replace(i, attrs={**i.attrs, "access": acc(i.attrs["access"])})
        if i.op == "gather":
            return replace(i, attrs={**i.attrs, "access": acc(i.attrs["access"]),
                                     "stride": p(i.attrs["stride"])})
        return i

    def instrs(xs: tuple[Instr, ...]) -> tuple[Instr, ...]:
        return tuple(instr(i) for i in xs)

    body = instrs(k.body)
    epilogue = instrs(k.epilogue)
    stores = tuple(replace(s, access=acc(s.access),
                           stride=p(s.stride) if s.index is not None else s.stride)
                   for s in k.stores)
    if not values:
        return k, ()
    dyn = lambda bs: tuple(Buffer(b.name, b.dtype, DYNAMIC) for b in bs)  # noqa: E731
    template = replace(k, domain=domain, inputs=dyn(k.inputs), outputs=dyn(k.outputs),
                       body=body, epilogue=epilogue, stores=stores, num_params=len(values))
    return template, tuple(values)


def check_bounds(k: Kernel) -> None:
    """Raises ValueError when an access of ``k`` reaches outside its buffer."""
    nouter = len(k.domain) - k.num_reduce

    def check(a: Access, size: int, box, what: str,
              gathered: tuple[int, int] = (0, 1)) -> None:
        if box is None or any(lo >= hi for lo, hi in box):
            return  # no point reads or writes it
        stride, extent = gathered  # a gather's computed part: stride * [0, extent)
        lo, hi = offset_range(a, box)
        lo += min(0, stride * (extent - 1))
        hi += max(0, stride * (extent - 1))
        if lo < 0 or hi >= size:
            raise ValueError(f"kernel {k.name!r}: {what} access {a} reaches elements "
                             f"[{lo}, {hi}] of a {size}-element buffer")

    for where, xs, axes in (("body", k.body, k.domain), ("epilogue", k.epilogue, k.outer)):
        for i in xs:
            if i.op in ("load", "gather"):
                b = k.inputs[i.attrs["buffer"]]
                g = (i.attrs["stride"], i.attrs["extent"]) if i.op == "gather" else (0, 1)
                check(i.attrs["access"], b.size, read_box(i, axes),
                      f"{where} {i.op} of {b.name}", g)
    for s in k.stores:
        axes = k.domain if (s.prologue or not k.num_reduce) else k.domain[:nouter]
        out = k.outputs[s.output]
        check(s.access, out.size, [(0, n) for n in axes], f"store to {out.name}",
              (s.stride, s.extent) if s.index is not None else (0, 1))
