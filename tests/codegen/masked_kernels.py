"""Hand-built kernels with masked reads (``within``): a cat of two buffers along
either axis, a sum over a cat along the reduce axis, a masked gather, and a
masked read in an epilogue. Each part's access is shifted, so outside its range
it points before or past its buffer: a backend that reads there is caught by
the bounds of the buffers (and by garbage in the result). Shared by the MLIR
and Triton kernel tests."""

from __future__ import annotations

import torch

from ember.codegen.kernel import Access, Buffer, Instr, Kernel, Reduction, Store


def _load(buf, acc, within, dt="f32"):
    return Instr("load", (), dt, {"buffer": buf, "access": acc, "within": within})


def _pick(body, axis, split, a, b, dt="f32"):
    """body += where(index(axis) < split, body[a], body[b]); returns its index."""
    n = len(body)
    body += [Instr("index", (), "i64", {"axis": axis}),
             Instr("const", (), "i64", {"value": split}),
             Instr("lt", (n, n + 1), "b8"),
             Instr("where", (n + 2, a, b), dt)]
    return n + 3


def cat(rows: int, n0: int, n1: int, axis: int, dt: str = "f32") -> Kernel:
    """out = cat([-(-x0), x1], axis) (not not x0 for bool) with x0 [rows, n0] and x1 [rows, n1] (axis 1),
    or x0 [n0, rows] and x1 [n1, rows] (axis 0)."""
    if axis == 1:
        dom, a0, a1 = (rows, n0 + n1), Access(0, (n0, 1)), Access(-n0, (n1, 1))
        ostr = (n0 + n1, 1)
    else:
        dom, a0, a1 = (n0 + n1, rows), Access(0, (rows, 1)), Access(-n0 * rows, (rows, 1))
        ostr = (rows, 1)
    op = "logical_not" if dt == "b8" else "neg"
    body = [_load(0, a0, ((axis, 0, n0),), dt), Instr(op, (0,), dt),
            Instr(op, (1,), dt), _load(1, a1, ((axis, n0, n0 + n1),), dt)]
    v = _pick(body, axis, n0, 2, 3, dt)
    size = rows * (n0 + n1)
    return Kernel(f"cat{axis}_{rows}x{n0}+{n1}_{dt}", dom, 0,
                  (Buffer("x0", dt, rows * n0), Buffer("x1", dt, rows * n1)),
                  (Buffer("out", dt, size),), tuple(body), (Store(0, v, Access(0, ostr)),))


def cat_ref(x0, x1, axis):
    return torch.cat([x0, x1], axis)


def sum_of_cat(rows: int, n0: int, n1: int) -> Kernel:
    """out[r] = sum(cat([x0, x1], 1)[r]) and a prologue store of the cat: the
    masked reads are along the reduce axis."""
    body = [_load(0, Access(0, (n0, 1)), ((1, 0, n0),)),
            _load(1, Access(-n0, (n1, 1)), ((1, n0, n0 + n1),))]
    v = _pick(body, 1, n0, 0, 1)
    return Kernel(f"sumcat_{rows}x{n0}+{n1}", (rows, n0 + n1), 1,
                  (Buffer("x0", "f32", rows * n0), Buffer("x1", "f32", rows * n1)),
                  (Buffer("out", "f32", rows), Buffer("cat", "f32", rows * (n0 + n1))),
                  tuple(body),
                  (Store(0, 0, Access(0, (1,))),
                   Store(1, v, Access(0, (n0 + n1, 1)), prologue=True)),
                  (Reduction("sum", v, "f32"),), (Instr("reduced", (), "f32", {"index": 0}),))


def gather_cat(rows: int, n0: int, vocab: int, width: int) -> Kernel:
    """out = cat([x0 [rows, n0], table[ids] [rows, width]], 1): the gather's
    access and its ids' load are masked to the second part."""
    body = [_load(0, Access(0, (n0, 1)), ((1, 0, n0),)),
            _load(1, Access(0, (1, 0)), ((1, n0, n0 + width),), "i64"),
            Instr("gather", (1,), "f32", {"buffer": 2, "access": Access(-n0, (0, 1)),
                                          "stride": width, "extent": vocab,
                                          "within": ((1, n0, n0 + width),)})]
    v = _pick(body, 1, n0, 0, 2)
    return Kernel(f"gathercat_{rows}x{n0}+{width}", (rows, n0 + width), 0,
                  (Buffer("x0", "f32", rows * n0), Buffer("ids", "i64", rows),
                   Buffer("table", "f32", vocab * width)),
                  (Buffer("out", "f32", rows * (n0 + width)),), tuple(body),
                  (Store(0, v, Access(0, (n0 + width, 1))),))


def epilogue_cat(rows0: int, rows1: int, n: int) -> Kernel:
    """out[r] = max over the row of x, plus cat([b0, b1])[r] read in the epilogue
    (masked along the outer axis)."""
    rows = rows0 + rows1
    body = [Instr("load", (), "f32", {"buffer": 0, "access": Access(0, (n, 1))})]
    epi = [Instr("reduced", (), "f32", {"index": 0}),
           _load(1, Access(0, (1,)), ((0, 0, rows0),)),
           _load(2, Access(-rows0, (1,)), ((0, rows0, rows),))]
    v = _pick(epi, 0, rows0, 1, 2)
    epi.append(Instr("add", (0, v), "f32"))
    return Kernel(f"epicat_{rows0}+{rows1}x{n}", (rows, n), 1,
                  (Buffer("x", "f32", rows * n), Buffer("b0", "f32", rows0),
                   Buffer("b1", "f32", rows1)),
                  (Buffer("out", "f32", rows),), tuple(body),
                  (Store(0, len(epi) - 1, Access(0, (1,))),),
                  (Reduction("max", 0, "f32"),), tuple(epi))
