"""Golden tests at the contract: IR regions -> Kernel.text(), and the MLIR the CPU backend emits.

A change to lowering shows here as a text diff before it shows as a wrong number.
Regenerate with EXPECTTEST_ACCEPT=1 after checking the diff by eye.
"""

from __future__ import annotations

import re

import pytest
from expecttest import TestCase

from ember.codegen.lower import Layout, lower_kernel
from ember.codegen.mlir import available
from ember.ir.parser import parse


def _kernels(src: str, layouts=None):
    g = parse(src)
    (node,) = [n for n in g.nodes if n.op == "kernel"]
    lay = layouts or [Layout.contiguous(v.shape) for v in node.inputs]
    return lower_kernel(node.attrs["name"], node.region, lay)


POINTWISE = """
graph @g(%x: f32[4,8], %b: f32[8]) {
  %0: f32[8,4] = kernel(%x, %b) {name="k"} region(%i0: f32[4,8], %i1: f32[8]) {
    %0: f32[8,4] = permute(%i0) {dims=[1,0]}
    %1: f32[8,1] = unsqueeze(%i1) {axis=1}
    %2: f32[8,4] = add(%0, %1)
    %3: f32[8,4] = exp(%2)
    return %3
  }
  return %0
}
"""

MULTI = """
graph @g(%x: f32[4,16], %r: f32[4,16]) {
  %0: f32[4,1], %1: f32[4,16] = kernel(%x, %r) {name="k"} region(%i0: f32[4,16], %i1: f32[4,16]) {
    %0: f32[4,16] = add(%i0, %i1)
    %1: f32[4,16] = mul(%0, %0)
    %2: f32[4,1] = mean(%1) {axes=[1], keepdim=true}
    %3: f32[4,1] = rsqrt(%2)
    return %3, %0
  }
  return %0, %1
}
"""

CAT = """
graph @g(%x: f32[2,3], %y: f32[2,5]) {
  %0: f32[2,8] = kernel(%x, %y) {name="k"} region(%i0: f32[2,3], %i1: f32[2,5]) {
    %0: f32[2,3] = neg(%i0)
    %1: f32[2,8] = cat(%0, %i1) {axis=1}
    return %1
  }
  return %0
}
"""

CAT_READ = """
graph @g(%x: f32[2,3], %y: f32[2,5]) {
  %0: f32[2,8] = kernel(%x, %y) {name="k"} region(%i0: f32[2,3], %i1: f32[2,5]) {
    %0: f32[2,3] = neg(%i0)
    %1: f32[2,8] = cat(%0, %i1) {axis=1}
    %2: f32[2,8] = mul(%1, %1)
    return %2
  }
  return %0
}
"""

CAT_SLICED = """
graph @g(%x: f32[2,3], %y: f32[2,5]) {
  %0: f32[2,4] = kernel(%x, %y) {name="k"} region(%i0: f32[2,3], %i1: f32[2,5]) {
    %0: f32[2,8] = cat(%i0, %i1) {axis=1}
    %1: f32[2,4] = slice(%0) {axis=1, start=1, end=8, step=2}
    %2: f32[2,4] = mul(%1, %1)
    return %2
  }
  return %0
}
"""

SOFTMAX = """
graph @g(%x: f32[4,16]) {
  %0: f32[4,16] = kernel(%x) {name="k"} region(%i0: f32[4,16]) {
    %0: f32[4,1] = amax(%i0) {axes=[1], keepdim=true}
    %1: f32[4,16] = sub(%i0, %0)
    %2: f32[4,16] = exp(%1)
    %3: f32[4,1] = sum(%2) {axes=[1], keepdim=true}
    %4: f32[4,16] = div(%2, %3)
    return %4
  }
  return %0
}
"""


class TestLowering(TestCase):
    def test_staged_softmax(self):
        # the body reads each finished reduction; the root is stored at every point
        (k,) = _kernels(SOFTMAX)
        self.assertExpectedInline(k.text(), """\
kernel k domain=[4,16] num_reduce=1
  in in0: f32[64]
  out out0: f32[64]
  v0 = load() access=0+[16,1] buffer=0 : f32
  v1 = reduced() index=0 : f32
  v2 = sub(v0, v1) : f32
  v3 = exp(v2) : f32
  v4 = reduced() index=1 : f32
  v5 = div(v3, v4) : f32
  reduce max(v0) : f32
  reduce sum(v3) : f32
  store out0[0+[16,1]] = v5""")

    def test_pointwise_with_transpose_and_broadcast(self):
        (k,) = _kernels(POINTWISE)
        self.assertExpectedInline(k.text(), """\
kernel k domain=[8,4] num_reduce=0
  in in0: f32[32]
  in in1: f32[8]
  out out0: f32[32]
  v0 = load() access=0+[1,8] buffer=0 : f32
  v1 = load() access=0+[1,0] buffer=1 : f32
  v2 = add(v0, v1) : f32
  v3 = exp(v2) : f32
  store out0[0+[4,1]] = v3""")

    def test_strided_input_layout_is_an_access(self):
        # the same region reading x through a transposed layout (strides 1, 4)
        (k,) = _kernels(POINTWISE, [Layout((1, 4)), Layout((1,))])
        self.assertIn("v0 = load() access=0+[4,1] buffer=0 : f32", k.text())

    def test_reduction_with_prologue_epilogue_and_a_second_output(self):
        (k,) = _kernels(MULTI)
        self.assertExpectedInline(k.text(), """\
kernel k domain=[4,16] num_reduce=1
  in in0: f32[64]
  in in1: f32[64]
  out out0: f32[4]
  out out1: f32[64]
  v0 = load() access=0+[16,1] buffer=0 : f32
  v1 = load() access=0+[16,1] buffer=1 : f32
  v2 = add(v0, v1) : f32
  v3 = mul(v2, v2) : f32
  reduce sum(v3) : f32
  e0 = reduced() index=0 : f32
  e1 = const() value=0.0625 : f32
  e2 = mul(e0, e1) : f32
  e3 = rsqrt(e2) : f32
  store out0[0+[1]] = e3
  store out1[0+[16,1]] = v2""")
        self.assertNotIn(" k ", k.text(named=False).splitlines()[0] + " ")

    def test_cat(self):
        # a materialized cat: one copy kernel per part, into its slice
        parts = _kernels(CAT)
        self.assertEqual([p.name for p in parts], ["k_part0", "k_part1"])
        self.assertExpectedInline(parts[1].text(), """\
kernel k_part1 domain=[2,5] num_reduce=0
  in in0: f32[6]
  in in1: f32[10]
  out out0: f32[16]
  v0 = load() access=0+[5,1] buffer=1 : f32
  store out0[3+[8,1]] = v0""")

    def test_cat_in_its_reader(self):
        # read by a kernel: each part masked to its range, picked by position
        (k,) = _kernels(CAT_READ)
        self.assertExpectedInline(k.text(), """\
kernel k domain=[2,8] num_reduce=0
  in in0: f32[6]
  in in1: f32[10]
  out out0: f32[16]
  v0 = load() access=0+[3,1] buffer=0 within=((1, 0, 3),) : f32
  v1 = neg(v0) : f32
  v2 = load() access=-3+[5,1] buffer=1 within=((1, 3, 8),) : f32
  v3 = index() axis=1 : i64
  v4 = const() value=3 : i64
  v5 = lt(v3, v4) : b8
  v6 = where(v5, v1, v2) : f32
  v7 = mul(v6, v6) : f32
  store out0[0+[8,1]] = v7""")

    def test_cat_read_through_strided_slice(self):
        # padding then every other column: the part ranges are over the slice's axis
        (k,) = _kernels(CAT_SLICED)
        self.assertExpectedInline(k.text(), """\
kernel k domain=[2,4] num_reduce=0
  in in0: f32[6]
  in in1: f32[10]
  out out0: f32[8]
  v0 = load() access=1+[3,2] buffer=0 within=((1, 0, 1),) : f32
  v1 = load() access=-2+[5,2] buffer=1 within=((1, 1, 4),) : f32
  v2 = index() axis=1 : i64
  v3 = const() value=1 : i64
  v4 = lt(v2, v3) : b8
  v5 = where(v4, v0, v1) : f32
  v6 = mul(v5, v5) : f32
  store out0[0+[4,1]] = v6""")


@pytest.mark.skipif(not available()[0], reason="MLIR backend unavailable")
def test_cpu_backend_mlir_checks():
    """FileCheck-style: the MLIR of the multi-output reduction, in order: a vector
    loop that stores the prologue value and accumulates, one horizontal reduction,
    the scalar epilogue and its store."""
    from ember.codegen.backend import get_backend
    from ember.codegen.mlir.backend import choose_schedule

    b = get_backend("cpu")
    (k,) = _kernels(MULTI)
    (ck,) = b.compile([(k, choose_schedule(k, vector_bits=512, threads=1))])
    mlir = ck.artifacts["mlir"]
    checks = [r"func\.func @ember_k\(", r"scf\.for", r"scf\.for .* iter_args.*vector<16xf32>",
              r"vector\.load %arg0", r"vector\.load %arg1", r"arith\.addf .*vector<16xf32>",
              r"vector\.store .*%arg3", r"arith\.addf", r"scf\.yield",
              r"vector\.reduction <add>", r"math\.sqrt", r"memref\.store .*%arg2"]
    pos = 0
    for c in checks:
        m = re.compile(c).search(mlir, pos)
        assert m, f"CHECK {c!r} not found after offset {pos} in:\n{mlir}"
        pos = m.end()
    # scalar loops (vector width 1) accumulate float sums in f64
    (scalar,) = b.compile([(k, choose_schedule(k, vector_bits=32, threads=1))])
    assert "vector" not in scalar.artifacts["mlir"] and "f64" in scalar.artifacts["mlir"]
