"""torch.special's Bessel and Airy functions in Triton kernels (the helpers of
ember/codegen/triton/prelude_bessel.py) under Triton's interpreter, f32 and f64,
against eager on the inputs of tests/codegen/test_special_bessel.py (the same
checks: NaN and infinities exactly, tolerances in bessel_cases.py)."""

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
    "ember_test_bessel_cases", Path(__file__).parents[1] / "codegen" / "bessel_cases.py")
cases = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cases)

_DT = {torch.float32: "f32", torch.float64: "f64"}


def _kernel(name: str, dt: str, n: int) -> Kernel:
    acc = Access(0, (1,))
    body = (Instr("load", (), dt, {"buffer": 0, "access": acc}), Instr(name, (0,), dt))
    return Kernel(f"tb_{name}_{dt}", (n,), 0, (Buffer("x", dt, n),), (Buffer("y", dt, n),),
                  body, (Store(0, 1, acc),))


@pytest.mark.parametrize("dt", [torch.float64, torch.float32], ids=str)
@pytest.mark.parametrize("name", cases.NAMES)
def test_matches_eager(name, dt):
    x = cases.inputs(dt)
    k = _kernel(name, _DT[dt], x.numel())
    (ck,) = compile_kernels([(k, choose_schedule(k, "interpret"))], "interpret")
    y = torch.empty_like(x)
    ck.launch([x, y])
    cases.check(name, x, y)


def test_only_the_called_helpers_are_in_a_module():
    k = _kernel("bessel_y0", "f32", 8)
    src = render(k, choose_schedule(k, "interpret"), "interpret")
    assert "def _ember_bessel_y0(" in src and "def _ember_bessel_j0(" not in src
    k = Kernel("plain", (8,), 0, k.inputs, k.outputs,
               (k.body[0], Instr("exp", (0,), "f32")), k.stores)
    src = render(k, choose_schedule(k, "interpret"), "interpret")
    assert not any(f"def _ember_{n}(" in src for n in cases.NAMES)
