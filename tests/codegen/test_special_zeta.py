"""torch.special.zeta (codegen/zeta_algo.py) compiled by the MLIR backend in scalar
and vector code, f32 and f64, against eager bit for bit on every pair of special x
and q (zeta_cases.py) and random ones."""

from __future__ import annotations

import pytest
import torch

from ember.codegen.mlir import available

_OK, _REASON = available()
if not _OK:
    pytest.skip(f"MLIR backend unavailable: {_REASON}", allow_module_level=True)

from .test_special_math import run  # noqa: E402
from .zeta_cases import check, inputs  # noqa: E402


@pytest.mark.parametrize("width", [1, 8])
@pytest.mark.parametrize("dt", [torch.float64, torch.float32], ids=str)
def test_matches_eager(dt, width):
    x, q = inputs(dt)
    check(x, q, run("zeta", [x, q], width, "f64" if dt == torch.float64 else "f32"))


def test_long_direct_sums():
    """Negative non-integer q with integer x: the direct sum runs about |q| + 9 terms,
    a different count in each lane of a vector."""
    q = torch.tensor([-0.5, -100.5, -7.25, 3.0, -1000.75, -2.5, -33.125, -9.5],
                     dtype=torch.float64)
    x = torch.tensor([2.0, 4.0, 3.0, 2.0, 6.0, 10.0, 2.0, 8.0], dtype=torch.float64)
    check(x, q, run("zeta", [x, q], 8, "f64"))
