"""Accuracy of the polynomial f32 math (ember/codegen/mlir/vmath.py) in vector code.

Each function runs as a vectorized MLIR kernel over 2**20 float32 bit patterns
spread evenly over the whole float32 range (denormals, huge values, inf and NaN
included) plus special values, and is compared with torch's float64 result:
the error in ulps of the float32 result must stay within ``MAX_ULP`` (the
figures in docs/vector_math.md), and NaN/inf must match exactly.
"""

from __future__ import annotations

import math

import pytest
import torch

from ember.codegen.kernel import Access, Buffer, Instr, Kernel, Store
from ember.codegen.mlir import available, compile_kernels
from ember.codegen.schedule import Schedule

_OK, _REASON = available()
if not _OK:
    pytest.skip(f"MLIR backend unavailable: {_REASON}", allow_module_level=True)

REF = {
    "exp": torch.exp, "exp2": torch.exp2, "expm1": torch.expm1, "log": torch.log,
    "log2": torch.log2, "log1p": torch.log1p, "tanh": torch.tanh, "sigmoid": torch.sigmoid,
    "erf": torch.erf, "sin": torch.sin, "cos": torch.cos,
}
# measured maxima (see docs/vector_math.md) with a little headroom
MAX_ULP = {"exp": 2, "exp2": 2, "expm1": 3, "log": 2, "log2": 2, "log1p": 3, "tanh": 3,
           "sigmoid": 3, "erf": 3, "sin": 2, "cos": 2, "pow": 1}
SPECIAL = [0.0, -0.0, math.inf, -math.inf, math.nan, 1.0, -1.0, 1e-45, -1e-45, 1e-38, 1.17549435e-38,
           3.4028235e38, -3.4028235e38, 88.72283, 88.72284, 89.0, -87.3, -103.9, -104.0, -150.0,
           128.0, 127.99, 0.625, -0.625, 1e-7, -1e-7, 0.5, 3.92, -3.92, 4.0, 8192.0, 8193.0,
           -8192.5, 1e5, 1e30, -1e30, 2.0**-126, 0.6931472, -0.6931472, 1.0000001, 0.99999994]


def inputs(n: int = 1 << 20) -> torch.Tensor:
    step = (1 << 32) // n
    bits = torch.arange(0, 1 << 32, step, dtype=torch.int64) + 12345
    bits = torch.where(bits >= 1 << 31, bits - (1 << 32), bits).to(torch.int32)
    dense = torch.linspace(-10, 10, 200001, dtype=torch.float32)
    return torch.cat([bits.view(torch.float32), torch.tensor(SPECIAL, dtype=torch.float32), dense])


def run(op: str, x: torch.Tensor, width: int) -> torch.Tensor:
    n = x.numel()
    acc = Access(0, (1,))
    k = Kernel(f"vm_{op}", (n,), 0, (Buffer("x", "f32", n),), (Buffer("y", "f32", n),),
               (Instr("load", (), "f32", {"buffer": 0, "access": acc}), Instr(op, (0,), "f32")),
               (Store(0, 1, acc),))
    (ck,) = compile_kernels([k], schedules=[Schedule(vector_width=width)])
    y = torch.empty_like(x)
    ck(x.data_ptr(), y.data_ptr())
    return y


def ulp_error(got: torch.Tensor, x: torch.Tensor, op: str) -> tuple[float, torch.Tensor]:
    ref = REF[op](x.double())
    ref32 = ref.float()
    special = ~torch.isfinite(ref32) | ~torch.isfinite(got)
    same = (torch.isnan(ref32) & torch.isnan(got)) | (ref32 == got)
    bad_special = special & ~same
    fin = ~special
    r = ref[fin]
    mag = r.abs().clamp_min(2.0**-126)
    ulp = torch.exp2(torch.floor(torch.log2(mag)) - 23)
    err = ((got[fin].double() - r).abs() / ulp)
    return (err.max().item() if err.numel() else 0.0), bad_special


@pytest.mark.parametrize("op", sorted(REF))
def test_ulp_error(op):
    x = inputs()
    if op in ("sin", "cos"):
        x = x[x.abs() < 1e6]  # huge arguments go to libm (tested below)
    got = run(op, x, 16)
    err, bad = ulp_error(got, x, op)
    assert not bad.any(), f"{op}: special values differ at {x[bad][:8].tolist()} -> {got[bad][:8].tolist()}"
    assert err <= MAX_ULP[op], f"{op}: max error {err:.2f} ulp"


@pytest.mark.parametrize("op", ["sin", "cos"])
def test_trig_huge_arguments_take_libm(op):
    x = torch.tensor([1e6, -3e7, 1e30, 8193.0, 0.5, math.inf, math.nan, -1e38] * 3, dtype=torch.float32)
    got = run(op, x, 8)
    torch.testing.assert_close(got, REF[op](x), rtol=1e-6, atol=1e-6, equal_nan=True)


@pytest.mark.parametrize("width", [4])
def test_narrower_vectors_agree(width):
    x = inputs(1 << 14)
    for op in REF:
        got = run(op, x, width)
        err, bad = ulp_error(got, x, op)
        assert not bad.any() and err <= MAX_ULP[op], (op, width, err)


def test_negative_zero_and_tiny():
    x = torch.tensor([-0.0, 0.0, -1e-30, 1e-30, -1e-45] * 4, dtype=torch.float32)
    for op in ("expm1", "log1p", "tanh", "erf", "sin"):
        got = run(op, x, 8)
        ref = REF[op](x.double()).float()
        assert torch.equal(torch.signbit(got), torch.signbit(ref)), op
        torch.testing.assert_close(got, ref, rtol=1e-6, atol=0)


def run2(op: str, x: torch.Tensor, y: torch.Tensor, width: int) -> torch.Tensor:
    n = x.numel()
    acc = Access(0, (1,))
    k = Kernel(f"vm2_{op}", (n,), 0, (Buffer("x", "f32", n), Buffer("y", "f32", n)),
               (Buffer("o", "f32", n),),
               (Instr("load", (), "f32", {"buffer": 0, "access": acc}),
                Instr("load", (), "f32", {"buffer": 1, "access": acc}), Instr(op, (0, 1), "f32")),
               (Store(0, 2, acc),))
    (ck,) = compile_kernels([k], schedules=[Schedule(vector_width=width)])
    o = torch.empty_like(x)
    ck(x.data_ptr(), y.data_ptr(), o.data_ptr())
    return o


POW_SPECIAL = [0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.0, -2.0, 3.0, -3.0, 2.5, -2.5, math.inf, -math.inf,
               math.nan, 1e-45, -1e-45, 3.4e38, 1e-30, 2.0**24, -(2.0**24) - 2, 0.75, 1.5, 16777217.0]


def test_pow_special_values_match_torch():
    pairs = [(a, b) for a in POW_SPECIAL for b in POW_SPECIAL]
    x = torch.tensor([p[0] for p in pairs], dtype=torch.float32)
    y = torch.tensor([p[1] for p in pairs], dtype=torch.float32)
    got = run2("pow", x, y, 16)
    ref = torch.pow(x.double(), y.double()).float()
    bad = ~((got == ref) | (torch.isnan(got) & torch.isnan(ref)) |
            ((got - ref).abs() <= 2e-6 * ref.abs()))
    assert not bad.any(), list(zip(x[bad].tolist(), y[bad].tolist(), got[bad].tolist(), ref[bad].tolist()))[:10]
    assert torch.equal(torch.signbit(got[~torch.isnan(got)]), torch.signbit(ref[~torch.isnan(ref)]))


def test_pow_ulp_error():
    g = torch.Generator().manual_seed(0)
    n = 1 << 18
    x = torch.exp(torch.randn(n, generator=g, dtype=torch.float64) * 20).float()
    x = torch.where(torch.rand(n, generator=g) < 0.2, -x, x)
    y = (torch.randn(n, generator=g) * 8)
    y = torch.where(torch.rand(n, generator=g) < 0.3, torch.round(y), y)
    got = run2("pow", x, y, 16)
    ref = torch.pow(x.double(), y.double())
    fin = torch.isfinite(ref.float()) & (ref.abs() > 2.0**-126)
    assert torch.equal(torch.isnan(got), torch.isnan(ref.float()))
    ulp = torch.exp2(torch.floor(torch.log2(ref[fin].abs())) - 23)
    err = ((got[fin].double() - ref[fin]).abs() / ulp).max().item()
    print("pow max ulp", err)
    assert err <= MAX_ULP["pow"], err
