"""simplify's fold_scalar_fallback: ATen ops of 0-d constants fold to constants
(what Dynamo's tensorified size arithmetic becomes once a size is known)."""

from __future__ import annotations

import math

import torch

from ember.ir import Graph
from ember.ir.graph import TensorType
from ember.ir.ops import InputRef
from ember.passes import PassContext
from ember.passes.dce import dce
from ember.passes.simplify import simplify


def _fallback(g, target, inputs, dtype, *extra, shape=()):
    args = tuple(InputRef(i) for i in range(len(inputs))) + extra
    return g.add("fallback", inputs, out_types=[TensorType(shape, dtype)], target=target,
                 args=args, kwargs=()).out


def test_scalar_chain_folds_to_one_constant():
    """x * float32(1 / sqrt(float64(8.0))): the scale attention computes from a size."""
    g = Graph()
    x = g.add_input((4,), "f32", "x")
    c = g.value("full", shape=(), value=8.0, dtype="f32")
    c64 = _fallback(g, "prims.convert_element_type.default", [c], "f64", torch.float64)
    one = g.value("full", shape=(), value=1.0, dtype="f64")
    r = _fallback(g, "aten.true_divide.Tensor", [one, g.value("sqrt", c64)], "f64")
    r32 = _fallback(g, "prims.convert_element_type.default", [r], "f32", torch.float32)
    g.outputs = [g.value("mul", x, r32)]
    out = dce(simplify(g, PassContext()), PassContext())
    assert [n.op for n in out.nodes] == ["full", "mul"]
    want = torch.tensor(1 / math.sqrt(8.0), dtype=torch.float32).item()
    assert out.nodes[0].attrs["value"] == want


def test_random_ops_and_tensors_do_not_fold():
    g = Graph()
    p = g.value("full", shape=(), value=0.5, dtype="f32")
    b = _fallback(g, "aten.bernoulli.default", [p], "f32")
    big = g.value("full", shape=(3,), value=2.0, dtype="f32")
    t = _fallback(g, "aten.sqrt.default", [big], "f32", shape=(3,))
    g.outputs = [b, t]
    out = simplify(g, PassContext())
    assert [n.op for n in out.nodes].count("fallback") == 2
