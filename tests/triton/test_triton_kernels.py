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

from triton_cases import CASES, OP_DTYPES, TOL, Case  # noqa: E402

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
