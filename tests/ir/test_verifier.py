"""The verifier accepts well-formed graphs and names the first offending node otherwise."""

from __future__ import annotations

import pytest
import torch

from ember.ir import Graph, InputRef, TensorType, Value, VerifyError, verify

from .cases import ACCEPTED


def _chain() -> Graph:
    g = Graph("chain")
    x = g.add_input((4, 8), "f32", "x")
    y = g.add_input((8,), "f32", "y")
    a = g.value("add", x, y)
    b = g.value("exp", a)
    c = g.value("sum", b, axes=(1,), keepdim=False)
    g.outputs = [c]
    return g


def _region() -> Graph:
    r = Graph("body")
    a = r.add_input((4, 8), "f32")
    b = r.add_input((8,), "f32")
    e = r.value("exp", r.value("add", a, b))
    r.outputs = [e, r.value("sum", e, axes=(1,), keepdim=False)]
    return r


def _kernel_graph(region: Graph | None = None, out_types=None) -> Graph:
    g = Graph("k")
    x = g.add_input((4, 8), "f32")
    y = g.add_input((8,), "f32")
    r = region if region is not None else _region()
    k = g.add("kernel", [x, y], name="k0", region=r,
              out_types=out_types or [TensorType((4, 8), "f32"), TensorType((4,), "f32")])
    g.outputs = list(k.outputs)
    return g


def _fallback_graph(args, kwargs=(), n_inputs=2) -> Graph:
    g = Graph("fb")
    ins = [g.add_input((3,), "f32") for _ in range(n_inputs)]
    g.outputs = g.add("fallback", ins, target="aten.foo.default", args=args, kwargs=kwargs,
                      out_types=[TensorType((3,), "f32")]).outputs
    return g


def _rejects(g: Graph, *words: str) -> str:
    with pytest.raises(VerifyError) as info:
        verify(g)
    msg = str(info.value)
    for w in words:
        assert w in msg, msg
    return msg


# -- accepted ----------------------------------------------------------------------------------
@pytest.mark.parametrize("case", ACCEPTED, ids=lambda c: c.id)
def test_accepts_every_case(case):
    verify(case.graph())


def test_accepts_chain_kernel_and_fallback():
    verify(_chain())
    verify(_kernel_graph())
    verify(_fallback_graph((InputRef(0), (InputRef(1), 2.0), None)))
    verify(_fallback_graph((InputRef(1),), kwargs=(("other", InputRef(0)),)))


def test_accepts_inputs_as_outputs_and_empty_graph():
    g = Graph()
    x = g.add_input((2,), "i64")
    g.outputs = [x, x]
    verify(g)
    verify(Graph())


# -- use before def / SSA structure -------------------------------------------------------------
def test_use_before_def():
    g = _chain()
    g.nodes[0], g.nodes[1] = g.nodes[1], g.nodes[0]  # exp now reads add's result before add
    _rejects(g, "node 0", "exp", "not defined before use")


def test_use_of_value_from_another_graph():
    g = _chain()
    stray = Graph().add_input((4, 8), "f32")
    g.nodes[1].inputs = [stray]
    _rejects(g, "node 1", "not defined")


def test_self_use():
    g = _chain()
    n = g.nodes[1]
    n.inputs = [n.outputs[0]]
    _rejects(g, "node 1", "not defined before use")


def test_output_not_defined():
    g = _chain()
    g.outputs = [Value(TensorType((4,), "f32"))]
    _rejects(g, "graph output")


def test_output_defined_twice():
    g = _chain()
    g.nodes[2].outputs = g.nodes[1].outputs  # same Value produced by two nodes
    _rejects(g, "node 2")


def test_output_producer_mismatch():
    g = _chain()
    g.nodes[1].outputs[0].producer = g.nodes[0]
    _rejects(g, "node 1", "does not point back")


def test_input_with_producer():
    g = _chain()
    g.inputs[0].producer = g.nodes[0]
    _rejects(g, "graph input")


def test_unknown_op():
    g = _chain()
    g.nodes[1].op = "frobnicate"
    _rejects(g, "node 1", "frobnicate")


# -- types and attributes -------------------------------------------------------------------------
@pytest.mark.parametrize("bad", [TensorType((4, 9), "f32"), TensorType((4, 8), "f64"),
                                 TensorType((4, 8, 1), "f32"), TensorType((32,), "f32")])
def test_bad_output_type(bad):
    g = _chain()
    g.nodes[1].outputs[0].type = bad  # exp's output no longer matches the rule
    _rejects(g, "node 1", "exp", "op rule gives")


def test_bad_type_after_input_change():
    g = _chain()
    g.inputs[1].type = TensorType((5,), "f32")  # add no longer broadcasts
    _rejects(g, "node 0", "add")


def test_bad_reduction_output_type():
    g = _chain()
    g.nodes[2].outputs[0].type = TensorType((4, 1), "f32")  # keepdim=False says (4,)
    _rejects(g, "node 2", "sum")


def test_attribute_changed_after_build():
    g = _chain()
    g.nodes[2].attrs["keepdim"] = True
    _rejects(g, "node 2", "sum")


@pytest.mark.parametrize("attrs", [{"axes": [1], "keepdim": False}, {"axes": (1,)},
                                   {"axes": (1,), "keepdim": False, "extra": 1},
                                   {"axes": (1,), "keepdim": 0}])
def test_bad_attributes(attrs):
    g = _chain()
    g.nodes[2].attrs = attrs
    _rejects(g, "node 2")


def test_wrong_arity():
    g = _chain()
    g.nodes[1].inputs = [g.inputs[0], g.inputs[0]]
    _rejects(g, "node 1", "exp")


def test_wrong_number_of_outputs():
    g = _chain()
    n = g.nodes[1]
    extra = Value(TensorType((4, 8), "f32"), n)
    n.outputs = n.outputs + [extra]
    _rejects(g, "node 1")


# -- kernels ---------------------------------------------------------------------------------------
def test_kernel_region_output_type_mismatch():
    g = _kernel_graph(out_types=[TensorType((4, 8), "f32"), TensorType((4, 1), "f32")])
    _rejects(g, "node 0", "kernel", "region outputs")


def test_kernel_region_output_count_mismatch():
    g = _kernel_graph(out_types=[TensorType((4, 8), "f32")])
    _rejects(g, "node 0", "kernel", "region outputs")


def test_kernel_region_input_mismatch():
    r = Graph("body")
    a = r.add_input((4, 8), "f32")
    b = r.add_input((8,), "f64")  # the kernel passes f32[8]
    r.outputs = [a, r.value("cast", b, dtype="f32")]
    g = _kernel_graph(r, out_types=[TensorType((4, 8), "f32"), TensorType((8,), "f32")])
    _rejects(g, "node 0", "kernel", "region inputs")


def test_kernel_region_input_count_mismatch():
    r = Graph("body")
    a = r.add_input((4, 8), "f32")
    r.outputs = [a, r.value("sum", a, axes=(1,), keepdim=False)]
    g = _kernel_graph(r)
    _rejects(g, "node 0", "region inputs")


def test_kernel_without_region():
    g = _kernel_graph()
    g.nodes[0].region = None
    _rejects(g, "node 0", "without a region")


def test_kernel_region_body_is_verified():
    r = _region()
    r.nodes[1].outputs[0].type = TensorType((4, 8), "f64")
    r.outputs[0] = r.nodes[1].outputs[0]
    g = _kernel_graph(r, out_types=[TensorType((4, 8), "f64"), TensorType((4,), "f32")])
    _rejects(g, "node 0", "region", "exp")


def test_kernel_region_uses_outer_value():
    g = _kernel_graph()
    r = g.nodes[0].region
    r.nodes[0].inputs = [g.inputs[0], r.inputs[1]]  # an outer graph's value inside the region
    _rejects(g, "node 0", "region", "not defined")


@pytest.mark.parametrize("inner", ["mm", "constant", "fallback", "kernel"])
def test_kernel_region_forbidden_ops(inner):
    r = Graph("body")
    a = r.add_input((4, 8), "f32")
    b = r.add_input((8,), "f32")
    if inner == "mm":
        out = r.value("mm", a, r.value("reshape", r.value("expand", b, shape=(8, 8)), shape=(8, 8)))
        out = r.value("sum", out, axes=(1,), keepdim=False)
    elif inner == "constant":
        out = r.value("add", r.value("sum", a, axes=(1,), keepdim=False),
                      r.value("constant", value=torch.ones(4)))
    elif inner == "fallback":
        out = r.add("fallback", [a], target="aten.foo.default", args=(InputRef(0),), kwargs=(),
                    out_types=[TensorType((4,), "f32")]).out
    else:
        inner_r = Graph("inner")
        p = inner_r.add_input((4, 8), "f32")
        inner_r.outputs = [inner_r.value("sum", p, axes=(1,), keepdim=False)]
        out = r.add("kernel", [a], name="inner", region=inner_r,
                    out_types=[TensorType((4,), "f32")]).out
    r.outputs = [a, out]
    g = _kernel_graph(r)
    _rejects(g, "node 0", inner)


# -- fallbacks -------------------------------------------------------------------------------------
@pytest.mark.parametrize("args,kwargs", [
    ((InputRef(0),), ()),                                  # input 1 never referenced
    ((), ()),                                              # no refs at all
    ((InputRef(0), InputRef(1), InputRef(2)), ()),         # ref past the inputs
    ((InputRef(0), (InputRef(0), None)), ()),              # input 1 missing, 0 twice
    ((InputRef(1),), (("x", InputRef(5)),)),               # bad ref in kwargs
], ids=["missing", "none", "out-of-range", "nested-missing", "kwargs-out-of-range"])
def test_fallback_refs_must_cover_inputs(args, kwargs):
    g = _fallback_graph(args, kwargs)
    _rejects(g, "node 0", "fallback", "refs")


def test_fallback_refs_nested_in_lists():
    # The frontend passes ATen tensor lists (aten.cat, aten.stack, ...) as Python lists;
    # Graph.add normalizes only the top level of an attribute, so nested lists stay lists.
    g = _fallback_graph(([InputRef(0), InputRef(1)], 0))
    verify(g)


def test_fallback_refs_in_kwargs_only():
    g = _fallback_graph((), kwargs=(("self", InputRef(0)), ("other", InputRef(1))))
    verify(g)


def test_interpreter_runs_kernel_regions_and_fallbacks():
    import torch

    from ember.ir import parse
    from ember.ir.interpret import run_graph

    g = parse("""
graph @g(%x: f32[2,3]) {
  %0: f32[2,3] = kernel(%x) {name="k0"} region(%i0: f32[2,3]) {
    %0: f32[2,3] = exp(%i0)
    return %0
  }
  %1: f32[2,3] = fallback(%0) {target="aten.cumsum.default", args=[$0, 1], kwargs=[]}
  %2: f32[2,3] = eager(%1) {of="neg", attrs=[]}
  return %2
}
""")
    x = torch.randn(2, 3)
    (out,) = run_graph(g, [x])
    torch.testing.assert_close(out, -torch.cumsum(x.exp(), 1))
