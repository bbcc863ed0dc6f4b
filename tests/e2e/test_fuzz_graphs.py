"""Random graphs of pointwise, view and reduction ops: compiled vs the IR interpreter.

Hypothesis builds small graphs (broadcasting, permutes, strided slices, splitting
reshapes, reductions over random axes with and without keepdim) so fusion,
index-map lowering, buffer reuse and codegen are exercised on shapes no
hand-written test has. Inputs are transposed or sliced at random too.
"""

from __future__ import annotations

import copy

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ember.codegen.mlir import available
from ember.compiler import compile_graph
from ember.ir import Graph, Value, print_graph
from ember.ir.interpret import run_graph

pytestmark = pytest.mark.skipif(not available()[0], reason=f"MLIR backend: {available()[1]}")

UNARY = ["neg", "abs", "relu", "tanh", "sigmoid", "sin", "cos", "exp"]
BINARY = ["add", "sub", "mul", "maximum", "minimum"]
REDUCE = ["sum", "mean", "amax", "amin"]


def _unary(g: Graph, draw, vals: list[Value]) -> Value:
    op = draw(st.sampled_from(UNARY))
    x = draw(st.sampled_from(vals))
    if op == "exp":  # keep values bounded
        x = g.value("tanh", x)
    return g.value(op, x)


def _binary(g: Graph, draw, vals: list[Value]) -> Value:
    a = draw(st.sampled_from(vals))
    # an operand broadcastable to a: a itself, a reduction of it, or a same-shape value
    same = [v for v in vals if v.shape == a.shape]
    b = draw(st.sampled_from(same))
    if a.rank and draw(st.booleans()):
        axis = draw(st.integers(0, a.rank - 1))
        b = g.value("amax", b, axes=(axis,), keepdim=True)
    if draw(st.booleans()):
        a, b = b, a
    return g.value(draw(st.sampled_from(BINARY)), a, b)


def _view(g: Graph, draw, vals: list[Value]) -> Value:
    x = draw(st.sampled_from([v for v in vals if v.rank >= 1] or vals))
    kind = draw(st.sampled_from(["permute", "unsqueeze", "slice", "split", "expand"]))
    if x.rank == 0 or kind == "unsqueeze":
        return g.value("unsqueeze", x, axis=draw(st.integers(0, x.rank)))
    if kind == "permute":
        dims = tuple(draw(st.permutations(range(x.rank))))
        return g.value("permute", x, dims=dims)
    axis = draw(st.integers(0, x.rank - 1))
    n = x.shape[axis]
    if kind == "slice" and n > 1:
        start = draw(st.integers(0, n - 1))
        return g.value("slice", x, axis=axis, start=start, end=n, step=draw(st.integers(1, 2)))
    if kind == "split" and n in (4, 6):
        shape = x.shape[:axis] + (2, n // 2) + x.shape[axis + 1:]
        return g.value("reshape", x, shape=shape)
    if kind == "expand" and x.rank < 4:
        return g.value("expand", x, shape=(3,) + x.shape)
    return g.value("neg", x)


def _reduce(g: Graph, draw, vals: list[Value]) -> Value:
    x = draw(st.sampled_from([v for v in vals if v.rank >= 1] or vals))
    if x.rank == 0:
        return g.value("abs", x)
    axes = tuple(sorted(draw(st.sets(st.integers(0, x.rank - 1), min_size=1))))
    return g.value(draw(st.sampled_from(REDUCE)), x, axes=axes, keepdim=draw(st.booleans()))


@st.composite
def graphs(draw):
    g = Graph("fuzz")
    nin = draw(st.integers(1, 2))
    shape = tuple(draw(st.lists(st.sampled_from([1, 2, 3, 4, 6]), min_size=1, max_size=3)))
    vals = [g.add_input(shape, "f32", f"x{i}") for i in range(nin)]
    for _ in range(draw(st.integers(2, 7))):
        make = draw(st.sampled_from([_unary, _binary, _binary, _view, _reduce]))
        vals.append(make(g, draw, vals))
    # Every value nothing else uses is an output, so no op is dead; sometimes an
    # intermediate too (it must then be materialized as well as fused).
    users = g.users()
    g.outputs = [v for v in vals[nin:] if not users[v]]
    if draw(st.booleans()) and len(vals) > nin + 1:
        g.outputs.append(draw(st.sampled_from(vals[nin:-1])))
    layouts = [draw(st.sampled_from(["contiguous", "transposed", "sliced"])) for _ in range(nin)]
    return g, layouts


def _make_input(shape: tuple[int, ...], layout: str) -> torch.Tensor:
    if layout == "transposed" and len(shape) >= 2:
        return torch.randn(shape[::-1]).permute(*range(len(shape) - 1, -1, -1))
    if layout == "sliced":
        return torch.randn((shape[0] * 2,) + shape[1:])[::2]
    return torch.randn(shape)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graphs())
def test_random_graphs_match_the_interpreter(case):
    g, layouts = case
    inputs = [_make_input(v.shape, lay) for v, lay in zip(g.inputs, layouts)]
    text = print_graph(g)
    expected = run_graph(g, inputs)
    compiled = compile_graph(copy.deepcopy(g), inputs)
    for _ in range(2):  # the second call runs on reused buffers too
        got = compiled(*inputs)
        for e, o in zip(expected, got):
            torch.testing.assert_close(o, e, rtol=1e-4, atol=1e-5, msg=lambda m: f"{m}\n{text}")
