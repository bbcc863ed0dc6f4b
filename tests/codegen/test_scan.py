"""Scan kernels (``scanned``: a reduction's running value read in the body) on the
kernel interpreter and the MLIR backend: rows and columns, odd sizes, vector
widths and threads, integers, an op after the scan; the contract's checks."""

from __future__ import annotations

import pytest
import torch

from ember.codegen.interpret import TORCH_DTYPES, run_kernel
from ember.codegen.kernel import Access, Buffer, Instr, Kernel, Reduction, Store, body_stages
from ember.codegen.mlir import available, compile_kernels
from ember.codegen.mlir.backend import choose_schedule

from . import scan_kernels as sc

SIZES = [(1, 1), (3, 7), (5, 33), (17, 130), (64, 1000), (2, 0)]


def _as_rows(flat, rows, n, col):
    return flat.view(n, rows).t() if col else flat.view(rows, n)


@pytest.mark.parametrize("kind", ["sum", "prod"])
@pytest.mark.parametrize("rows,n", SIZES)
@pytest.mark.parametrize("col", [False, True])
def test_interpreter_and_mlir_match_eager_bitwise(kind, rows, n, col):
    k = sc.scan(rows, n, col, kind)
    x = sc.inputs(rows, n, col, kind, seed=rows * 31 + n)
    flat = (x.t() if col else x).contiguous().reshape(-1)
    exp, total = sc.scan_ref(x, kind)
    backends = [("interpreter", lambda k, ins, outs: run_kernel(k, ins, outs))]
    if available()[0]:
        for bits, threads in ((512, 1), (512, 2), (256, 2), (64, 1)):
            def launch(k, ins, outs, bits=bits, threads=threads):
                s = choose_schedule(k, bits, threads)
                compile_kernels([k], schedules=[s])[0].launch(ins + outs)
            backends.append((f"mlir {bits} bits, {threads} threads", launch))
    for what, launch in backends:
        outs = [torch.full((b.size,), 7.0) for b in k.outputs]
        launch(k, [flat], outs)
        # a double accumulator, rounded at every point, as eager's CPU kernel (the
        # interpreter's finished total is a float32 torch.sum: the contract leaves
        # the accumulator to the backend)
        assert torch.equal(_as_rows(outs[0], rows, n, col), exp), what
        if what == "interpreter":
            torch.testing.assert_close(outs[1], total, rtol=1e-5, atol=1e-5)
        else:
            assert torch.equal(outs[1], total), what


@pytest.mark.skipif(not available()[0], reason="MLIR bindings unavailable")
@pytest.mark.parametrize("dt", ["i32", "i64"])
def test_integer_scans_wrap_like_eager(dt):
    k = sc.scan(6, 40, False, "prod", dt)
    x = sc.inputs(6, 40, False, "prod", dt, seed=5)
    x[:, ::3] = 7  # 7**14 wraps in int32
    exp, total = sc.scan_ref(x, "prod")
    outs = [torch.zeros(b.size, dtype=TORCH_DTYPES[b.dtype]) for b in k.outputs]
    compile_kernels([k], schedules=[choose_schedule(k, 512, 2)])[0].launch(
        [x.reshape(-1)] + outs)
    assert torch.equal(outs[0].view(6, 40), exp) and torch.equal(outs[1], total)


@pytest.mark.skipif(not available()[0], reason="MLIR bindings unavailable")
def test_a_value_after_the_scan_and_the_schedule():
    k = sc.scan(9, 50, True, "sum", then="exp")
    x = sc.inputs(9, 50, True, "sum", seed=1)
    exp, _ = sc.scan_ref(x, "sum", "exp")
    s = choose_schedule(k, 512, 1)
    # lanes go across columns (the scan's own axis runs in order) and the
    # accumulator is a double
    assert dict(s.extra).get("vector_axis") == 0 and s.accumulator(k, 0) == "f64"
    row = choose_schedule(sc.scan(9, 50, False), 512, 1)
    assert dict(row.extra).get("vector_axis") != 1  # never along the scan
    outs = [torch.zeros(b.size) for b in k.outputs]
    compile_kernels([k], schedules=[s])[0].launch([x.t().contiguous().reshape(-1)] + outs)
    torch.testing.assert_close(outs[0].view(50, 9).t(), exp)


def test_scanned_is_in_its_reductions_pass():
    k = sc.scan(3, 4, then="exp")
    assert body_stages(k) == [0, 0, 0]


@pytest.mark.parametrize("bad", ["epilogue", "two_axes", "before", "max"])
def test_contract_rejects_bad_scans(bad):
    x = Buffer("x", "f32", 24)
    load = Instr("load", (), "f32", {"buffer": 0, "access": Access(0, (4, 1))})
    scanned = Instr("scanned", (), "f32", {"index": 0})
    body, epi, dom, nred, kind = (load, scanned), (), (6, 4), 1, "sum"
    if bad == "epilogue":
        body, epi = (load,), (scanned,)
    elif bad == "two_axes":
        dom, nred = (2, 3, 4), 2
        body = (Instr("load", (), "f32", {"buffer": 0, "access": Access(0, (12, 4, 1))}),
                scanned)
    elif bad == "before":
        body = (scanned, load)
    else:
        kind = "max"
    red = Reduction(kind, 1 if bad == "before" else 0, "f32")
    stores = () if bad == "epilogue" else (Store(0, 1 if bad != "before" else 0, Access(
        0, (12, 4, 1) if bad == "two_axes" else (4, 1)), prologue=True),)
    k = Kernel("bad", dom, nred, (x,), (Buffer("o", "f32", 24),), body, stores, (red,), epi)
    with pytest.raises(ValueError, match="scanned"):
        k.validate()
