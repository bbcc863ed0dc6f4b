"""Text form: print -> parse -> print is the identity; parse errors carry line numbers."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ember.ir import (OPS, Graph, InputRef, IRError, ParseError, TensorType, parse, print_graph,
                      verify)

from .cases import ACCEPTED, Case


# -- helpers ---------------------------------------------------------------------------------
def same_attr(a, b) -> bool:
    """Structural equality of attribute values: NaN == NaN, -0.0 != 0.0, lists ~ tuples,
    tensors bitwise."""
    if isinstance(a, torch.Tensor):
        return (isinstance(b, torch.Tensor) and a.dtype == b.dtype and a.shape == b.shape
                and torch.equal(_bits(a), _bits(b)))
    if isinstance(a, (list, tuple)):
        return (isinstance(b, tuple) and len(a) == len(b)
                and all(same_attr(x, y) for x, y in zip(a, b)))
    if isinstance(a, float):
        if not isinstance(b, float):
            return False
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    return type(a) is type(b) and a == b


def _bits(t: torch.Tensor) -> torch.Tensor:
    return t.detach().contiguous().reshape(-1).view(torch.uint8)


def assert_roundtrip(g: Graph) -> Graph:
    text = print_graph(g)
    g2 = parse(text)
    text2 = print_graph(g2)
    assert text2 == text, f"round trip changed the text:\n{text}\n---\n{text2}"
    _assert_same_graph(g, g2)
    return g2


def _assert_same_graph(g: Graph, g2: Graph) -> None:
    assert [v.type for v in g.inputs] == [v.type for v in g2.inputs]
    assert len(g.nodes) == len(g2.nodes)
    for n, n2 in zip(g.nodes, g2.nodes):
        assert n.op == n2.op
        assert [o.type for o in n.outputs] == [o.type for o in n2.outputs]
        assert n.attrs.keys() == n2.attrs.keys()
        for k in n.attrs:
            assert same_attr(n.attrs[k], n2.attrs[k]), (n.op, k, n.attrs[k], n2.attrs[k])
        assert (n.region is None) == (n2.region is None)
        if n.region is not None:
            _assert_same_graph(n.region, n2.region)
    index = {v: i for i, v in enumerate(g.inputs)}
    index2 = {v: i for i, v in enumerate(g2.inputs)}
    for j, (n, n2) in enumerate(zip(g.nodes, g2.nodes)):
        for k, o in enumerate(n.outputs):
            index[o] = (j, k)
        for k, o in enumerate(n2.outputs):
            index2[o] = (j, k)
        assert [index[i] for i in n.inputs] == [index2[i] for i in n2.inputs]
    assert [index[o] for o in g.outputs] == [index2[o] for o in g2.outputs]


# -- every op of the table --------------------------------------------------------------------
@pytest.mark.parametrize("case", ACCEPTED, ids=lambda c: c.id)
def test_roundtrip_case(case: Case):
    g = case.graph()
    g.nodes[0].loc = f"model.py:{len(case.id)}"
    g2 = assert_roundtrip(g)
    verify(g2)


def test_roundtrip_all_cases_in_one_graph():
    """One graph holding a node of every case (many ops, numbering across nodes)."""
    g = Graph("everything")
    for case in ACCEPTED:
        ins = [g.add_input(a.shape, a.dtype) for a in case.args]
        g.outputs.extend(g.add(case.op, ins, **case.attrs).outputs)
    g2 = assert_roundtrip(g)
    verify(g2)


# -- kernels ---------------------------------------------------------------------------------
def _region() -> Graph:
    r = Graph("body")
    a = r.add_input((4, 8), "f32")
    b = r.add_input((8,), "f32")
    s = r.value("add", a, b)
    e = r.value("exp", s)
    m = r.value("sum", e, axes=(1,), keepdim=False)
    r.outputs = [e, m]
    return r


def _kernel_graph(loc: str | None = "model.py:3") -> Graph:
    g = Graph("fused")
    x = g.add_input((4, 8), "f32", "x")
    y = g.add_input((8,), "f32", "y")
    r = _region()
    k = g.add("kernel", [x, y], name="k0", region=r, out_types=[v.type for v in r.outputs],
              loc=loc)
    e, m = k.outputs
    r2 = Graph("body2")
    p = r2.add_input((4,), "f32")
    r2.outputs = [r2.value("neg", r2.value("relu", p))]
    k2 = g.add("kernel", [m], name="k1", region=r2, out_types=[TensorType((4,), "f32")])
    mm = g.value("mm", e, g.value("permute", e, dims=(1, 0)), loc="model.py:9")
    g.outputs = [k2.out, mm, e]
    return g


@pytest.mark.parametrize("loc", ["model.py:3", None])
def test_roundtrip_kernel_regions(loc):
    g = _kernel_graph(loc)
    verify(g)
    text = print_graph(g)
    assert "region(" in text
    g2 = assert_roundtrip(g)
    verify(g2)
    assert g2.nodes[0].loc == loc
    assert g2.nodes[0].attrs == {"name": "k0"}
    assert len(g2.nodes[0].region.nodes) == 3
    assert g2.nodes[3].loc == "model.py:9"


def test_roundtrip_kernel_with_hinted_region_inputs_and_pointwise_body():
    g = Graph("g")
    x = g.add_input((2, 3), "f16", "x")
    c = g.add_input((2, 3), "b8", "mask")
    r = Graph("r")
    rx = r.add_input((2, 3), "f16", "lhs")
    rc = r.add_input((2, 3), "b8", "cond")
    z = r.value("full", shape=(2, 3), value=0.0, dtype="f16")
    r.outputs = [r.value("where", rc, rx, z), r.value("cast", rx, dtype="f32")]
    k = g.add("kernel", [x, c], name="k_where", region=r,
              out_types=[TensorType((2, 3), "f16"), TensorType((2, 3), "f32")])
    g.outputs = list(k.outputs)
    verify(g)
    verify(assert_roundtrip(g))


def test_roundtrip_nested_kernel_text():
    # The verifier rejects kernels inside kernels, but the text form must still carry them.
    inner = _region()
    mid = Graph("mid")
    a = mid.add_input((4, 8), "f32")
    b = mid.add_input((8,), "f32")
    k = mid.add("kernel", [a, b], name="inner", region=inner,
                out_types=[v.type for v in inner.outputs], loc="inner.py:1")
    mid.outputs = [k.outputs[1]]
    g = Graph("outer")
    x = g.add_input((4, 8), "f32")
    y = g.add_input((8,), "f32")
    g.outputs = g.add("kernel", [x, y], name="outer", region=mid,
                      out_types=[TensorType((4,), "f32")], loc="outer.py:2").outputs
    g2 = assert_roundtrip(g)
    assert g2.nodes[0].loc == "outer.py:2"
    assert g2.nodes[0].region.nodes[0].loc == "inner.py:1"


# -- fallbacks -------------------------------------------------------------------------------
FALLBACK_ARGS = (
    InputRef(0), None, (1, 2, (InputRef(1), None)), 1e-05, -1e-05, 1e+16, 5e-324, -0.0, 0.0,
    math.inf, -math.inf, math.nan, torch.float32, torch.bfloat16, torch.int64, torch.bool,
    torch.device("cpu"), torch.strided, torch.contiguous_format, torch.channels_last,
    "plain", 'quote " and \\ backslash', "unicode é ✓", "has # hash", "f32", "none", "true", "",
    True, False, 0, -3, 2**40, (), ((),),
)
FALLBACK_KWARGS = (("eps", 1e-05), ("dtype", torch.float16), ("device", torch.device("cpu")),
                   ("pin_memory", False), ("dims", (0, -1)), ("out", None),
                   ("tensors", (InputRef(2), InputRef(1))))


def _fallback_graph() -> Graph:
    g = Graph("fb")
    x = g.add_input((4, 8), "f32", "x")
    y = g.add_input((8,), "i64", "y")
    z = g.add_input((), "b8", "z")
    n = g.add("fallback", [x, y, z], target="aten.my_op.default", args=FALLBACK_ARGS,
              kwargs=FALLBACK_KWARGS, loc="layer.py:7",
              out_types=[TensorType((4, 8), "f32"), TensorType((2,), "i64")])
    n2 = g.add("fallback", [n.outputs[0]], target="aten.clone.default", args=(InputRef(0),),
               kwargs=(), out_types=[TensorType((4, 8), "f32")])
    g.outputs = [n2.out, n.outputs[1]]
    return g


def test_roundtrip_fallback_arguments():
    g = _fallback_graph()
    verify(g)
    g2 = assert_roundtrip(g)
    verify(g2)
    args = g2.nodes[0].attrs["args"]
    assert args[0] == InputRef(0) and args[1] is None
    assert args[12] is torch.float32 and args[16] == torch.device("cpu")
    assert args[18] is torch.contiguous_format and args[19] is torch.channels_last
    assert args[24] == "f32" and args[25] == "none" and args[26] == "true"
    assert g2.nodes[0].attrs["kwargs"][1] == ("dtype", torch.float16)
    assert g2.nodes[0].loc == "layer.py:7"


@pytest.mark.parametrize("value", [1e-05, 1e-300, 1.7976931348623157e308, -2.5e-8, 0.1, 1 / 3,
                                   123456789.125, 1e22, -math.inf, math.nan, -0.0])
def test_roundtrip_float_attributes(value):
    g = Graph("f")
    g.outputs = [g.value("full", shape=(2,), value=value, dtype="f64")]
    g2 = assert_roundtrip(g)
    assert same_attr(value, g2.nodes[0].attrs["value"])


# -- constants -------------------------------------------------------------------------------
def _constants() -> list[torch.Tensor]:
    gen = torch.Generator().manual_seed(0)
    special = torch.tensor([math.nan, math.inf, -math.inf, -0.0, 0.0, 1e-40, 3.0])
    return [
        torch.randn(3, 4, generator=gen),
        special,
        special.to(torch.float16),
        special.to(torch.bfloat16),
        special.to(torch.float64),
        torch.tensor(2.5),
        torch.tensor([True, False, True]),
        torch.zeros(0, 3, dtype=torch.bool),
        torch.zeros(0, dtype=torch.float16),
        torch.zeros(2, 0, 3),
        torch.tensor([-2**63, 2**63 - 1, 0], dtype=torch.int64),
        torch.tensor([-128, 127], dtype=torch.int8),
        torch.tensor([0, 255], dtype=torch.uint8),
        torch.tensor([-32768, 7], dtype=torch.int16),
        torch.tensor([[1, -2]], dtype=torch.int32),
        torch.randn(4, 6, generator=gen).t(),  # non-contiguous
    ]


@pytest.mark.parametrize("value", _constants(),
                         ids=lambda t: f"{str(t.dtype)[6:]}{list(t.shape)}")
def test_roundtrip_constant(value):
    g = Graph("c")
    g.outputs = [g.value("constant", value=value)]
    g2 = assert_roundtrip(g)
    verify(g2)
    got = g2.nodes[0].attrs["value"]
    assert got.dtype == value.dtype and got.shape == value.shape
    assert torch.equal(_bits(got), _bits(value))


# -- parse errors ----------------------------------------------------------------------------
BASE = """\
graph @g(%x: f32[4,8], %w: f32[8,16]) {
  %0: f32[4,16] = mm(%x, %w)  # model.py:3
  %1: f32[4] = sum(%0) {axes=[1], keepdim=false}
  return %1
}
"""


def test_base_text_parses():
    g = parse(BASE)
    verify(g)
    assert print_graph(g) == BASE


def _edit(line: int, old: str, new: str, text: str = BASE) -> str:
    lines = text.split("\n")
    assert old in lines[line - 1], (old, lines[line - 1])
    lines[line - 1] = lines[line - 1].replace(old, new, 1)
    return "\n".join(lines)


PARSE_ERRORS = {
    "wrong-shape": (_edit(2, "f32[4,16]", "f32[4,15]"), 2),
    "wrong-dtype": (_edit(3, "%1: f32[4]", "%1: f64[4]"), 3),
    "wrong-rank": (_edit(3, "%1: f32[4]", "%1: f32[4,1]"), 3),
    "undefined-value": (_edit(3, "sum(%0)", "sum(%7)"), 3),
    "undefined-return": (_edit(4, "return %1", "return %9"), 4),
    "unknown-op": (_edit(2, "mm(", "frobnicate("), 2),
    "unknown-dtype": (_edit(1, "%w: f32", "%w: f31"), 1),
    "rule-rejects": (_edit(2, "mm(%x, %w)", "mm(%w, %x)"), 2),
    "unknown-attribute": (_edit(3, "keepdim=false}", "keepdim=false, foo=1}"), 3),
    "missing-attribute": (_edit(3, "{axes=[1], keepdim=false}", "{axes=[1]}"), 3),
    "bad-attribute-type": (_edit(3, "keepdim=false", "keepdim=\"no\""), 3),
    "bad-attribute-value": (_edit(3, "axes=[1]", "axes=[foo]"), 3),
    "defined-twice": (_edit(3, "%1: f32[4]", "%0: f32[4]"), 3),
    "bad-token": (_edit(3, "sum(%0)", "sum(%0) ;"), 3),
    "bad-dimension": (_edit(2, "f32[4,16]", "f32[4,x]"), 2),
    "after-return": (_edit(4, "return %1", "return %1 %0 +"), 4),
    "text-after-graph": (BASE + "garbage\n", 6),
    "blank-lines-count": (_edit(4, "sum(%0)", "sum(%5)", BASE.replace("\n", "\n\n", 1)), 4),
    "not-a-graph": ("func @g() {\n  return\n}\n", 1),
}


@pytest.mark.parametrize("name", list(PARSE_ERRORS))
def test_parse_error_has_line_number(name):
    text, line = PARSE_ERRORS[name]
    with pytest.raises(ParseError) as info:
        parse(text)
    assert str(info.value).startswith(f"line {line}:"), str(info.value)


@pytest.mark.parametrize("text", ["", BASE.replace("  return %1\n", ""),
                                  BASE.replace("}\n", ""), "graph @g(%x: f32[2]) {\n"])
def test_parse_error_truncated(text):
    with pytest.raises(ParseError):
        parse(text)


def test_parse_error_kernel_region():
    text = print_graph(_kernel_graph())
    bad = text.replace("%0: f32[4,8] = add(%i0, %i1)", "%0: f32[4,8] = add(%i0, %x)")
    assert bad != text
    with pytest.raises(ParseError) as info:
        parse(bad)
    assert str(info.value).startswith("line 3:"), str(info.value)


def test_parse_error_fallback_unknown_symbol():
    text = print_graph(_fallback_graph())
    bad = text.replace("#torch.bfloat16", "#torch.float99")
    with pytest.raises(ParseError) as info:
        parse(bad)
    assert str(info.value).startswith("line 2:"), str(info.value)


def test_parse_error_dense_size():
    g = Graph("c")
    g.outputs = [g.value("constant", value=torch.ones(2, 2))]
    bad = print_graph(g).replace('"0000803f', '"00', 1)
    with pytest.raises(ParseError) as info:
        parse(bad)
    assert str(info.value).startswith("line 2:"), str(info.value)


# -- random graphs (hypothesis) ----------------------------------------------------------------
UNARY = [n for n, o in OPS.items() if o.kind == "pointwise" and o.arity == 1 and n != "cast"]
BINARY = [n for n, o in OPS.items() if o.kind == "pointwise" and o.arity == 2]
REDUCE = [n for n, o in OPS.items() if o.kind == "reduction"]
HINTS = [None, "x", "y", "arg0", "arg1", "arg0_1", "0bad", "with space", "i0", "_"]
DTYPE_CHOICES = ["f32", "f64", "f16", "bf16", "i32", "i64", "i8", "u8", "b8"]
STEPS = ["unary", "binary", "where", "cast", "reshape", "permute", "unsqueeze", "squeeze",
         "slice", "expand", "reduce", "cat", "full", "iota", "constant"]


def _step(draw, g: Graph, vals: list) -> None:
    v = draw(st.sampled_from(vals))
    step = draw(st.sampled_from(STEPS))
    shape, rank = v.shape, v.rank
    if step == "unary":
        g.value(draw(st.sampled_from(UNARY)), v)
    elif step == "binary":
        if draw(st.booleans()):
            other = draw(st.sampled_from([w for w in vals if w.dtype == v.dtype]))
        else:
            keep = draw(st.integers(0, rank))
            oshape = tuple(s if draw(st.booleans()) else 1 for s in shape[rank - keep:])
            other = g.add_input(oshape, v.dtype, draw(st.sampled_from(HINTS)))
        a, b = (v, other) if draw(st.booleans()) else (other, v)
        g.value(draw(st.sampled_from(BINARY)), a, b)
    elif step == "where":
        c = g.value(draw(st.sampled_from(["lt", "eq", "ge"])), v, v)
        g.value("where", c, v, v)
    elif step == "cast":
        g.value("cast", v, dtype=draw(st.sampled_from(DTYPE_CHOICES)))
    elif step == "reshape":
        flat = g.value("reshape", v, shape=(v.type.numel,))
        g.value("reshape", flat, shape=tuple(reversed(shape)))
    elif step == "permute":
        g.value("permute", v, dims=tuple(draw(st.permutations(range(rank)))))
    elif step == "unsqueeze":
        g.value("unsqueeze", v, axis=draw(st.integers(0, rank)))
    elif step == "squeeze":
        ones = [i for i, s in enumerate(shape) if s == 1]
        g.value("squeeze", v, axes=tuple(sorted(draw(st.sets(st.sampled_from(ones))) if ones
                                                else ())))
    elif step == "slice":
        if rank == 0:
            return
        axis = draw(st.integers(0, rank - 1))
        start = draw(st.integers(0, shape[axis]))
        end = draw(st.integers(start, shape[axis]))
        g.value("slice", v, axis=axis, start=start, end=end, step=draw(st.integers(1, 3)))
    elif step == "expand":
        lead = tuple(draw(st.lists(st.integers(0, 3), max_size=2)))
        g.value("expand", v, shape=lead + tuple(draw(st.integers(0, 3)) if s == 1 else s
                                                for s in shape))
    elif step == "reduce":
        op = draw(st.sampled_from(REDUCE))
        axes = tuple(sorted(draw(st.sets(st.integers(0, max(rank, 1) - 1)))))
        g.value(op, v, axes=axes, keepdim=draw(st.booleans()))
    elif step == "cat":
        if rank == 0:
            return
        g.value("cat", *([v] * draw(st.integers(1, 3))), axis=draw(st.integers(0, rank - 1)))
    elif step == "full":
        g.value("full", shape=shape, dtype=draw(st.sampled_from(DTYPE_CHOICES)),
                value=draw(st.one_of(st.booleans(), st.integers(-5, 5),
                                     st.floats(allow_nan=True, allow_infinity=True))))
    elif step == "iota":
        g.value("iota", length=draw(st.integers(0, 6)), dtype=draw(st.sampled_from(DTYPE_CHOICES)),
                start=draw(st.integers(-3, 3)), step=draw(st.one_of(st.integers(-2, 2),
                                                                    st.floats(-2, 2))))
    elif step == "constant":
        g.value("constant", value=torch.randn(shape).to(torch.float16))


@st.composite
def random_graphs(draw) -> Graph:
    g = Graph(draw(st.sampled_from(["g", "forward", "f_1"])))
    rank = draw(st.integers(0, 3))
    shape = tuple(draw(st.integers(1, 4)) for _ in range(rank))
    vals = [g.add_input(shape, draw(st.sampled_from(DTYPE_CHOICES)), draw(st.sampled_from(HINTS)))]
    for _ in range(draw(st.integers(1, 10))):
        n = len(g.nodes)
        try:
            _step(draw, g, vals)
        except IRError:
            del g.nodes[n:]  # the op's rule rejected these operands: drop the partial step
            continue
        for node in g.nodes[n:]:
            vals.extend(node.outputs)
            if draw(st.booleans()):
                node.loc = draw(st.sampled_from(["m.py:1", "model.py:42 in forward", "x"]))
    vals += [v for v in g.inputs if v not in vals]
    g.outputs = draw(st.lists(st.sampled_from(vals), min_size=1, max_size=3))
    if draw(st.booleans()) and all(OPS[n.op].kind not in ("constant",) for n in g.nodes):
        outer = Graph("outer")
        ins = [outer.add_input(v.shape, v.dtype, v.hint) for v in g.inputs]
        outer.outputs = outer.add("kernel", ins, name="k", region=g,
                                  out_types=[v.type for v in g.outputs]).outputs
        return outer
    return g


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_graphs())
def test_roundtrip_random_graphs(g):
    verify(g)
    g2 = assert_roundtrip(g)
    verify(g2)


@settings(max_examples=100, deadline=None)
@given(st.text())
@example("model.py:12 in forward")
@example(" ")  # whitespace only: printed as a bare "# " comment
@example("a\n  b\tc")
def test_roundtrip_any_location(loc):
    g = Graph("g")
    x = g.add_input((2,), "f32")
    g.outputs = [g.value("neg", x, loc=loc)]
    text = print_graph(g)
    g2 = parse(text)
    assert print_graph(g2) == text
    assert g2.nodes[0].loc == (" ".join(loc.split()) or None)


@settings(max_examples=100, deadline=None)
@given(st.text())
def test_roundtrip_any_string_argument(s):
    g = Graph("g")
    x = g.add_input((2,), "f32")
    g.outputs = g.add("fallback", [x], target=s, args=(InputRef(0), s), kwargs=((s, s),),
                      out_types=[TensorType((2,), "f32")]).outputs
    g2 = assert_roundtrip(g)
    assert g2.nodes[0].attrs["args"][1] == s
