"""Structural and type checks for Ember IR, run between passes in debug mode."""

from __future__ import annotations

from .graph import Graph, Value
from .ops import InputRef, IRError, Kind, get_op


class VerifyError(ValueError):
    pass


def verify(g: Graph) -> None:
    """Checks SSA order, producers, types against the op table, and kernel regions.

    Raises:
        VerifyError: naming the first offending node.
    """
    defined: set[Value] = set()
    for v in g.inputs:
        if v.producer is not None:
            raise VerifyError(f"graph input {v!r} has a producer")
        _check_shape(v, f"graph input {v!r}")
        defined.add(v)
    for idx, n in enumerate(g.nodes):
        where = f"node {idx} ({n.op})"
        try:
            opdef = get_op(n.op)
        except KeyError as e:
            raise VerifyError(f"{where}: {e}") from None
        for i in n.inputs:
            if i not in defined:
                raise VerifyError(f"{where}: input {i!r} is not defined before use")
        for o in n.outputs:
            if o.producer is not n:
                raise VerifyError(f"{where}: output {o!r} does not point back to its node")
            if o in defined:
                raise VerifyError(f"{where}: output {o!r} defined twice")
            _check_shape(o, f"{where}: output {o!r}")
            defined.add(o)
        try:
            attrs = opdef.normalize(dict(n.attrs))
        except IRError as e:
            raise VerifyError(f"{where}: {e}") from None
        if attrs != n.attrs and opdef.kind is not Kind.CONSTANT:
            raise VerifyError(f"{where}: attributes are not normalized: {n.attrs}")
        if n.op == "fallback":
            _check_fallback(n, where)
        elif opdef.kind is Kind.KERNEL:
            _check_kernel(n, where)
        else:
            try:
                types = opdef.infer(n)
            except (IRError, ValueError, TypeError) as e:
                raise VerifyError(f"{where}: {e}") from None
            got = [o.type for o in n.outputs]
            if types != got:
                raise VerifyError(f"{where}: outputs are {got}, the op rule gives {types}")
    for o in g.outputs:
        if o not in defined:
            raise VerifyError(f"graph output {o!r} is not defined")


def _check_shape(v: Value, where: str) -> None:
    if any(isinstance(d, bool) or not isinstance(d, int) or d < 0 for d in v.shape):
        raise VerifyError(f"{where}: bad shape {list(v.shape)} (dimensions are integers >= 0)")


def _check_fallback(n, where: str) -> None:
    refs: set[int] = set()

    def collect(x) -> None:
        if isinstance(x, InputRef):
            refs.add(x.index)
        elif isinstance(x, tuple):
            for y in x:
                collect(y)

    collect(n.attrs["args"])
    collect(n.attrs["kwargs"])
    if refs != set(range(len(n.inputs))):
        raise VerifyError(f"{where}: argument refs {sorted(refs)} do not match "
                          f"{len(n.inputs)} inputs")


def _check_kernel(n, where: str) -> None:
    r = n.region
    if r is None:
        raise VerifyError(f"{where}: kernel without a region")
    if [v.type for v in r.inputs] != [v.type for v in n.inputs]:
        raise VerifyError(f"{where}: region inputs do not match the kernel's inputs")
    if [v.type for v in r.outputs] != [v.type for v in n.outputs]:
        raise VerifyError(f"{where}: region outputs do not match the kernel's outputs")
    for inner in r.nodes:
        kind = get_op(inner.op).kind
        if kind in (Kind.FALLBACK, Kind.KERNEL, Kind.LIBRARY, Kind.CONSTANT):
            raise VerifyError(f"{where}: {inner.op} cannot be inside a kernel")
    try:
        verify(r)
    except VerifyError as e:
        raise VerifyError(f"{where}: region: {e}") from None
