"""Graphs with symbolic sizes on the Triton backend (under the interpreter): each
size is a specialization compiled for its sizes (Triton kernels are not
size-parametric templates), results as eager's."""

from __future__ import annotations

import pytest
import torch

pytest.importorskip("triton")

import ember  # noqa: E402


def test_symbolic_graph_on_triton():
    def f(x):
        return torch.softmax(x, -1) * 2 + x.sum(-1, keepdim=True)

    compiled = ember.compile(f, backend="triton", strict=True)
    with torch.no_grad():
        for n in (5, 6, 9):
            x = torch.randn(3, n)
            torch.testing.assert_close(compiled(x), f(x))
    graphs = compiled.ember_report.graphs
    assert len(graphs) == 2 and graphs[1].inputs
    assert len(graphs[1].specializations) == 2
    assert {k.backend for k in compiled.ember_report.kernels} == {"triton"}
