"""Hand-built scan kernels (a body that reads a reduction's running value,
``scanned``): cumsum and cumprod along rows or down columns, optionally with a
pointwise op on the running value. Shared by the MLIR and Triton kernel tests."""

from __future__ import annotations

import torch

from ember.codegen.kernel import Access, Buffer, Instr, Kernel, Reduction, Store


def scan(rows: int, n: int, col: bool = False, kind: str = "sum", dt: str = "f32",
         then: str | None = None) -> Kernel:
    """out[r, i] = (x[r, 0] op ... op x[r, i]) along each row (``col``: x is
    [n, rows] and each "row" is a column); ``then``: a unary op applied after."""
    acc = Access(0, (1, rows) if col else (n, 1))
    body = [Instr("load", (), dt, {"buffer": 0, "access": acc}),
            Instr("scanned", (), dt, {"index": 0})]
    if then:
        body.append(Instr(then, (1,), dt))
    name = f"cum{kind}_{rows}x{n}{'_col' if col else ''}_{dt}{'_' + then if then else ''}"
    return Kernel(name, (rows, n), 1, (Buffer("x", dt, rows * n),),
                  (Buffer("out", dt, rows * n), Buffer("total", dt, rows)), tuple(body),
                  (Store(0, len(body) - 1, acc, prologue=True), Store(1, 0, Access(0, (1,)))),
                  (Reduction(kind, 0, dt),), (Instr("reduced", (), dt, {"index": 0}),))


def inputs(rows: int, n: int, col: bool, kind: str, dt: str = "f32", seed: int = 0):
    """x as [rows, n] (a view of its [n, rows] storage when ``col``); products stay
    near 1 so that long rows neither overflow nor vanish."""
    g = torch.Generator().manual_seed(seed)
    if dt in ("i32", "i64"):
        x = torch.randint(-3 if kind == "sum" else -1, 4 if kind == "sum" else 3,
                          (n, rows) if col else (rows, n), generator=g,
                          dtype=getattr(torch, {"i32": "int32", "i64": "int64"}[dt]))
    else:
        x = torch.randn((n, rows) if col else (rows, n), generator=g, dtype=torch.float64)
        x = (x if kind == "sum" else 1 + 0.05 * x).float()
    return x.t() if col else x


def scan_ref(x: torch.Tensor, kind: str, then: str | None = None):
    """Eager's result, accumulated as eager's CPU kernel does (a double for
    float32), and the row totals."""
    fn = torch.cumsum if kind == "sum" else torch.cumprod
    run = fn(x, 1)
    if x.shape[1]:
        total = run[:, -1]
    else:  # an empty row: the reduction's identity
        total = torch.full((x.shape[0],), 0 if kind == "sum" else 1, dtype=x.dtype)
    return (getattr(torch, then)(run) if then else run), total
