"""Every kernel of ``triton_cases.py``, in its ``"cuda"`` form, compiled ahead of
time for sm_90 down to PTX (Triton's bundled ptxas; no GPU needed)."""

from __future__ import annotations

import pytest

pytest.importorskip("triton")

from ember.codegen.triton.compile import compile_kernels  # noqa: E402
from ember.codegen.triton.source import render  # noqa: E402
from test_triton_kernels import PARAMS, schedule_of  # noqa: E402
from triton_cases import CASES  # noqa: E402


def _can_compile_for_sm90() -> tuple[bool, str]:
    try:
        (ck,) = compile_kernels([(CASES["iota"].kernel, schedule_of(CASES["iota"], 0))],
                                "interpret")
        ck.compile_for(90)
    except Exception as e:  # no NVIDIA backend or no ptxas in this Triton build
        return False, f"Triton cannot compile for sm_90 here: {type(e).__name__}: {e}"
    return True, ""


_OK, _WHY = _can_compile_for_sm90()
if not _OK:
    pytest.skip(_WHY, allow_module_level=True)


@pytest.mark.parametrize("name,si", PARAMS, ids=[f"{n}-s{i}" for n, i in PARAMS])
def test_compiles_for_sm90(name, si):
    case = CASES[name]
    (ck,) = compile_kernels([(case.kernel, schedule_of(case, si))], "interpret")
    asm = ck.compile_for(90)
    ptx = asm["ptx"]
    assert ".target sm_90" in ptx
    assert f".entry {ck.fn_name}(" in ptx
    # the cuda form really is what was compiled (libdevice, not the interpreter's helpers)
    src = render(case.kernel, ck.schedule, "cuda")
    if "_ember_expm1(" in src.split("@triton.jit\ndef " + ck.fn_name)[1]:
        assert "__nv_expm1" in asm["ttgir"]
