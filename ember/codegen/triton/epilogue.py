"""A pointwise kernel fused into the matmul template as its epilogue.

``C = A @ B`` (plus addmm's bias) followed by a pointwise kernel over C's shape
(bias, activation, residual, scale, cast) becomes one Triton kernel: the tile
of C, rounded to C's dtype as eager would store it, is the epilogue's C input,
the epilogue's other inputs are read at the tile's rows and columns (and batch),
and only the epilogue's result is stored. C itself never goes to memory.

The epilogue is an ordinary :class:`~ember.codegen.kernel.Kernel` (the compiler
lowers the pointwise region as usual and hands it over when its C input is read
at C's own index), lowered with the same per-instruction rules as every Triton
kernel (``rules.py``); this module is the generator those rules call back
(``load``, ``index``): domain axis ``(batch,) m, n`` is ``(bid,) rm, rn``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import TritonLoweringError
from .rules import LOWERINGS, OpCtx, convert, to_storage

if TYPE_CHECKING:
    from .matmul import MatmulSpec

_TILE = " + tl.full([BLOCK_M, BLOCK_N], 0, tl.int64)"


def fusable(kernel, c_index: int, c_shape: tuple[int, ...]) -> str | None:
    """None if ``kernel`` can be the epilogue of a matmul whose result (shape
    ``c_shape``, contiguous) is its input ``c_index``, else why not."""
    if kernel.num_reduce or kernel.domain != tuple(c_shape) or len(c_shape) not in (2, 3):
        return "not a pointwise kernel over the matmul's result"
    if len(kernel.outputs) != 1 or len(kernel.stores) != 1:
        return "more than one output"
    dense = tuple(_dense(c_shape))
    st = kernel.stores[0].access
    if st.offset or _live(st.strides, c_shape) != _live(dense, c_shape):
        return "its result is not stored contiguously"
    for ins in kernel.body:
        if ins.op in ("gather", "reduced", "scanned", "reload"):
            return f"it holds a {ins.op}"
        if "within" in ins.attrs:
            return "it reads a cat (masked reads)"
        if ins.op == "load" and ins.attrs["buffer"] == c_index and (
                ins.attrs["access"].offset or _live(ins.attrs["access"].strides, c_shape) != _live(dense, c_shape)):
            return "it reads the matmul's result at another index than its own"
    return None


def _dense(shape):
    out, acc = [], 1
    for s in reversed(shape):
        out.append(acc)
        acc *= max(s, 1)
    return list(reversed(out))


def _live(strides, shape):
    return tuple(s if n != 1 else 0 for s, n in zip(strides, shape))


class _EpilogueGen:
    """The generator hooks ``rules.py`` calls (``kernel``, ``load``, ``index``)."""

    def __init__(self, spec: "MatmulSpec") -> None:
        self.spec = spec
        self.kernel = spec.epilogue
        nd = len(self.kernel.domain)
        self.idx = (["bid"] if nd == 3 else []) + ["rm[:, None].to(tl.int64)",
                                                   "rn[None, :].to(tl.int64)"]

    def load(self, buf: int, acc, within=()) -> str:
        if buf == self.spec.epi_c:
            return "c_tile"
        terms = [str(acc.offset)] if acc.offset else []
        terms += [f"{ix} * {s}" for s, ix in zip(acc.strides, self.idx) if s]
        expr = " + ".join(terms) or "0"
        return f"tl.load(e{buf} + ({expr}){_TILE}, mask=cmask, other=0)"

    def gather(self, *args) -> str:
        raise TritonLoweringError("no gathers in a matmul epilogue")

    def index(self, axis: int) -> str:
        return f"({self.idx[axis]}{_TILE})"


def epilogue_lines(spec: "MatmulSpec", lines: list[str], c_store: str) -> str:
    """Appends the epilogue's lines (after the tile ``acc`` is final; ``c_store``:
    the tile in C's storage dtype) and returns the value to store."""
    k = spec.epilogue
    gen = _EpilogueGen(spec)
    lines.append(f"    c_tile = {c_store}")
    names: list[str] = []
    for i, ins in enumerate(k.body):
        fn = LOWERINGS.get(ins.op)
        if fn is None or ins.op in ("reduced", "scanned", "reload"):
            raise TritonLoweringError(f"matmul epilogue {k.name!r}: no lowering for {ins.op!r}")
        cx = OpCtx(ins, [names[a] for a in ins.args], [k.body[a].dtype for a in ins.args], gen)
        lines.append(f"    ev{i} = {fn(cx)}")
        names.append(f"ev{i}")
    st, out = k.stores[0], k.outputs[0]
    return to_storage(convert(names[st.value], k.body[st.value].dtype, out.dtype), out.dtype)
