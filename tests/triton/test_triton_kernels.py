"""Every case of ``cases.py`` under Triton's interpreter, against torch and the
kernel interpreter (``ember.codegen.interpret``), for each schedule it lists."""

from __future__ import annotations

import pytest
import torch

pytest.importorskip("triton")

from ember.codegen.interpret import TORCH_DTYPES, run_kernel  # noqa: E402
from ember.codegen.kernel import SCALAR_OPS  # noqa: E402
from ember.codegen.triton import TritonLoweringError  # noqa: E402
from ember.codegen.triton.backend import TritonBackend, choose_schedule  # noqa: E402
from ember.codegen.triton.compile import compile_kernels  # noqa: E402

from triton_cases import CASES, LOOP_SMALL, OP_DTYPES, TOL, Case  # noqa: E402

PARAMS = [(name, i) for name, case in CASES.items() for i in range(len(case.schedules))]


def _outputs(case: Case) -> list[torch.Tensor]:
    if case.outputs is not None:
        return [o.clone() for o in case.outputs]
    return [torch.zeros(b.size, dtype=TORCH_DTYPES[b.dtype]) for b in case.kernel.outputs]


def _check(got, exp, tol, what):
    exp = exp.reshape(-1).to(got.dtype)
    if got.dtype.is_floating_point:
        rtol, atol = tol
        torch.testing.assert_close(got.double(), exp.double(), rtol=rtol, atol=atol,
                                   equal_nan=True, msg=lambda m: f"{what}: {m}")
    else:
        assert torch.equal(got, exp), f"{what}: {got} vs {exp}"


def schedule_of(case: Case, i: int):
    return case.schedules[i] or choose_schedule(case.kernel, "interpret")


@pytest.mark.parametrize("name,si", PARAMS, ids=[f"{n}-s{i}" for n, i in PARAMS])
def test_case(name, si):
    case = CASES[name]
    sch = schedule_of(case, si)
    (ck,) = compile_kernels([(case.kernel, sch)], "interpret")
    ins = [t.contiguous() for t in case.inputs]
    outs = _outputs(case)
    ck.launch(ins + outs)
    names = [b.name for b in case.kernel.outputs]
    for i, (got, exp, tol) in enumerate(zip(outs, case.expected, case.tols)):
        tol = tol or TOL.get(case.kernel.outputs[i].dtype, (0.0, 0.0))
        _check(got[:exp.numel()], exp, tol, f"{name} [{sch.text()}] {names[i]} vs torch")
    ref = _outputs(case)
    run_kernel(case.kernel, ins, ref)
    for i, (got, r) in enumerate(zip(outs, ref)):
        tol = case.tols[i] or TOL.get(case.kernel.outputs[i].dtype, (0.0, 0.0))
        _check(got, r, tol, f"{name} [{sch.text()}] {names[i]} vs interpreter")


def test_every_scalar_op_has_a_lowering_and_a_case():
    from ember.codegen.triton.source import LOWERINGS

    assert set(SCALAR_OPS) <= set(LOWERINGS)
    assert {"load", "const", "index", "reduced", "cast"} <= set(LOWERINGS)
    assert TritonBackend().native_ops() == frozenset(LOWERINGS)
    covered = {ins.op for c in CASES.values() for ins in c.kernel.body}
    assert set(SCALAR_OPS) <= covered
    assert all(OP_DTYPES[op] for op in SCALAR_OPS)


def _elementwise(op, dt, n=4, name=None):
    from triton_cases import A, load

    from ember.codegen.kernel import Buffer, Instr, Kernel, Store

    return Kernel(name or f"bad_{op}_{dt}", (n,), 0, (Buffer("x", dt, n), Buffer("y", dt, n)),
                  (Buffer("o", dt, n),),
                  (load(0, A(0, 1), dt), load(1, A(0, 1), dt),
                   Instr(op, (0, 1) if SCALAR_OPS[op] == 2 else (0,), dt)),
                  (Store(0, 2, A(0, 1)),))


@pytest.mark.parametrize("op,dt", [("div", "i32"), ("exp", "i64"), ("neg", "b8"), ("pow", "i32")])
def test_lowering_errors_name_kernel_and_op(op, dt):
    k = _elementwise(op, dt)
    with pytest.raises(TritonLoweringError, match=f"'{op}'") as ei:
        compile_kernels([(k, choose_schedule(k, "interpret"))], "interpret")
    assert k.name in str(ei.value)


def test_int64_offsets():
    """A buffer past 2**31 elements switches offsets to int64; the math is unchanged."""
    from triton_cases import A, const, load

    from ember.codegen.kernel import Buffer, Instr, Kernel, Reduction, Store

    big = 2**31 + 5
    pw = Kernel("big_pw", (3, 4), 0, (Buffer("x", "f32", big),), (Buffer("o", "f32", 12),),
                (load(0, A(2, 1, 3), "f32"), const(1.5, "f32"), Instr("mul", (0, 1), "f32")),
                (Store(0, 2, A(0, 4, 1)),))
    red = Kernel("big_red", (3, 4), 1, (Buffer("x", "f32", big),), (Buffer("o", "f32", 3),),
                 (load(0, A(0, 4, 1), "f32"),), (Store(0, 0, A(0, 1)),),
                 (Reduction("sum", 0, "f32"),), (Instr("reduced", (), "f32", {"index": 0}),))
    x = torch.randn(16)  # only the first elements are touched
    for k in (pw, red):
        for sch in (None, LOOP_SMALL):
            sch = sch or choose_schedule(k, "interpret")
            (ck,) = compile_kernels([(k, sch)], "interpret")
            assert "tl.program_id(0).to(tl.int64)" in ck.source
            out = torch.zeros(k.outputs[0].size)
            ck.launch([x, out])
            exp = (x[2:14].view(4, 3).T * 1.5).reshape(-1) if k is pw else x[:12].view(3, 4).sum(1)
            torch.testing.assert_close(out, exp)
            assert ".target sm_90" in ck.artifacts["ptx"]


def test_backend_schedules():
    import dataclasses

    k = CASES["red_sum_1"].kernel  # 5 rows of 7: all rows in one program
    s = choose_schedule(k, "cuda")
    assert s.reduction == "persistent" and s.block == (8, 8) and s.accumulate == ()
    long = dataclasses.replace(CASES["mean_f16"].kernel, domain=(2, 10000))
    s = choose_schedule(long, "cuda")
    assert s.reduction == "loop" and s.block == (1, 2048) and s.accumulate == ("f32",)
    pw = CASES["ops1_f32"].kernel
    assert choose_schedule(pw, "cuda").block[0] == 64  # 47 points -> one 64-wide block
    # a transposed read gets 2-D tiles; the contiguous normalize step of layer norm does not
    assert choose_schedule(CASES["strided"].kernel, "cuda").block == (4, 4)
    assert choose_schedule(CASES["permute3"].kernel, "cuda").block == (8, 4)
    assert len(choose_schedule(CASES["iota"].kernel, "cuda").block) == 1


def test_collapse_axes():
    import dataclasses

    from triton_cases import A, load

    from ember.codegen.kernel import Buffer, Instr, Kernel, Reduction, Store
    from ember.codegen.collapse import collapse_axes

    # layer norm's normalize step: (2, 8, 32) read as (256, 32, 1) and a per-row (8, 1, 0)
    k = Kernel("ln", (2, 8, 32), 0, (Buffer("x", "f32", 512), Buffer("r", "f32", 16)),
               (Buffer("o", "f32", 512),),
               (load(0, A(0, 256, 32, 1), "f32"), load(1, A(0, 8, 1, 0), "f32"),
                Instr("sub", (0, 1), "f32")), (Store(0, 2, A(0, 256, 32, 1)),))
    c = collapse_axes(k)
    assert c.domain == (16, 32)
    assert [i.attrs["access"].strides for i in c.body[:2]] == [(32, 1), (1, 0)]
    # a transposed read keeps its axes; an index instruction pins its axis
    t = dataclasses.replace(k, body=(load(0, A(0, 1, 64, 2), "f32"),) + k.body[1:])
    assert collapse_axes(t).domain == (2, 8, 32)
    ix = dataclasses.replace(k, body=k.body + (Instr("index", (), "i64", {"axis": 1}),))
    assert collapse_axes(ix).domain == (2, 8, 32)
    # reductions: outer and reduce axes merge separately, never across
    r = Kernel("r", (2, 3, 4, 5), 2, (Buffer("x", "f32", 120),), (Buffer("o", "f32", 6),),
               (load(0, A(0, 60, 20, 5, 1), "f32"),), (Store(0, 0, A(0, 3, 1)),),
               (Reduction("sum", 0, "f32"),), (Instr("reduced", (), "f32", {"index": 0}),))
    cr = collapse_axes(r)
    assert (cr.domain, cr.num_reduce) == ((6, 20), 1)
    assert cr.stores[0].access.strides == (1,) and cr.body[0].attrs["access"].strides == (20, 1)
    x = torch.randn(120)
    out = torch.zeros(6)
    (ck,) = compile_kernels([(r, LOOP_SMALL)], "interpret")
    ck.launch([x, out])
    torch.testing.assert_close(out, x.view(6, 20).sum(1))


@pytest.mark.parametrize("name,sched", [("ops1_f32", None), ("logsumexp", None), ("strided", None),
                                        ("red_sum_2", None), ("red_max_1", LOOP_SMALL)])
def test_every_tuning_candidate_is_correct(name, sched, tmp_path, monkeypatch):
    """What a GPU tuner may pick computes the same results (checked here under the interpreter)."""
    from ember.codegen.triton.backend import tuning_candidates
    from ember.codegen.triton.tuning import TuningCache

    monkeypatch.setattr(TuningCache, "device_key", staticmethod(lambda: "gpu/driver-x/triton-y"))
    cache = TuningCache(str(tmp_path / "tuning.json"))
    case = CASES[name]
    sch = sched or choose_schedule(case.kernel, "cuda")
    cands = tuning_candidates(case.kernel, sch)
    assert len(cands) > 1 and cands[0]["XBLOCK"] == sch.block[0]
    (ck,) = compile_kernels([(case.kernel, sch)], "interpret")
    ins = [t.contiguous() for t in case.inputs]
    outs = _outputs(case)
    timed = []

    def bench(fn):
        for o in outs:
            o.zero_()
        fn()
        for i, (got, exp) in enumerate(zip(outs, case.expected)):
            tol = case.tols[i] or TOL.get(case.kernel.outputs[i].dtype, (0.0, 0.0))
            _check(got[:exp.numel()], exp, tol, f"{name} with {ck.constexprs}")
        timed.append(dict(ck.constexprs, num_warps=ck.num_warps))
        return float(len(timed) != 2)  # the second candidate is "fastest"

    best = ck.tune(ins + outs, cache, bench)
    assert timed == cands and best == cands[1]
    (again,) = compile_kernels([(case.kernel, sch)], "interpret")
    assert again.tune(ins + outs, cache, bench) == cands[1] and len(timed) == len(cands)
