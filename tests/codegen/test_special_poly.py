"""torch.special's orthogonal polynomials (Chebyshev T/U/V/W and their shifted forms,
Hermite H/He, Laguerre L, Legendre P; codegen/poly_algos.py) compiled by the MLIR
backend in scalar and vector code, f32 and f64, against eager bit for bit on every
pair of special x and n (poly_cases.py) and random ones."""

from __future__ import annotations

import pytest
import torch

from ember.codegen.mlir import available

_OK, _REASON = available()
if not _OK:
    pytest.skip(f"MLIR backend unavailable: {_REASON}", allow_module_level=True)

from .poly_cases import NAMES, check, inputs  # noqa: E402
from .test_special_math import run  # noqa: E402


@pytest.mark.parametrize("width", [1, 8])
@pytest.mark.parametrize("dt", [torch.float64, torch.float32], ids=str)
@pytest.mark.parametrize("name", NAMES)
def test_matches_eager(name, dt, width):
    x, n = inputs(dt)
    check(name, x, n, run(name, [x, n], width, "f64" if dt == torch.float64 else "f32"))
