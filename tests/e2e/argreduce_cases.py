"""Inputs and reference checks shared by the argmax-style reduction tests
(tests/e2e/test_argreduce.py, tests/triton/test_triton_argreduce.py)."""

from __future__ import annotations

import torch

NAN, INF = float("nan"), float("inf")


def _same(got: torch.Tensor, want: torch.Tensor) -> bool:
    if got.shape != want.shape or got.dtype != want.dtype:
        return False
    if not want.is_floating_point():
        return torch.equal(got, want)
    return (torch.equal(got.isnan(), want.isnan())
            and torch.equal(got.nan_to_num(0.0, INF, -INF), want.nan_to_num(0.0, INF, -INF))
            # -0.0 where eager has it (a NaN's sign bit is no one's business)
            and torch.equal(got.signbit() & ~got.isnan(), want.signbit() & ~want.isnan()))


def _all_four(dim, keepdim):
    def f(t):
        if dim is None:
            return t.argmax(), t.argmin(), t.argmax(keepdim=keepdim), t.argmin(keepdim=keepdim)
        mx, mn = torch.max(t, dim, keepdim=keepdim), torch.min(t, dim, keepdim=keepdim)
        return (t.argmax(dim, keepdim=keepdim), t.argmin(dim, keepdim=keepdim),
                mx.values, mx.indices, mn.values, mn.indices)
    return f


def _max_min_dim(dim, keepdim):  # bool: max.dim/min.dim only (argmax of bool raises)
    def f(t):
        mx, mn = torch.max(t, dim, keepdim=keepdim), torch.min(t, dim, keepdim=keepdim)
        return mx.values, mx.indices, mn.values, mn.indices
    return f


def _data(shape, dtype, seed=0):
    """Values with many ties (a few distinct values) and, for floats, NaN, inf and
    signed zeros in several positions of several rows."""
    g = torch.Generator().manual_seed(seed)
    if dtype == torch.bool:
        return torch.rand(shape, generator=g) > 0.5
    x = torch.randint(-3, 4, shape, generator=g)
    if not dtype.is_floating_point:
        return x.to(dtype)
    x = x.to(torch.float32) * 0.5
    x = torch.where(x == 0, torch.where(torch.rand(shape, generator=g) > 0.5, -0.0, 0.0), x)
    flat = x.view(-1)
    n = flat.numel()
    if n >= 8:
        flat[n // 3] = INF
        flat[n // 2] = -INF
        flat[1] = NAN  # first row: NaN near the start
    if n >= 40:
        flat[n - 1] = NAN  # at the very end
        flat[n // 4], flat[n // 4 + 3] = NAN, NAN  # two in one row
        flat[n // 5 + 1] = INF
    return x.to(dtype)
