"""The op table's cases (tests/ir/cases.py), compiled one op at a time with the Triton
backend under the interpreter, against eager, as tests/ir/test_ops_table.py does for
the CPU backend. Every generated kernel also compiles ahead of time for sm_90
(tests/triton/test_triton_aot.py covers the kernel-level cases)."""

from __future__ import annotations

import pytest
import torch

from ember.config import Config
from ember.ir import print_graph
from ember.ir.dtypes import from_torch

from tests.ir.cases import ACCEPTED, Case
from tests.ir.cases_random import UNINITIALIZED, draws

_ids = {"ids": lambda c: c.id}


@pytest.mark.parametrize("case", ACCEPTED, **_ids)
def test_triton_compiled_matches_eager(case: Case):
    from ember.compiler import compile_graph

    g, inputs = case.graph(), case.inputs()
    text = print_graph(g)
    fn = compile_graph(case.graph(), inputs, config=Config(backend="triton", strict=True))
    expected = [t.clone() for t in case.eager_all(inputs)]  # seeded for a random op
    before = [t.clone() for t in inputs]
    if draws(case.op):
        torch.manual_seed(0)
    outs = fn(*inputs)
    if case.op in UNINITIALIZED:  # values undefined: shapes, dtypes and strides
        assert [(o.shape, o.dtype, o.stride()) for o in outs] == \
            [(e.shape, e.dtype, e.stride()) for e in expected], case.id
        return
    rtol, atol = case.tolerance()
    for out, want, v in zip(outs, expected, g.outputs, strict=True):
        assert (tuple(out.shape), from_torch(out.dtype)) == (v.type.shape, v.type.dtype), text
        torch.testing.assert_close(out, want, rtol=rtol, atol=atol, equal_nan=True,
                                   check_dtype=False, msg=lambda m: f"{case.id}\n{m}\n{text}")
    out = outs[0]
    for t, b in zip(inputs, before):
        torch.testing.assert_close(t, b, rtol=0, atol=0, equal_nan=True)
    if case.kind in ("pointwise", "reduction", "scan") and out.numel() and all(
            a.numel() for a in inputs):
        assert {k.backend for k in fn.report.kernels} == {"triton"}, fn.report.kernels
