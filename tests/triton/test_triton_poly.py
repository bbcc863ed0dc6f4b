"""torch.special's orthogonal polynomials in Triton kernels (the helpers of
ember/codegen/triton/prelude_poly.py) under Triton's interpreter, f32 and f64, against
eager on the inputs of tests/codegen/test_special_poly.py (poly_cases.py, its smaller
set): bit for bit but in the Chebyshev closed forms, whose acos/cos/sin are not
libm's (poly_cases.check_close); and the kernels compiled ahead of time for sm_90."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch

pytest.importorskip("triton")

from ember.codegen.kernel import Access, Buffer, Instr, Kernel, Store  # noqa: E402
from ember.codegen.schedule import Schedule  # noqa: E402
from ember.codegen.triton.backend import choose_schedule  # noqa: E402
from ember.codegen.triton.compile import compile_kernels  # noqa: E402
from ember.codegen.triton.source import render  # noqa: E402

_spec = importlib.util.spec_from_file_location(
    "ember_test_poly_cases", Path(__file__).parents[1] / "codegen" / "poly_cases.py")
cases = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cases)

_DT = {torch.float32: "f32", torch.float64: "f64"}


def _kernel(names: list[str], dt: str, size: int) -> Kernel:
    """x and n loaded, one output per op of ``names``."""
    acc = Access(0, (1,))
    body = [Instr("load", (), dt, {"buffer": i, "access": acc}) for i in (0, 1)]
    body += [Instr(name, (0, 1), dt) for name in names]
    return Kernel(f"tp_{names[0]}_{dt}" if len(names) == 1 else f"tp_{len(names)}_{dt}",
                  (size,), 0, (Buffer("x", dt, size), Buffer("n", dt, size)),
                  tuple(Buffer(f"y{i}", dt, size) for i in range(len(names))), tuple(body),
                  tuple(Store(i, 2 + i, acc) for i in range(len(names))))


@pytest.mark.parametrize("dt", [torch.float64, torch.float32], ids=str)
@pytest.mark.parametrize("name", cases.NAMES)
def test_matches_eager(name, dt):
    x, n = cases.inputs(dt, small=True)
    k = _kernel([name], _DT[dt], x.numel())
    (ck,) = compile_kernels([(k, choose_schedule(k, "interpret"))], "interpret")
    y = torch.empty_like(x)
    ck.launch([x, n, y])
    cases.check_close(name, x, n, y)


def test_broadcast_operands():
    """n a 0-d constant beside a block of x, and x one beside a block of n."""
    x = torch.linspace(-1.1, 1.1, 37, dtype=torch.float64)
    acc = Access(0, (1,))
    for name, c, const_x in (("chebyshev_polynomial_t", 9.0, False),
                             ("legendre_polynomial_p", 5.0, False),
                             ("hermite_polynomial_he", 0.75, True)):
        ld = Instr("load", (), "f64", {"buffer": 0, "access": acc})
        cst = Instr("const", (), "f64", {"value": c})
        args = (1, 0) if const_x else (0, 1)
        k = Kernel(f"tp_bcast_{name}", (37,), 0, (Buffer("x", "f64", 37),),
                   (Buffer("y", "f64", 37),), (ld, cst, Instr(name, args, "f64")),
                   (Store(0, 2, acc),))
        (ck,) = compile_kernels([(k, choose_schedule(k, "interpret"))], "interpret")
        y = torch.empty_like(x)
        ck.launch([x, y])
        xs, ns = (torch.full_like(x, c), x) if const_x else (x, torch.full_like(x, c))
        cases.check_close(name, xs, ns, y)


def _sm90(ck) -> dict[str, str]:
    try:
        return ck.compile_for(90)
    except Exception as e:  # no NVIDIA backend or no ptxas in this Triton build
        pytest.skip(f"Triton cannot compile for sm_90 here: {type(e).__name__}: {e}")


def test_constant_operands_and_2d_tiles():
    """Both operands 0-d constants (the loop's mask is a scalar) and 2-D tiles (the
    mask a block of two axes): under the interpreter and compiled for sm_90."""
    acc = Access(0, (1,))
    k = Kernel("tp_consts", (5,), 0, (), (Buffer("y", "f64", 5),),
               (Instr("const", (), "f64", {"value": 0.3}),
                Instr("const", (), "f64", {"value": 9.0}),
                Instr("legendre_polynomial_p", (0, 1), "f64")), (Store(0, 2, acc),))
    (ck,) = compile_kernels([(k, choose_schedule(k, "interpret"))], "interpret")
    y = torch.zeros(5, dtype=torch.float64)
    ck.launch([y])
    x0 = torch.tensor(0.3, dtype=torch.float64)
    assert torch.equal(y, torch.special.legendre_polynomial_p(x0, 9.0).expand(5))
    assert ".target sm_90" in _sm90(ck)["ptx"]
    g = torch.Generator().manual_seed(1)
    x = torch.rand(6, 7, generator=g, dtype=torch.float64) * 2.2 - 1.1
    n = torch.randint(-1, 14, (6, 7), generator=g).double()
    a2 = Access(0, (7, 1))
    k = Kernel("tp_tile", (6, 7), 0, (Buffer("x", "f64", 42), Buffer("n", "f64", 42)),
               (Buffer("y", "f64", 42),),
               (Instr("load", (), "f64", {"buffer": 0, "access": a2}),
                Instr("load", (), "f64", {"buffer": 1, "access": a2}),
                Instr("chebyshev_polynomial_u", (0, 1), "f64")), (Store(0, 2, a2),))
    (ck,) = compile_kernels([(k, Schedule(block=(2, 4)))], "interpret")
    y = torch.zeros(42, dtype=torch.float64)
    ck.launch([x.reshape(-1), n.reshape(-1), y])
    cases.check_close("chebyshev_polynomial_u", x.reshape(-1), n.reshape(-1), y)
    assert ".target sm_90" in _sm90(ck)["ptx"]


def test_only_the_called_helpers_are_in_a_module():
    k = _kernel(["legendre_polynomial_p"], "f32", 8)
    src = render(k, choose_schedule(k, "interpret"), "interpret")
    assert "def _ember_legendre_polynomial_p_f32(" in src
    assert "def _ember_legendre_polynomial_p_f64(" not in src
    assert "def _ember_chebyshev_polynomial_t_f32(" not in src
    k = Kernel("plain", (8,), 0, k.inputs, k.outputs[:1],
               (k.body[0], Instr("exp", (0,), "f32")), (Store(0, 1, Access(0, (1,))),))
    src = render(k, choose_schedule(k, "interpret"), "interpret")
    assert "_ember_poly_acos" not in src and "polynomial" not in src


def test_compiles_for_sm90():
    """Every helper (each with its while loop) in one kernel per dtype, to PTX for sm_90."""
    for dt in ("f32", "f64"):
        k = _kernel(cases.NAMES, dt, 100)
        (ck,) = compile_kernels([(k, choose_schedule(k, "interpret"))], "interpret")
        asm = _sm90(ck)
        assert ".target sm_90" in asm["ptx"] and f".entry {ck.fn_name}(" in asm["ptx"]
        assert "__nv_acos" in asm["ttgir"]  # the cuda form: libdevice's acos, refined
        assert "scf.while" in asm["ttir"]  # the recurrences' loops
