"""torch.special.zeta in Triton kernels (prelude_poly.py's _ember_zeta_f32/_f64, the
algorithm of ember/codegen/zeta_algo.py) under Triton's interpreter, f32 and f64,
against eager on the inputs of tests/codegen/zeta_cases.py (its smaller set):
within torch's default tolerances, NaN and infinities exactly (the interpreter's pow
is exp2(y log2|x|) in f64, not libm's); and the kernel compiled ahead of time for
sm_90."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch

pytest.importorskip("triton")

from ember.codegen.kernel import Access, Buffer, Instr, Kernel, Store  # noqa: E402
from ember.codegen.triton.backend import choose_schedule  # noqa: E402
from ember.codegen.triton.compile import compile_kernels  # noqa: E402
from ember.codegen.triton.source import render  # noqa: E402

_spec = importlib.util.spec_from_file_location(
    "ember_test_zeta_cases", Path(__file__).parents[1] / "codegen" / "zeta_cases.py")
cases = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cases)

_DT = {torch.float32: "f32", torch.float64: "f64"}


def _kernel(dt: str, size: int, const_q: float | None = None) -> Kernel:
    """x and q loaded (or q a 0-d constant), zeta(x, q) stored."""
    acc = Access(0, (1,))
    ins = (Buffer("x", dt, size),) if const_q is not None else (
        Buffer("x", dt, size), Buffer("q", dt, size))
    body = [Instr("load", (), dt, {"buffer": i, "access": acc}) for i in range(len(ins))]
    if const_q is not None:
        body.append(Instr("const", (), dt, {"value": const_q}))
    body.append(Instr("zeta", (0, 1), dt))
    return Kernel(f"tz_{dt}_{size}", (size,), 0, ins, (Buffer("y", dt, size),), tuple(body),
                  (Store(0, 2, acc),))


def _run(x, q, const_q=None):
    k = _kernel(_DT[x.dtype], x.numel(), const_q)
    (ck,) = compile_kernels([(k, choose_schedule(k, "interpret"))], "interpret")
    y = torch.empty_like(x)
    ck.launch([x, y] if const_q is not None else [x, q, y])
    return ck, y


@pytest.mark.parametrize("dt", [torch.float64, torch.float32], ids=str)
def test_matches_eager(dt):
    x, q = cases.inputs(dt, small=True)
    _, y = _run(x, q)
    r = cases.check(x, q, y, exact=False)
    assert r["special"] == 0, r
    # measured: f32 bit for bit but a few ulps; f64 within a few 1e-14
    assert r["max_rel"] < (1e-6 if dt == torch.float32 else 1e-12), r


def test_constant_q_and_sm90():
    """q a 0-d constant beside a block of x (negative, not an integer: the direct sum
    runs ~|q| + 9 terms where x is an integer), under the interpreter and for sm_90."""
    x = torch.tensor([2.0, 3.0, 4.5, 1.0, 0.5, 7.0, 12.0], dtype=torch.float64)
    ck, y = _run(x, None, const_q=-4.5)
    cases.check(x, torch.full_like(x, -4.5), y, exact=False)
    try:
        asm = ck.compile_for(90)
    except Exception as e:  # no NVIDIA backend or no ptxas in this Triton build
        pytest.skip(f"Triton cannot compile for sm_90 here: {type(e).__name__}: {e}")
    assert ".target sm_90" in asm["ptx"] and "scf.while" in asm["ttir"]
    assert "__nv_pow" in asm["ttgir"]  # the cuda form: libdevice's pow


def test_compiles_for_sm90_f32():
    k = _kernel("f32", 100)
    (ck,) = compile_kernels([(k, choose_schedule(k, "interpret"))], "interpret")
    try:
        asm = ck.compile_for(90)
    except Exception as e:
        pytest.skip(f"Triton cannot compile for sm_90 here: {type(e).__name__}: {e}")
    assert ".target sm_90" in asm["ptx"] and f".entry {ck.fn_name}(" in asm["ptx"]


def test_only_the_called_helpers_are_in_a_module():
    k = _kernel("f32", 8)
    src = render(k, choose_schedule(k, "interpret"), "interpret")
    assert "def _ember_zeta_f32(" in src and "def _ember_zeta_f64(" not in src
    assert "polynomial" not in src
