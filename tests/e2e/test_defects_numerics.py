"""The defects issue's silent wrong results: f16/bf16 constants and rounding
(items 1 and 3) and out-of-range Python scalars (item 2), each against eager,
bit for bit where eager's result is exactly defined."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch.utils._pytree import tree_leaves

import ember
from ember.codegen.mlir import available

pytestmark = pytest.mark.skipif(not available()[0], reason=f"MLIR backend: {available()[1]}")

HALF = [torch.float16, torch.bfloat16]


def run(fn, *args):
    """(ember result, eager result), with no whole graph running eagerly."""
    with torch.no_grad():
        ref = fn(*args)
        compiled = ember.compile(fn)
        out = compiled(*args)
    assert all(g.eager_reason is None for g in compiled.ember_report.graphs), \
        compiled.ember_report
    return out, ref


def same(out, ref):
    outs, refs = tree_leaves(out), tree_leaves(ref)
    assert len(outs) == len(refs)
    for o, r in zip(outs, refs):
        assert o.dtype == r.dtype
        assert torch.equal(o, r) or (o.isnan() == r.isnan()).all() and \
            torch.equal(o[~o.isnan()], r[~r.isnan()]), (o, r)


# -- item 1: constants of a low-precision dtype carry that dtype's value ----------------
@pytest.mark.parametrize("dt", HALF)
def test_half_compared_with_python_float(dt):
    x = torch.tensor([0.1, 0.3, 1.0], dtype=dt)
    out, ref = run(lambda x: (x == 0.1, x != 0.3, x < 0.1, x <= 0.3, x > 0.1), x)
    assert ref[0].tolist() == [True, False, False]
    same(out, ref)


@pytest.mark.parametrize("dt", HALF)
def test_half_full_like_third(dt):
    x = torch.randn(4096, generator=torch.Generator().manual_seed(0)).to(dt)
    same(*run(lambda x: x * torch.full_like(x, 1 / 3), x))


@pytest.mark.parametrize("dt", HALF)
def test_half_arange_rounds_each_element(dt):
    # iota of dtype f16/bf16 (a sibling of `full`): each element is rounded to dt
    # (2049 is 2048 in f16, 2049..2063 are 2048 or 2064 in bf16).
    x = torch.zeros(20, dtype=dt)

    def f(x):
        a = torch.arange(2040, 2060, dtype=dt)
        return a == 2048, x + a

    out, ref = run(f, x)
    assert ref[0][9]
    same(out, ref)


# -- item 3: f16/bf16 chains round after every op, as eager ------------------------------
@pytest.mark.parametrize("dt", HALF)
def test_half_chain_rounds_like_eager(dt):
    g = torch.Generator().manual_seed(1)
    x, y = (torch.randn(8192, generator=g).to(dt) for _ in range(2))

    def f(x, y):
        # correctly rounded ops only, so eager's result is exactly defined
        h = (x * y + x) * 0.7 - y / 3
        return torch.maximum(h, -y).abs().sqrt() * h + 1 / (y.abs() + 0.5)

    same(*run(f, x, y))


@pytest.mark.parametrize("dt", HALF)
def test_half_scalar_operands_as_aten_computes_them(dt):
    # ATen: mul/div by a Python scalar use the scalar in f32 (one rounding);
    # add/sub with alpha are fmadd(other, alpha, self) in f32 with alpha and operands
    # rounded to f16/bf16 (one rounding); comparisons and `where` round the scalar.
    g = torch.Generator().manual_seed(2)
    x, y = (torch.randn(8192, generator=g).to(dt) for _ in range(2))

    def f(x, y):
        return (x * 0.7, 0.7 * x, x / 0.7, x + 0.7, 0.7 - x, torch.add(x, 0.7, alpha=3),
                torch.add(x, y, alpha=0.3), torch.sub(x, y, alpha=3),
                torch.where(x > 0, x, 0.7))

    same(*run(f, x, y))


@pytest.mark.parametrize("dt", HALF)
def test_half_composites_match_eager(dt):
    g = torch.Generator().manual_seed(3)
    x = torch.randn(16, 64, generator=g).to(dt)
    w, b = torch.randn(64, generator=g).to(dt), torch.randn(64, generator=g).to(dt)

    def f(x):
        return (F.gelu(x), F.silu(x), torch.softmax(x, -1), F.layer_norm(x, (64,), w, b))

    out, ref = run(f, x)
    for o, r in zip(out, ref):
        # composites are decomposed (the decompositions upcast to f32 as eager does);
        # the f32 parts may differ in their last f32 bits, so allow one f16/bf16 ulp
        torch.testing.assert_close(o, r, rtol=torch.finfo(dt).eps, atol=torch.finfo(dt).eps)


@pytest.mark.parametrize("dt", HALF)
def test_half_var_and_mean(dt):
    g = torch.Generator().manual_seed(4)
    x = torch.randn(8, 256, generator=g).to(dt)
    # statistics are computed in f32 and rounded once, as eager
    same(*run(lambda x: (torch.var(x, -1), torch.var_mean(x, 0), x.mean(-1), x.sum(-1)), x))


# -- item 2: out-of-range Python scalars raise as eager does -------------------------------
OVERFLOWS = {
    "clamp_i32": (lambda x: x.clamp(max=2**31), torch.arange(5, dtype=torch.int32)),
    "clamp_min_i32": (lambda x: x.clamp(min=-2**31 - 1), torch.arange(5, dtype=torch.int32)),
    "clamp_u8": (lambda x: x.clamp(max=256), torch.arange(5, dtype=torch.uint8)),
    "where_i32": (lambda x: torch.where(x > 2, x, 2**32 + 7), torch.arange(5, dtype=torch.int32)),
    "masked_fill_f16": (lambda x: x.masked_fill(x < 0, -1e9), torch.linspace(-2, 2, 5).half()),
    "masked_fill_f16_just_above_max": (lambda x: x.masked_fill(x < 0, 65519.0),
                                       torch.linspace(-2, 2, 5).half()),
    "full_like_f16": (lambda x: x + torch.full_like(x, 70000.0), torch.ones(5).half()),
    "full_i8": (lambda x: x + torch.full((5,), 200, dtype=torch.int8), torch.ones(5, dtype=torch.int8)),
}


@pytest.mark.parametrize("name", sorted(OVERFLOWS))
def test_out_of_range_scalar_raises_like_eager(name):
    fn, x = OVERFLOWS[name]
    with pytest.raises(RuntimeError, match="without overflow"):
        fn(x)
    with torch.no_grad(), pytest.raises(RuntimeError, match="without overflow"):
        ember.compile(fn)(x)


def test_in_range_and_wrapping_scalars_still_compile():
    # what eager accepts stays compiled: masked_fill in range, uint8 clamp(min=-1)
    # (c10 lets unsigned dtypes wrap negatives), int32 + 2**40 (eager wraps silently)
    x = torch.linspace(-2, 2, 7).half()
    same(*run(lambda x: (x.masked_fill(x < 0, -65504.0), x.masked_fill(x > 1, 0.1)), x))
    i = torch.arange(7, dtype=torch.uint8)
    same(*run(lambda i: (i.clamp(min=-1), i.clamp(max=255)), i))
    j = torch.arange(7, dtype=torch.int32)
    same(*run(lambda j: (j + 2**40, j == 2**40, j.clamp(max=2**31 - 1)), j))


def test_overflow_check_matches_c10():
    from ember.frontend.importer import overflows

    assert overflows(2**31, "i32") and not overflows(2**31 - 1, "i32")
    assert overflows(256, "u8") and not overflows(-255, "u8") and overflows(-256, "u8")
    assert overflows(65504.5, "f16") and not overflows(65504.0, "f16")
    assert not overflows(float("inf"), "f16") and not overflows(float("nan"), "bf16")
    assert overflows(float("inf"), "i64") and not overflows(2, "b8")
    for v, dt in [(2**31, torch.int32), (256, torch.uint8), (-1e9, torch.float16),
                  (-256, torch.uint8), (70000.0, torch.float16)]:
        with pytest.raises(RuntimeError, match="without overflow"):
            torch.empty(5, dtype=dt).fill_(v)  # checked (a 1-element fill is not)
