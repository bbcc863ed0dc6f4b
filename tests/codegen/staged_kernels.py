"""Hand-built staged-reduction kernels (a body that reads finished reductions):
softmax and layer norm as one kernel each, row-major or down columns. Shared by
the MLIR and Triton kernel tests."""

from __future__ import annotations

import math

import torch

from ember.codegen.kernel import Access, Buffer, Instr, Kernel, Reduction, Store


def _load(buf: int, acc: Access, dt: str) -> Instr:
    return Instr("load", (), dt, {"buffer": buf, "access": acc})


def _x_access(rows: int, n: int, col: bool) -> Access:
    # row-major x[rows, n]; col: x is [n, rows] and each "row" is a column
    return Access(0, (1, rows) if col else (n, 1))


def softmax(rows: int, n: int, col: bool = False, dt: str = "f32") -> Kernel:
    """out = softmax(x) along each row: max (stage 0), sum of exp (stage 1),
    normalize (stage 2); the row's max is also an epilogue output."""
    acc = _x_access(rows, n, col)
    cdt = "f32" if dt in ("f16", "bf16") else dt
    body = [_load(0, acc, dt)]
    if cdt != dt:
        body.append(Instr("cast", (0,), cdt))
    x = len(body) - 1
    body += [Instr("reduced", (), cdt, {"index": 0}),        # max
             Instr("sub", (x, x + 1), cdt), Instr("exp", (x + 2,), cdt),
             Instr("reduced", (), cdt, {"index": 1}),        # sum
             Instr("div", (x + 3, x + 4), cdt)]
    if cdt != dt:
        body.append(Instr("cast", (len(body) - 1,), dt))
    return Kernel(f"softmax_{rows}x{n}{'_col' if col else ''}_{dt}", (rows, n), 1,
                  (Buffer("x", dt, rows * n),),
                  (Buffer("out", dt, rows * n), Buffer("mx", cdt, rows)), tuple(body),
                  (Store(0, len(body) - 1, acc, prologue=True), Store(1, 0, Access(0, (1,)))),
                  (Reduction("max", x, cdt), Reduction("sum", x + 3, cdt)),
                  (Instr("reduced", (), cdt, {"index": 0}),))


def softmax_ref(x: torch.Tensor, col: bool):
    xf = x.float()
    out = torch.softmax(xf, 0 if col else 1).to(x.dtype)
    mx = xf.amax(0 if col else 1)
    return out, mx


def layer_norm(rows: int, n: int, col: bool = False, eps: float = 1e-5) -> Kernel:
    """out = (x - mean) * rsqrt(var + eps) * w + b; rstd is an epilogue output."""
    acc = _x_access(rows, n, col)
    wa = Access(0, (0, 1))
    body = (
        _load(0, acc, "f32"),                               # 0 x
        Instr("reduced", (), "f32", {"index": 0}),          # 1 sum x
        Instr("const", (), "f32", {"value": 1.0 / n}),      # 2
        Instr("mul", (1, 2), "f32"),                        # 3 mean
        Instr("sub", (0, 3), "f32"),                        # 4 x - mean
        Instr("mul", (4, 4), "f32"),                        # 5
        Instr("reduced", (), "f32", {"index": 1}),          # 6 sum sq
        Instr("mul", (6, 2), "f32"),                        # 7 var
        Instr("const", (), "f32", {"value": eps}),          # 8
        Instr("add", (7, 8), "f32"),                        # 9
        Instr("rsqrt", (9,), "f32"),                        # 10 rstd
        Instr("mul", (4, 10), "f32"),                       # 11
        _load(1, wa, "f32"),                                # 12 w
        Instr("mul", (11, 12), "f32"),                      # 13
        _load(2, wa, "f32"),                                # 14 b
        Instr("add", (13, 14), "f32"),                      # 15
    )
    epi = (Instr("reduced", (), "f32", {"index": 1}), Instr("const", (), "f32", {"value": 1.0 / n}),
           Instr("mul", (0, 1), "f32"), Instr("const", (), "f32", {"value": eps}),
           Instr("add", (2, 3), "f32"), Instr("rsqrt", (4,), "f32"))
    return Kernel(f"layer_norm_{rows}x{n}{'_col' if col else ''}", (rows, n), 1,
                  (Buffer("x", "f32", rows * n), Buffer("w", "f32", n), Buffer("b", "f32", n)),
                  (Buffer("out", "f32", rows * n), Buffer("rstd", "f32", rows)), body,
                  (Store(0, 15, acc, prologue=True), Store(1, 5, Access(0, (1,)))),
                  (Reduction("sum", 0, "f32"), Reduction("sum", 5, "f32")), epi)


def layer_norm_ref(x, w, b, col: bool, eps: float = 1e-5):
    xr = x.t() if col else x
    out = torch.nn.functional.layer_norm(xr, (xr.shape[1],), w, b, eps)
    rstd = torch.rsqrt(xr.var(1, unbiased=False) + eps)
    return (out.t().contiguous() if col else out), rstd


def inputs(rows: int, n: int, col: bool, dt: str = "f32", seed: int = 0, specials: bool = False):
    g = torch.Generator().manual_seed(seed)
    shape = (n, rows) if col else (rows, n)
    x = torch.randn(shape, generator=g) * 4
    if specials and x.numel() > 8:
        flat = x.view(-1)
        flat[1], flat[5] = math.inf, -math.inf
        flat[-1] = math.nan
    return x.to({"f32": torch.float32, "f16": torch.float16, "bf16": torch.bfloat16}[dt])
