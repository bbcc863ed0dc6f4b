"""The reference interpreter (ember.codegen.interpret) against plain torch."""

from __future__ import annotations

import math

import pytest
import torch

from ember.codegen.interpret import run_kernel
from ember.codegen.kernel import Access, Buffer, Instr, Kernel, Reduction, Store

NAN, INF = math.nan, math.inf


def A(offset, *strides):
    return Access(offset, tuple(strides))


def load(buf, acc, dt):
    return Instr("load", (), dt, {"buffer": buf, "access": acc})


def const(v, dt):
    return Instr("const", (), dt, {"value": v})


def test_pointwise_strided_broadcast_offset():
    xt, row, s = torch.randn(12), torch.randn(4), torch.randn(40)
    k = Kernel("k", (3, 4), 0,
               (Buffer("xt", "f32", 12), Buffer("row", "f32", 4), Buffer("s", "f32", 40)),
               (Buffer("o", "f32", 12), Buffer("r", "f32", 12)),
               (load(0, A(0, 1, 3), "f32"), load(1, A(0, 0, 1), "f32"), load(2, A(5, 10, 2), "f32"),
                Instr("mul", (0, 1), "f32"), Instr("add", (3, 2), "f32")),
               (Store(0, 4, A(0, 4, 1)), Store(1, 4, A(11, -4, -1))))
    o, r = torch.zeros(12), torch.zeros(12)
    run_kernel(k, [xt, row, s], [o, r])
    ref = xt.view(4, 3).T * row + s[5:].as_strided((3, 4), (10, 2))
    torch.testing.assert_close(o, ref.reshape(-1))
    torch.testing.assert_close(r, ref.reshape(-1).flip(0))


def test_transposed_store_and_stride0_input():
    x = torch.randn(3)
    k = Kernel("k", (3, 2), 0, (Buffer("x", "f32", 3),), (Buffer("o", "f32", 6),),
               (load(0, A(0, 1, 0), "f32"), Instr("exp", (0,), "f32")), (Store(0, 1, A(0, 1, 3)),))
    o = torch.zeros(6)
    run_kernel(k, [x], [o])
    torch.testing.assert_close(o.view(2, 3), torch.exp(x).expand(2, 3))


def test_zero_dim_domain():
    k = Kernel("k", (), 0, (Buffer("a", "f64", 3),), (Buffer("o", "f64", 1),),
               (load(0, A(2), "f64"), const(0.5, "f64"), Instr("pow", (0, 1), "f64")), (Store(0, 2, A(0)),))
    o = torch.zeros(1, dtype=torch.float64)
    run_kernel(k, [torch.tensor([0.0, 0.0, 9.0], dtype=torch.float64)], [o])
    assert o.item() == 3.0


@pytest.mark.parametrize("dom,nred", [((0, 4), 0), ((4, 0), 0), ((0, 3), 1)])
def test_zero_size_domain_writes_nothing(dom, nred):
    nouter = len(dom) - nred
    k = Kernel("k", dom, nred, (Buffer("x", "f32", 4),), (Buffer("o", "f32", 4),),
               (load(0, Access(0, (1,) * len(dom)), "f32"),),
               (Store(0, 0, Access(0, (1,) * nouter)),),
               (Reduction("sum", 0, "f32"),) if nred else (),
               (Instr("reduced", (), "f32", {"index": 0}),) if nred else ())
    o = torch.full((4,), 7.0)
    run_kernel(k, [torch.ones(4)], [o])
    assert torch.equal(o, torch.full((4,), 7.0))


def _reduction(shape, nred, kind, dt="f32", acc=None, epi=()):
    n = math.prod(shape)
    strides = tuple(math.prod(shape[i + 1:]) for i in range(len(shape)))
    nouter = len(shape) - nred
    ostr = tuple(math.prod(shape[i + 1:nouter]) for i in range(nouter))
    acc = acc or dt
    e = (Instr("reduced", (), acc, {"index": 0}),) + tuple(epi)
    return Kernel("r", tuple(shape), nred, (Buffer("x", dt, n),),
                  (Buffer("o", e[-1].dtype, max(1, math.prod(shape[:nouter]))),),
                  (load(0, Access(0, strides), dt),), (Store(0, len(e) - 1, Access(0, ostr)),),
                  (Reduction(kind, 0, acc),), e)


@pytest.mark.parametrize("kind", ["sum", "prod", "max", "min"])
def test_reductions(kind):
    x = torch.randn(3, 4, 5)
    x[1, 2, 3] = NAN
    for nred in (1, 2, 3):
        k = _reduction(x.shape, nred, kind)
        o = torch.zeros(k.outputs[0].size)
        run_kernel(k, [x.reshape(-1)], [o])
        flat = x.reshape(x.shape[:3 - nred] + (-1,))
        ref = {"sum": flat.sum(-1), "prod": flat.prod(-1), "max": flat.amax(-1), "min": flat.amin(-1)}[kind]
        torch.testing.assert_close(o, ref.reshape(-1), equal_nan=True)


@pytest.mark.parametrize("kind,ident", [("sum", 0.0), ("prod", 1.0), ("max", -INF), ("min", INF)])
def test_empty_reduction_is_identity(kind, ident):
    k = _reduction((3, 0), 1, kind)
    o = torch.zeros(3)
    run_kernel(k, [torch.empty(0)], [o])
    assert torch.equal(o, torch.full((3,), ident))


def test_mean_f16_accumulates_in_f32():
    x = torch.randn(4, 300).half()
    k = _reduction((4, 300), 1, "sum", "f16", acc="f32",
                   epi=(const(1 / 300, "f32"), Instr("mul", (0, 1), "f32"), Instr("cast", (2,), "f16")))
    o = torch.zeros(4, dtype=torch.float16)
    run_kernel(k, [x.reshape(-1)], [o])
    torch.testing.assert_close(o, x.float().mean(1).half(), rtol=1e-3, atol=1e-3)


def test_softmax_sum_and_multiple_outputs():
    x = torch.randn(6, 10) * 4
    m = x.amax(1)
    k = Kernel("sm", (6, 10), 1, (Buffer("x", "f32", 60), Buffer("m", "f32", 6)),
               (Buffer("s", "f32", 6), Buffer("mx", "f32", 6)),
               (load(0, A(0, 10, 1), "f32"), load(1, A(0, 1, 0), "f32"), Instr("sub", (0, 1), "f32"),
                Instr("exp", (2,), "f32")),
               (Store(0, 0, A(0, 1)), Store(1, 1, A(0, 1))),
               (Reduction("sum", 3, "f32"), Reduction("max", 0, "f32")),
               (Instr("reduced", (), "f32", {"index": 0}), Instr("reduced", (), "f32", {"index": 1})))
    s, mx = torch.zeros(6), torch.zeros(6)
    run_kernel(k, [x.reshape(-1), m], [s, mx])
    torch.testing.assert_close(s, torch.exp(x - m[:, None]).sum(1))
    torch.testing.assert_close(mx, m)


def test_half_is_computed_in_f32_and_rounded_on_store():
    # (a + b) - b overflows f16 eagerly; computed in f32 it stays finite
    a, b = torch.tensor([60000.0], dtype=torch.float16), torch.tensor([10000.0], dtype=torch.float16)
    k = Kernel("h", (1,), 0, (Buffer("a", "f16", 1), Buffer("b", "f16", 1)), (Buffer("o", "f16", 1),),
               (load(0, A(0, 1), "f16"), load(1, A(0, 1), "f16"), Instr("add", (0, 1), "f16"),
                Instr("sub", (2, 1), "f16")), (Store(0, 3, A(0, 1)),))
    o = torch.zeros(1, dtype=torch.float16)
    run_kernel(k, [a, b], [o])
    assert o.item() == 60000.0 and torch.isinf((a + b) - b).item()


@pytest.mark.parametrize("src,dst,vals,exp", [
    ("f32", "i32", [-2.7, 2.7, -0.5], [-2, 2, 0]),
    ("f32", "u8", [-1.0, 300.0, 3.9], [255, 44, 3]),
    ("f32", "b8", [0.0, -0.0, NAN, 0.1], [False, False, True, True]),
    ("b8", "f32", [True, False], [1.0, 0.0]),
    ("i32", "i8", [200, -129], [-56, 127]),
    ("f64", "f16", [1.0 + 2**-11 + 2**-40], [1.0]),  # via f32, like torch
])
def test_casts(src, dst, vals, exp):
    from ember.codegen.interpret import TORCH_DTYPES
    x = torch.tensor(vals, dtype=TORCH_DTYPES[src])
    k = Kernel("c", (len(vals),), 0, (Buffer("x", src, len(vals)),), (Buffer("o", dst, len(vals)),),
               (load(0, A(0, 1), src), Instr("cast", (0,), dst)), (Store(0, 1, A(0, 1)),))
    o = torch.zeros(len(vals), dtype=TORCH_DTYPES[dst])
    run_kernel(k, [x], [o])
    assert o.tolist() == exp


def test_index_const_where_and_nan_ops():
    k = Kernel("w", (2, 3), 0, (Buffer("x", "f32", 6),), (Buffer("o", "f32", 6), Buffer("c", "u8", 6)),
               (Instr("index", (), "i64", {"axis": 1}), const(3, "i64"), Instr("mul", (0, 1), "i64"),
                Instr("index", (), "i64", {"axis": 0}), Instr("add", (2, 3), "i64"),
                Instr("cast", (4,), "f32"), load(0, A(0, 3, 1), "f32"), Instr("maximum", (5, 6), "f32"),
                Instr("where", (3, 7, 6), "f32"), const(-1, "u8")),
               (Store(0, 8, A(0, 1, 2)), Store(1, 9, A(0, 3, 1))))
    x = torch.tensor([NAN, 0.0, 9.0, 1.0, -1.0, NAN])
    o, c = torch.zeros(6), torch.zeros(6, dtype=torch.uint8)
    run_kernel(k, [x], [o, c])
    iota = (torch.arange(3)[None, :] * 3 + torch.arange(2)[:, None]).float()
    xv = x.view(2, 3)
    ref = torch.where(torch.arange(2)[:, None] != 0, torch.maximum(iota, xv), xv)
    torch.testing.assert_close(o.view(3, 2).T, ref, equal_nan=True)
    assert c.tolist() == [255] * 6


def test_rejects_mismatched_buffers():
    k = Kernel("k", (2,), 0, (Buffer("x", "f32", 2),), (Buffer("o", "f32", 2),),
               (load(0, A(0, 1), "f32"),), (Store(0, 0, A(0, 1)),))
    with pytest.raises(ValueError):
        run_kernel(k, [torch.zeros(2, dtype=torch.float64)], [torch.zeros(2)])
    with pytest.raises(ValueError):
        run_kernel(k, [torch.zeros(2, 1)], [torch.zeros(2)])
