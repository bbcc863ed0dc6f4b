"""Staged reductions: kernels whose body reads finished reductions (softmax and
layer norm in one kernel) on the interpreter and the MLIR backend (scalar,
vector widths, threads, rows and columns, odd sizes, NaN and infinities)."""

from __future__ import annotations

import pytest
import torch

from ember.codegen.interpret import TORCH_DTYPES, run_kernel
from ember.codegen.kernel import body_stages, passes
from ember.codegen.mlir import available, compile_kernels
from ember.codegen.mlir.backend import choose_schedule

from . import staged_kernels as sk

pytestmark = pytest.mark.skipif(not available()[0], reason="MLIR bindings unavailable")

SIZES = [(1, 1), (3, 7), (5, 33), (17, 130), (64, 1000)]


def _outs(k):
    return [torch.full((b.size,), 7.0, dtype=TORCH_DTYPES[b.dtype]) for b in k.outputs]


def _close(got, exp, what, tol=1e-5):
    torch.testing.assert_close(got.double().reshape(-1), exp.double().reshape(-1), rtol=tol,
                               atol=tol, equal_nan=True, msg=lambda m: f"{what}: {m}")


def test_stages_and_passes():
    k = sk.softmax(4, 8)
    assert body_stages(k) == [0, 1, 1, 1, 2, 2]
    assert passes(k) == [([0], []), ([1], []), ([], [0])]
    ln = sk.layer_norm(4, 8)
    assert [p[0] for p in passes(ln)] == [[0], [1], []]


def test_reduced_before_its_value_is_rejected():
    import dataclasses

    k = sk.softmax(2, 3)
    bad = dataclasses.replace(k, reductions=(k.reductions[0].__class__("max", 3, "f32"),
                                             k.reductions[1]))
    with pytest.raises(ValueError, match="reduced"):
        bad.validate()


@pytest.mark.parametrize("col", [False, True], ids=["rows", "cols"])
@pytest.mark.parametrize("rows,n", SIZES)
def test_interpreter_matches_torch(rows, n, col):
    x = sk.inputs(rows, n, col, specials=True)
    k = sk.softmax(rows, n, col)
    outs = _outs(k)
    run_kernel(k, [x.reshape(-1)], outs)
    out, mx = sk.softmax_ref(x, col)
    _close(outs[0], out, "softmax")
    _close(outs[1], mx, "max")
    w, b = torch.randn(n), torch.randn(n)
    ln = sk.layer_norm(rows, n, col)
    outs = _outs(ln)
    x = sk.inputs(rows, n, col)
    run_kernel(ln, [x.reshape(-1), w, b], outs)
    out, rstd = sk.layer_norm_ref(x, w, b, col)
    _close(outs[0], out, "layer_norm", 1e-4)
    _close(outs[1], rstd, "rstd", 1e-4)


CONFIGS = [(0, 1), (256, 1), (512, 1), (512, 2)]  # (vector bits, threads); 0: scalar


@pytest.mark.parametrize("bits,threads", CONFIGS, ids=lambda v: str(v))
def test_mlir_matches_interpreter(bits, threads):
    kernels, ins = [], []
    for rows, n in SIZES:
        for col in (False, True):
            x = sk.inputs(rows, n, col, specials=(rows * n > 8), seed=rows + n)
            kernels.append(sk.softmax(rows, n, col))
            ins.append([x.reshape(-1)])
            x = sk.inputs(rows, n, col, seed=rows * n)
            kernels.append(sk.layer_norm(rows, n, col))
            ins.append([x.reshape(-1), torch.randn(n), torch.randn(n)])
    for dt in ("f16", "bf16"):
        kernels.append(sk.softmax(9, 70, False, dt))
        ins.append([sk.inputs(9, 70, False, dt).reshape(-1)])
    scheds = [choose_schedule(k, bits or 512, threads, min_parallel_work=0) for k in kernels]
    if not bits:
        scheds = [type(s)() for s in scheds]
    cks = compile_kernels(kernels, schedules=scheds)
    for k, s, ck, args in zip(kernels, scheds, cks, ins):
        exp = _outs(k)
        run_kernel(k, args, exp)
        got = _outs(k)
        ck(*[t.data_ptr() for t in args + got])
        tol = 8e-3 if k.inputs[0].dtype in ("f16", "bf16") else 1e-5
        for i, (g, e) in enumerate(zip(got, exp)):
            _close(g, e, f"{k.name} output {i} ({s.text()})", tol)


def test_finished_reductions_are_hoisted_out_of_the_row_loop():
    # rsqrt(var + eps) is computed once per row, before the normalizing pass
    k = sk.layer_norm(8, 64)
    s = choose_schedule(k, 512, 1)
    ck = compile_kernels([k], schedules=[s])[0]
    src = ck.source
    loops = src.split("scf.for %arg6")
    assert len(loops) == 4  # one pass per stage over the row
    normalize = loops[3].split("vector.store")[0]
    assert "sqrt" not in normalize and "sqrt" in loops[2]


def test_first_pass_prefetches_the_next_row_of_long_rows():
    # a 4 KiB row is a page, which the hardware prefetchers do not cross: the
    # streaming (first) pass prefetches the next row, one per cache line of a
    # vector step, clamped to the buffer; later passes read the row from cache
    k = sk.layer_norm(8, 1024)
    s = choose_schedule(k, 512, 1)
    src = compile_kernels([k], schedules=[s])[0].source
    loops = src.split("scf.for %arg6")
    assert len(loops) == 4
    assert loops[1].count("memref.prefetch") == s.vector_width // 16
    assert "arith.minui" in loops[1]
    assert "memref.prefetch" not in loops[2] + loops[3]
    # short rows share pages with their neighbours: nothing to prefetch
    short = sk.layer_norm(8, 64)
    assert "memref.prefetch" not in compile_kernels(
        [short], schedules=[choose_schedule(short, 512, 1)])[0].source


def test_cpu_reuse_rewrite_stores_exp_once_and_matches():
    import dataclasses

    from ember.codegen.mlir.reuse import reuse_stored

    k = sk.softmax(17, 130)
    r = reuse_stored(k)
    assert sum(i.op == "exp" for i in r.body) == 1 and [i.op for i in r.body].count("reload") == 1
    # the exp is stored in the sum pass and reloaded to normalize
    assert passes(r) == [([0], []), ([1], [2]), ([], [0])]
    # an epilogue store listed first (its value indexes the epilogue, not the body)
    flipped = dataclasses.replace(k, stores=k.stores[::-1])
    assert [i.op for i in reuse_stored(flipped).body].count("reload") == 1
    assert reuse_stored(sk.layer_norm(4, 8)) == sk.layer_norm(4, 8)  # nothing costly to keep
    assert reuse_stored(sk.softmax(9, 70, False, "bf16")) == sk.softmax(9, 70, False, "bf16")
    for col in (False, True):
        k = sk.softmax(17, 130, col)
        x = sk.inputs(17, 130, col, specials=True)
        want = _outs(k)
        run_kernel(k, [x.reshape(-1)], want)
        r = reuse_stored(k)
        interp = _outs(r)
        run_kernel(r, [x.reshape(-1)], interp)
        for bits, threads in ((0, 1), (512, 2)):
            s = choose_schedule(k, bits or 512, threads, min_parallel_work=0)
            s = s if bits else type(s)()
            (ck,) = compile_kernels([r], schedules=[s])
            got = _outs(r)
            ck(x.data_ptr(), *[t.data_ptr() for t in got])
            for g, i, w in zip(got, interp, want):
                _close(g, w, f"reuse {col} {bits}")
                _close(i, w, "reuse interpreted")


def test_reload_needs_an_earlier_store():
    import dataclasses

    from ember.codegen.kernel import Instr

    k = sk.softmax(2, 3)
    from ember.codegen.kernel import Access

    bad = dataclasses.replace(k, body=k.body + (
        Instr("reload", (), "f32", {"output": 0, "access": Access(1, (3, 1))}),))
    with pytest.raises(ValueError, match="reload"):
        bad.validate()
