"""Division with rounding, remainders and the inverse trig/hyperbolic functions,
compiled end to end (ember.compile on the CPU) against eager: integer and float
dtypes, Python-scalar operands, the -0.0 / inf / NaN cases of float floor
division, and integer division by zero, which must raise as eager does."""

from __future__ import annotations

import math

import pytest
import torch

import ember
from ember.codegen.mlir import available

pytestmark = pytest.mark.skipif(not available()[0], reason=f"MLIR backend: {available()[1]}")

INTS = [torch.int8, torch.int16, torch.int32, torch.int64, torch.uint8]
FLOATS = [torch.float32, torch.float64, torch.float16, torch.bfloat16]
OPS = {
    "floor_divide": torch.floor_divide,
    "div_floor": lambda a, b: torch.div(a, b, rounding_mode="floor"),
    "div_trunc": lambda a, b: torch.div(a, b, rounding_mode="trunc"),
    "remainder": torch.remainder,
    "fmod": torch.fmod,
}


def compiled_run(fn, *args):
    """(ember result, eager result); every op must have run in Ember's kernels."""
    with torch.no_grad():
        ref = fn(*args)
        c = ember.compile(fn)
        out = c(*args)
    assert not c.ember_report.fallbacks, c.ember_report
    assert all(g.eager_reason is None for g in c.ember_report.graphs), c.ember_report
    return out, ref


def exact(out, ref):
    assert out.dtype == ref.dtype
    torch.testing.assert_close(out, ref, rtol=0, atol=0, equal_nan=True)
    if out.is_floating_point():  # the sign of zeros too
        z = ref == 0
        assert torch.equal(torch.signbit(out[z]), torch.signbit(ref[z]))


def _ints(dt, n, nonzero=False, seed=0):
    g = torch.Generator().manual_seed(seed)
    info = torch.iinfo(dt)
    lo, hi = max(info.min, -1000), min(info.max, 1000)
    v = torch.randint(lo, hi + 1, (n,), generator=g, dtype=torch.int64)
    v[:4] = torch.tensor([info.min, info.max, 0, 1]).clamp(lo if nonzero else info.min, info.max)
    if nonzero:
        v = torch.where(v == 0, torch.ones_like(v), v)
    return v.to(dt)


@pytest.mark.parametrize("name", sorted(OPS))
@pytest.mark.parametrize("dt", INTS, ids=str)
def test_integer_division_matches_eager(name, dt):
    a = _ints(dt, 257, seed=1)
    b = _ints(dt, 257, nonzero=True, seed=2)
    if dt in (torch.int32, torch.int64):  # eager's MIN / -1 dies of SIGFPE: skip the pair
        b = torch.where((a == torch.iinfo(dt).min) & (b == -1), 3, b).to(dt)
    fn = OPS[name]
    exact(*compiled_run(lambda x, y: fn(x, y), a, b))
    exact(*compiled_run(lambda x: fn(x, 7), a))
    exact(*compiled_run(lambda x: fn(x, -3) if dt != torch.uint8 else fn(x, 3), a))


def test_int8_min_by_minus_one_wraps_like_eager():
    a = torch.tensor([-128, -128, 127, -1], dtype=torch.int8)
    b = torch.tensor([-1, 1, -1, -1], dtype=torch.int8)
    for fn in OPS.values():
        exact(*compiled_run(lambda x, y: fn(x, y), a, b))


@pytest.mark.parametrize("name", sorted(OPS))
@pytest.mark.parametrize("dt", [torch.int32, torch.int64, torch.uint8], ids=str)
def test_integer_division_by_zero_raises_like_eager(name, dt):
    fn = OPS[name]
    a = torch.tensor([5, 6, 7], dtype=dt)
    b = torch.tensor([1, 0, 2], dtype=dt)
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        fn(a, b)
    with torch.no_grad():
        c = ember.compile(lambda x, y: fn(x, y) + 1)
        with pytest.raises(RuntimeError, match="ZeroDivisionError"):
            c(a, b)
        # the same compiled function, divisors without zeros: no error, eager's result
        ok = torch.tensor([1, 3, 2], dtype=dt)
        exact(c(a, ok), fn(a, ok) + 1)
        torch._dynamo.reset()
        c0 = ember.compile(lambda x: fn(x, 0))
        with pytest.raises(RuntimeError, match="ZeroDivisionError"):
            c0(a)


SPECIAL = [0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.5, -2.5, 3.0, -7.0, 1e-30, -1e30, 1e30,
           math.inf, -math.inf, math.nan, 5.0, 0.3, -0.3]


@pytest.mark.parametrize("name", sorted(OPS))
@pytest.mark.parametrize("dt", FLOATS, ids=str)
def test_float_division_special_values(name, dt):
    # Eager's vectorized (AVX) float fmod/remainder give NaN where |x / y| overflows
    # float (1e30 by 1e-30), its scalar path (fewer than one vector of elements) the
    # exact fmod, as Ember does everywhere: such pairs have no single eager answer.
    pairs = [(x, y) for x in SPECIAL for y in SPECIAL
             if not (math.isfinite(x) and y and math.isfinite(y) and abs(x / y) > 3.4e38)]
    a = torch.tensor([p[0] for p in pairs], dtype=dt)
    b = torch.tensor([p[1] for p in pairs], dtype=dt)
    fn = OPS[name]
    exact(*compiled_run(lambda x, y: fn(x, y), a, b))
    g = torch.Generator().manual_seed(3)
    x = (torch.randn(4099, generator=g, dtype=torch.float64) * 100).to(dt)
    y = (torch.randn(4099, generator=g, dtype=torch.float64) * 10).to(dt)
    # f16/bf16: eager rounds each step of a floor or trunc division to the dtype
    exact(*compiled_run(lambda x, y: fn(x, y), x, y))
    exact(*compiled_run(lambda x: fn(x, 0.7), x))
    exact(*compiled_run(lambda x: fn(x, -3), x))


def test_rmod_and_mixed_dtypes():
    a = torch.tensor([1, -2, 3, 4], dtype=torch.int64)
    exact(*compiled_run(lambda x: 7 % x, a))
    exact(*compiled_run(lambda x: 7.5 % x, a))
    exact(*compiled_run(lambda x: x // 2.5, a))
    exact(*compiled_run(lambda x: torch.fmod(x, 1.5), a))
    f = torch.tensor([1.5, -2.5, 0.0, -0.0])
    exact(*compiled_run(lambda x, y: x // y, f, a))


INVERSE = {"asin": torch.asin, "acos": torch.acos, "atan": torch.atan, "asinh": torch.asinh,
           "acosh": torch.acosh, "atanh": torch.atanh}


@pytest.mark.parametrize("name", sorted(INVERSE) + ["atan2"])
@pytest.mark.parametrize("dt", FLOATS + [torch.int64], ids=str)
def test_inverse_functions_match_eager(name, dt):
    g = torch.Generator().manual_seed(4)
    v = torch.cat([torch.tensor(SPECIAL), torch.linspace(-1.2, 1.2, 241),
                   torch.randn(1000, generator=g) * 5]).to(torch.float64)
    if not dt.is_floating_point:
        v = v.clamp(-100, 100).nan_to_num(0)
    x = v.to(dt)
    if name == "atan2":
        out, ref = compiled_run(lambda y, x: torch.atan2(y, x), x, x.flip(0).contiguous())
    else:
        out, ref = compiled_run(lambda x: INVERSE[name](x), x)
    assert out.dtype == ref.dtype
    tol = {torch.float16: 1e-3, torch.bfloat16: 8e-3, torch.float64: 1e-14}.get(ref.dtype, 2e-7)
    torch.testing.assert_close(out, ref, rtol=tol, atol=0, equal_nan=True)


@pytest.mark.parametrize("dt", ["i8", "i32", "i64", "u8"])
def test_ir_ops_are_total_on_zero_divisors(dt):
    """The IR ops divide by 1 where the divisor is 0 (or for MIN / -1), in kernels and
    in the op table's reference alike; only the importer's assert raises."""
    from ember.codegen.interpret import TORCH_DTYPES
    from ember.ir.ops import OPS

    from tests.codegen.test_special_math import run

    tdt = TORCH_DTYPES[dt]
    info = torch.iinfo(tdt)
    a = torch.tensor([7, -7, 0, info.min, info.max, 5, info.min], dtype=torch.int64)
    b = torch.tensor([0, 0, 0, -1, 0, 3, 1], dtype=torch.int64)
    if dt == "u8":
        a, b = a.clamp(0, 255), b.clamp(0, 255)
    a, b = a.to(tdt), b.to(tdt)
    for op in ("floordiv", "truncdiv", "remainder", "fmod"):
        want = OPS[op].eager(a, b)
        for width in (1, 8):
            assert torch.equal(run(op, [a, b], width, dt), want), (op, dt, width)
