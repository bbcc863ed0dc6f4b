"""On a CUDA GPU only (skipped elsewhere): generated kernels and the matmul
template run natively, against torch; the autotuner records its choice."""

from __future__ import annotations

import pytest
import torch

pytest.importorskip("triton")
if not torch.cuda.is_available():
    pytest.skip("no CUDA device (these tests run generated kernels on a GPU)",
                allow_module_level=True)

import ember  # noqa: E402
from ember.codegen.interpret import TORCH_DTYPES  # noqa: E402
from ember.codegen.triton.backend import choose_schedule  # noqa: E402
from ember.codegen.triton.compile import compile_kernels  # noqa: E402
from ember.codegen.triton.matmul import MatmulKernel, spec_for  # noqa: E402
from ember.codegen.triton.tuning import TuningCache  # noqa: E402
from test_triton_kernels import PARAMS, _check  # noqa: E402
from triton_cases import CASES, TOL  # noqa: E402


@pytest.fixture(autouse=True)
def _no_interpreter(monkeypatch):
    monkeypatch.setenv("TRITON_INTERPRET", "0")


@pytest.mark.parametrize("name,si", PARAMS, ids=[f"{n}-s{i}" for n, i in PARAMS])
def test_case_on_gpu(name, si):
    case = CASES[name]
    sch = case.schedules[si] or choose_schedule(case.kernel, "cuda")
    (ck,) = compile_kernels([(case.kernel, sch)], "cuda")
    ins = [t.contiguous().cuda() for t in case.inputs]
    outs = ([o.clone().cuda() for o in case.outputs] if case.outputs is not None else
            [torch.zeros(b.size, dtype=TORCH_DTYPES[b.dtype], device="cuda")
             for b in case.kernel.outputs])
    ck.launch(ins + outs)
    for i, (got, exp) in enumerate(zip(outs, case.expected)):
        tol = case.tols[i] or TOL.get(case.kernel.outputs[i].dtype, (0.0, 0.0))
        # GPU transcendental functions (libdevice, ex2.approx) get 4x the CPU tolerance
        tol = (tol[0] * 4, tol[1] * 4)
        _check(got.cpu()[:exp.numel()], exp, tol, f"{name} out{i}")


def test_matmul_autotunes_once(tmp_path):
    a = torch.randn(256, 192, device="cuda", dtype=torch.float16)
    b = torch.randn(192, 320, device="cuda", dtype=torch.float16)
    spec = spec_for("mm_gpu", "mm", {}, [(tuple(t.shape), "f16", tuple(t.stride())) for t in (a, b)],
                    "ieee")
    tuner = TuningCache(str(tmp_path / "tune.json"))
    ck = MatmulKernel(spec, "cuda", tuner=tuner)
    c = torch.empty(256, 320, device="cuda", dtype=torch.float16)
    ck.launch([a, b, c])
    torch.testing.assert_close(c, a @ b, rtol=1e-2, atol=1e-2)
    assert tuner.lookup(f"matmul/{spec.key()}") == ck.config.__dict__
    assert ".target sm_" in ck.artifacts["ptx"]


def test_auto_backend_picks_triton_for_cuda_tensors():
    f = ember.compile(lambda x, w: torch.softmax(x @ w, -1))
    x, w = torch.randn(64, 32, device="cuda"), torch.randn(32, 48, device="cuda")
    with torch.no_grad():
        torch.testing.assert_close(f(x, w), torch.softmax(x @ w, -1), rtol=1e-4, atol=1e-4)
    assert {k.backend for k in f.ember_report.kernels} == {"triton"}


def test_first_gpu_launch_tunes_generated_kernels(tmp_path):
    from ember.codegen.triton.tuning import TuningCache

    case = CASES["logsumexp"]
    (ck,) = compile_kernels([(case.kernel, choose_schedule(case.kernel, "cuda"))], "cuda")
    ck.tuning_cache = TuningCache(str(tmp_path / "tuning.json"))
    ins = [t.cuda() for t in case.inputs]
    outs = [torch.zeros(b.size, dtype=TORCH_DTYPES[b.dtype], device="cuda")
            for b in case.kernel.outputs]
    ck.launch(ins + outs)
    assert ck.tuned and (tmp_path / "tuning.json").exists()
    torch.testing.assert_close(outs[0].cpu(), case.expected[0], rtol=1e-4, atol=1e-4)
