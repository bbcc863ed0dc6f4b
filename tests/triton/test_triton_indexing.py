"""Gathers (embedding, index_select, x[idx]) on the Triton backend, under the
interpreter, against eager."""

from __future__ import annotations

import pytest
import torch

pytest.importorskip("triton")

import ember  # noqa: E402


def test_gathers_on_triton():
    torch.manual_seed(0)
    table = torch.randn(50, 24)

    def f(ids, x):
        e = torch.nn.functional.embedding(ids, table) * 2
        return e, x[ids[0] - 25].sum(-1), torch.index_select(x, 1, ids[1]) + 1

    compiled = ember.compile(f, backend="triton", strict=True)
    ids, x = torch.randint(0, 50, (2, 9)), torch.randn(50, 50)
    with torch.no_grad():
        for g, w in zip(compiled(ids, x), f(ids, x)):
            torch.testing.assert_close(g, w)
        with pytest.raises(IndexError):
            compiled(torch.full((2, 9), 50), x)
    report = compiled.ember_report
    assert not report.fallbacks
    assert any("tl.load" in k.source and "* (" in k.source for k in report.kernels)
    for k in report.kernels:  # the "cuda" form, compiled ahead of time
        assert ".target sm_90" in k.artifacts["ptx"]
