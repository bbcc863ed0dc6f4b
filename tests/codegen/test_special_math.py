"""Accuracy of the inverse trigonometric / hyperbolic f32 polynomials
(ember/codegen/mlir/special.py) in vector code, and of their scalar (libm) path,
measured as tests/codegen/test_vmath_accuracy.py does: 2**20 float32 bit
patterns over the whole range, special values and a dense grid in [-10, 10]
(plus a dense grid over each function's domain edges), against torch's float64
result. NaN, +-inf and the sign of zero must match exactly.
"""

from __future__ import annotations

import math

import pytest
import torch

from ember.codegen.kernel import Access, Buffer, Instr, Kernel, Store
from ember.codegen.mlir import available, compile_kernels
from ember.codegen.schedule import Schedule

from .test_vmath_accuracy import SPECIAL, inputs

_OK, _REASON = available()
if not _OK:
    pytest.skip(f"MLIR backend unavailable: {_REASON}", allow_module_level=True)

REF = {"asin": torch.asin, "acos": torch.acos, "atan": torch.atan, "asinh": torch.asinh,
       "acosh": torch.acosh, "atanh": torch.atanh}
# measured maxima 0.50-0.51 ulp (docs/vector_math.md): the cores run in f64
MAX_ULP = dict.fromkeys(["asin", "acos", "atan", "asinh", "acosh", "atanh", "atan2"], 1)
EDGES = [1.0, -1.0, 0.5, -0.5, 0.41421356, 1.5, 2.414, 4096.0, 4097.0, 1e19, 1e20,
         0.99999994, -0.99999994, 1.0000001, 0.49999997, 0.50000006]


def _inputs() -> torch.Tensor:
    near1 = torch.linspace(-1.5, 1.5, 300001, dtype=torch.float32)
    return torch.cat([inputs(), torch.tensor(EDGES, dtype=torch.float32), near1,
                      torch.linspace(1, 3, 100001, dtype=torch.float32)])


def run(op: str, xs: list[torch.Tensor], width: int, dtype: str = "f32") -> torch.Tensor:
    n = xs[0].numel()
    acc = Access(0, (1,))
    ins = tuple(Buffer(f"x{i}", dtype, n) for i in range(len(xs)))
    body = tuple(Instr("load", (), dtype, {"buffer": i, "access": acc}) for i in range(len(xs)))
    body += (Instr(op, tuple(range(len(xs))), dtype),)
    k = Kernel(f"sm_{op}_{width}", (n,), 0, ins, (Buffer("y", dtype, n),), body,
               (Store(0, len(xs), acc),))
    (ck,) = compile_kernels([k], schedules=[Schedule(vector_width=width)])
    y = torch.empty_like(xs[0])
    ck(*(x.data_ptr() for x in xs), y.data_ptr())
    return y


def ulp_error(got: torch.Tensor, ref: torch.Tensor) -> tuple[float, torch.Tensor]:
    """Max error in f32 ulps of the finite results, and where special values differ
    (NaN vs number, infinities, the sign of a zero)."""
    ref32 = ref.float()
    special = ~torch.isfinite(ref32) | ~torch.isfinite(got) | (ref32 == 0)
    same = (torch.isnan(ref32) & torch.isnan(got)) | (
        (ref32 == got) & (torch.signbit(ref32) == torch.signbit(got)))
    bad_special = special & ~same
    fin = ~special
    r = ref[fin]
    mag = r.abs().clamp_min(2.0**-126)
    ulp = torch.exp2(torch.floor(torch.log2(mag)) - 23)
    err = (got[fin].double() - r).abs() / ulp
    return (err.max().item() if err.numel() else 0.0), bad_special


@pytest.mark.parametrize("op", sorted(REF))
def test_ulp_error(op):
    x = _inputs()
    got = run(op, [x], 16)
    err, bad = ulp_error(got, REF[op](x.double()))
    assert not bad.any(), f"{op}: special values differ at {x[bad][:8].tolist()} -> {got[bad][:8].tolist()}"
    assert err <= MAX_ULP[op], f"{op}: max error {err:.2f} ulp"


def _atan2_inputs() -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(0)
    n = 1 << 18
    bits = torch.randint(-(1 << 31), 1 << 31, (2, n), generator=gen, dtype=torch.int64)
    y, x = bits.to(torch.int32).view(torch.float32)
    sy, sx = torch.meshgrid(torch.tensor(SPECIAL[:12]), torch.tensor(SPECIAL[:12]), indexing="ij")
    dy, dx = torch.randn(2, 100000, generator=gen) * 10
    return torch.cat([y, sy.reshape(-1), dy]), torch.cat([x, sx.reshape(-1), dx])


def test_atan2_ulp_error():
    y, x = _atan2_inputs()
    got = run("atan2", [y, x], 16)
    err, bad = ulp_error(got, torch.atan2(y.double(), x.double()))
    assert not bad.any(), (y[bad][:8].tolist(), x[bad][:8].tolist(), got[bad][:8].tolist())
    assert err <= MAX_ULP["atan2"], f"atan2: max error {err:.2f} ulp"


@pytest.mark.parametrize("width", [1, 4, 8])
@pytest.mark.parametrize("op", sorted(REF) + ["atan2"])
def test_widths_and_scalar_path(op, width):
    """Width 1 is scalar code (libm); f64 kernels call libm in vector code too."""
    x = torch.tensor(SPECIAL + EDGES, dtype=torch.float32)
    xs = [x, x.flip(0)] if op == "atan2" else [x]
    ref = torch.atan2(*(v.double() for v in xs)) if op == "atan2" else REF[op](x.double())
    got = run(op, xs, width)
    err, bad = ulp_error(got, ref)
    assert not bad.any() and err <= MAX_ULP[op], (op, width, err)
    got64 = run(op, [v.double() for v in xs], width, "f64")
    torch.testing.assert_close(got64, ref, rtol=1e-15, atol=0, equal_nan=True)


def test_special_values_exact():
    x = torch.tensor([0.0, -0.0, math.inf, -math.inf, math.nan, 1.0, -1.0, 2.0, -2.0])
    for op, f in REF.items():
        got = run(op, [x], 8)
        want = f(x)
        assert torch.equal(torch.isnan(got), torch.isnan(want)), op
        ok = ~torch.isnan(want)
        assert torch.equal(got[ok], want[ok]), (op, got, want)
        assert torch.equal(torch.signbit(got[ok]), torch.signbit(want[ok])), op
