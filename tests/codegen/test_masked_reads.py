"""Masked reads (``within``) on the kernel interpreter and the MLIR backend, at
vector widths and thread counts that put part boundaries inside vectors, at
vector tails and across thread chunks; the contract's checks."""

from __future__ import annotations

import pytest
import torch

from ember.codegen.interpret import TORCH_DTYPES, run_kernel
from ember.codegen.kernel import Access, Instr, Kernel, row_invariant
from ember.codegen.mlir import available, compile_kernels
from ember.codegen.mlir.backend import choose_schedule
from ember.codegen.params import check_bounds

from . import masked_kernels as mk

CONFIGS = [(512, 1), (512, 2), (256, 2), (64, 1)]  # vector bits, threads


def _backends():
    out = [("interpreter", run_kernel)]
    if available()[0]:
        for bits, threads in CONFIGS:
            def launch(k, ins, outs, bits=bits, threads=threads):
                s = choose_schedule(k, bits, threads, min_parallel_work=1)
                compile_kernels([k], schedules=[s])[0].launch(ins + outs)
            out.append((f"mlir {bits} bits, {threads} threads", launch))
    return out


def _outs(k: Kernel):
    return [torch.full((b.size,), 7, dtype=TORCH_DTYPES[b.dtype]) for b in k.outputs]


@pytest.mark.parametrize("axis", [0, 1])
@pytest.mark.parametrize("rows,n0,n1", [(1, 1, 1), (3, 5, 37), (7, 33, 2), (64, 100, 29)])
@pytest.mark.parametrize("dt", ["f32", "f64", "i8", "b8"])
def test_cat_kernel(axis, rows, n0, n1, dt):
    tdt = TORCH_DTYPES[dt]
    shape = (lambda n: (rows, n)) if axis == 1 else (lambda n: (n, rows))
    x0 = (torch.randn(shape(n0)) * 9).to(tdt)
    x1 = (torch.randn(shape(n1)) * 9).to(tdt)
    want = mk.cat_ref(x0, x1, axis)
    k = mk.cat(rows, n0, n1, axis, dt)
    for what, launch in _backends():
        outs = _outs(k)
        launch(k, [x0.reshape(-1), x1.reshape(-1)], outs)
        assert torch.equal(outs[0].view(want.shape), want), what


@pytest.mark.parametrize("rows,n0,n1", [(2, 3, 4), (5, 17, 50), (9, 64, 64)])
def test_sum_over_a_cat_reduce_axis_masked(rows, n0, n1):
    x0, x1 = torch.randn(rows, n0), torch.randn(rows, n1)
    whole = torch.cat([x0, x1], 1)
    k = mk.sum_of_cat(rows, n0, n1)
    for what, launch in _backends():
        outs = _outs(k)
        launch(k, [x0.reshape(-1), x1.reshape(-1)], outs)
        torch.testing.assert_close(outs[0], whole.sum(1), rtol=1e-5, atol=1e-5, msg=what)
        assert torch.equal(outs[1].view(rows, -1), whole), what


@pytest.mark.parametrize("rows,n0,width", [(3, 5, 8), (4, 16, 16), (6, 1, 37)])
def test_masked_gather(rows, n0, width):
    vocab = 11
    x0, table = torch.randn(rows, n0), torch.randn(vocab, width)
    ids = torch.randint(0, vocab, (rows,))
    want = torch.cat([x0, table[ids]], 1)
    k = mk.gather_cat(rows, n0, vocab, width)
    for what, launch in _backends():
        outs = _outs(k)
        launch(k, [x0.reshape(-1), ids, table.reshape(-1)], outs)
        assert torch.equal(outs[0].view(rows, -1), want), what


@pytest.mark.parametrize("rows0,rows1,n", [(1, 2, 5), (13, 20, 40)])
def test_masked_epilogue_reads(rows0, rows1, n):
    x, b0, b1 = torch.randn(rows0 + rows1, n), torch.randn(rows0), torch.randn(rows1)
    want = x.amax(1) + torch.cat([b0, b1])
    k = mk.epilogue_cat(rows0, rows1, n)
    for what, launch in _backends():
        outs = _outs(k)
        launch(k, [x.reshape(-1), b0, b1], outs)
        assert torch.equal(outs[0], want), what


def test_contract_checks():
    k = mk.cat(3, 5, 7, 1)
    k.validate()
    check_bounds(k)  # the shifted access is in bounds only inside its range
    body = list(k.body)
    body[3] = Instr("load", (), "f32", {"buffer": 1, "access": Access(-5, (7, 1))})
    from dataclasses import replace
    with pytest.raises(ValueError, match="reaches elements"):
        check_bounds(replace(k, body=tuple(body)))  # unmasked: it reads before x1
    body[3] = Instr("load", (), "f32", {"buffer": 1, "access": Access(-5, (7, 1)),
                                        "within": ((2, 5, 12),)})
    with pytest.raises(ValueError, match="bad within"):
        replace(k, body=tuple(body)).validate()
    body[3] = Instr("load", (), "f32", {"buffer": 1, "access": Access(-5, (7, 1)),
                                        "within": ((1, 6, 6),)})
    with pytest.raises(ValueError, match="bad within"):
        replace(k, body=tuple(body)).validate()
    # a read masked along the reduce axis varies along the row, whatever its strides
    s = mk.sum_of_cat(2, 3, 4)
    assert row_invariant(s)[:2] == [False, False]
    if available()[0]:
        with pytest.raises(Exception, match="reaches elements"):
            compile_kernels([replace(k, body=tuple(
                Instr("load", (), "f32", {"buffer": 1, "access": Access(-5, (7, 1)),
                                          "within": ((1, 4, 12),)}) if i == 3 else ins
                for i, ins in enumerate(k.body)))])


@pytest.mark.skipif(not available()[0], reason="MLIR bindings unavailable")
def test_vector_code_reads_parts_contiguously():
    """Lanes of two parts in one vector: each part a contiguous masked load, never
    a gather; a part whose range is on another axis: a plain load at a safe
    address when the whole vector is outside it."""
    k = mk.cat(4, 5, 37, 1)
    (ck,) = compile_kernels([k], schedules=[choose_schedule(k, 512, 1)])
    mlir = ck.artifacts["mlir"]
    assert "vector.maskedload" in mlir and "vector.gather" not in mlir
    k = mk.cat(64, 5, 7, 0)
    (ck,) = compile_kernels([k], schedules=[choose_schedule(k, 512, 1)])
    mlir = ck.artifacts["mlir"]
    assert "vector.gather" not in mlir and mlir.count("vector.load") >= 2
