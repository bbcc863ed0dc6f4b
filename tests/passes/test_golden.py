"""Golden text tests for passes: input IR -> expected IR.

Expected outputs are inline; after an intended change to a pass, regenerate them
with ``EXPECTTEST_ACCEPT=1 pytest tests/passes`` and review the diff.
"""

from __future__ import annotations

import expecttest

from ember.ir import parse, print_graph, verify
from ember.passes import PassContext, PassManager


def run(text: str, *passes: str, **options) -> str:
    g = parse(text)
    out = PassManager(list(passes), debug=True).run(g, PassContext(options=options))
    verify(out)
    return print_graph(out)


class TestSimplify(expecttest.TestCase):
    def test_algebraic_identities(self):
        src = """
graph @g(%x: f32[4,8]) {
  %0: f32[] = full() {shape=[], value=1.0, dtype=f32}
  %1: f32[4,8] = mul(%x, %0)
  %2: f32[] = full() {shape=[], value=2.0, dtype=f32}
  %3: f32[4,8] = pow(%1, %2)
  %4: f32[] = full() {shape=[], value=4.0, dtype=f32}
  %5: f32[4,8] = div(%3, %4)
  %6: f32[4,8] = cast(%5) {dtype=f32}
  %7: f32[4,8] = neg(%6)
  return %7
}
"""
        # x*1 -> x; pow(x, 2) -> x*x; x/4 -> x*0.25 (exact); cast to the same dtype -> x
        self.assertExpectedInline(run(src, "simplify", "dce"), """\
graph @g(%x: f32[4,8]) {
  %0: f32[4,8] = mul(%x, %x)
  %1: f32[] = full() {shape=[], value=0.25, dtype=f32}
  %2: f32[4,8] = mul(%0, %1)
  %3: f32[4,8] = neg(%2)
  return %3
}
""")

    def test_division_by_non_power_of_two_is_kept(self):
        src = """
graph @g(%x: f32[4]) {
  %0: f32[] = full() {shape=[], value=3.0, dtype=f32}
  %1: f32[4] = div(%x, %0)
  return %1
}
"""
        self.assertExpectedInline(run(src, "simplify"), """\
graph @g(%x: f32[4]) {
  %0: f32[] = full() {shape=[], value=3.0, dtype=f32}
  %1: f32[4] = div(%x, %0)
  return %1
}
""")

    def test_constant_folding(self):
        src = """
graph @g(%x: f32[4]) {
  %0: f32[] = full() {shape=[], value=2.0, dtype=f32}
  %1: f32[] = full() {shape=[], value=3.0, dtype=f32}
  %2: f32[] = add(%0, %1)
  %3: f32[] = sqrt(%2)
  %4: f32[4] = add(%x, %3)
  return %4
}
"""
        self.assertExpectedInline(run(src, "simplify", "dce"), """\
graph @g(%x: f32[4]) {
  %0: f32[] = full() {shape=[], value=2.2360680103302, dtype=f32}
  %1: f32[4] = add(%x, %0)
  return %1
}
""")

    def test_views_compose_and_identity_casts_go(self):
        src = """
graph @g(%x: f32[2,3,4]) {
  %0: f32[3,4,2] = permute(%x) {dims=[1, 2, 0]}
  %1: f32[2,3,4] = permute(%0) {dims=[2, 0, 1]}
  %2: f32[6,4] = reshape(%1) {shape=[6, 4]}
  %3: f32[24] = reshape(%2) {shape=[24]}
  %4: f32[2,3,4] = cast(%x) {dtype=f32}
  return %3, %4
}
"""
        # permute(permute) is the identity; reshape(reshape) is one reshape; the
        # identity cast goes (the compiler copies an output that now aliases an
        # input: see test_outputs_never_alias_what_eager_keeps_apart).
        self.assertExpectedInline(run(src, "simplify", "dce"), """\
graph @g(%x: f32[2,3,4]) {
  %0: f32[24] = reshape(%x) {shape=[24]}
  return %0, %x
}
""")


class TestCseDce(expecttest.TestCase):
    def test_cse_merges_identical_ops_and_dce_drops_dead_ones(self):
        src = """
graph @g(%x: f32[4]) {
  %0: f32[4] = exp(%x)
  %1: f32[4] = exp(%x)
  %2: f32[4] = add(%0, %1)
  %3: f32[4] = tanh(%x)
  %4: f32[4], %5: i64[4] = fallback(%x) {target="aten.sort.default", args=[$0], kwargs=[]}
  return %2
}
"""
        self.assertExpectedInline(run(src, "cse", "dce"), """\
graph @g(%x: f32[4]) {
  %0: f32[4] = exp(%x)
  %1: f32[4] = add(%0, %0)
  return %1
}
""")

    def test_cse_never_merges_fallbacks(self):
        # Two identical aten.rand calls draw different numbers.
        src = """
graph @g(%x: f32[4]) {
  %0: f32[4] = fallback(%x) {target="aten.rand_like.default", args=[$0], kwargs=[]}
  %1: f32[4] = fallback(%x) {target="aten.rand_like.default", args=[$0], kwargs=[]}
  %2: f32[4] = add(%0, %1)
  return %2
}
"""
        self.assertEqual(run(src, "cse", "dce"), print_graph(parse(src)))

    def test_cse_keeps_different_attributes_apart(self):
        src = """
graph @g(%x: f32[4,4]) {
  %0: f32[4] = sum(%x) {axes=[0], keepdim=false}
  %1: f32[4] = sum(%x) {axes=[1], keepdim=false}
  %2: f32[4] = add(%0, %1)
  return %2
}
"""
        self.assertEqual(run(src, "cse"), print_graph(parse(src)))


class TestPartition(expecttest.TestCase):
    def test_forced_fallback_ops(self):
        src = """
graph @g(%x: f32[4]) {
  %0: f32[4] = erf(%x)
  %1: f32[4] = exp(%0)
  return %1
}
"""
        self.assertExpectedInline(run(src, "partition", fallback_ops=("erf",)), """\
graph @g(%x: f32[4]) {
  %0: f32[4] = eager(%x) {of="erf", attrs=[]}
  %1: f32[4] = exp(%0)
  return %1
}
""")


class TestFusion(expecttest.TestCase):
    SOFTMAX = """
graph @softmax(%x: f32[4,16]) {
  %0: f32[4,1] = amax(%x) {axes=[1], keepdim=true}
  %1: f32[4,16] = sub(%x, %0)
  %2: f32[4,16] = exp(%1)
  %3: f32[4,1] = sum(%2) {axes=[1], keepdim=true}
  %4: f32[4,16] = div(%2, %3)
  return %4
}
"""

    def test_softmax_is_one_staged_kernel(self):
        # max, sum of exp and normalize: three passes over each row, one kernel
        self.assertExpectedInline(run(self.SOFTMAX, "fusion"), """\
graph @softmax(%x: f32[4,16]) {
  %0: f32[4,16] = kernel(%x) {name="k0_amax_sub_exp_sum"} region(%i0: f32[4,16]) {
    %0: f32[4,1] = amax(%i0) {axes=[1], keepdim=true}
    %1: f32[4,16] = sub(%i0, %0)
    %2: f32[4,16] = exp(%1)
    %3: f32[4,1] = sum(%2) {axes=[1], keepdim=true}
    %4: f32[4,16] = div(%2, %3)
    return %4
  }
  return %0
}
""")

    RSTD = """
graph @rstd(%x: f32[4,16], %y: f32[4,16]) {
  %0: f32[4,1] = mean(%x) {axes=[1], keepdim=true}
  %1: f32[] = full() {shape=[], value=1e-05, dtype=f32}
  %2: f32[4,1] = add(%0, %1)
  %3: f32[4,1] = rsqrt(%2)
  %4: f32[4,16] = mul(%y, %3)
  return RETURN
}
"""

    def test_reduction_takes_its_epilogue_chain(self):
        src = self.RSTD.replace("RETURN", "%4, %3")
        # mean + eps + rsqrt are one kernel (prologue-reduction-epilogue); the broadcast
        # multiply is the second (rstd is an output, so it is materialized anyway).
        self.assertExpectedInline(run(src, "fusion"), """\
graph @rstd(%x: f32[4,16], %y: f32[4,16]) {
  %0: f32[4,1] = kernel(%x) {name="k0_mean_add_rsqrt"} region(%i0: f32[4,16]) {
    %0: f32[4,1] = mean(%i0) {axes=[1], keepdim=true}
    %1: f32[] = full() {shape=[], value=1e-05, dtype=f32}
    %2: f32[4,1] = add(%0, %1)
    %3: f32[4,1] = rsqrt(%2)
    return %3
  }
  %1: f32[4,16] = kernel(%0, %y) {name="k1_mul"} region(%i0: f32[4,1], %i1: f32[4,16]) {
    %0: f32[4,16] = mul(%i1, %i0)
    return %0
  }
  return %1, %0
}
""")

    def test_reduction_read_along_the_rows_it_reduces_joins_the_reader(self):
        src = self.RSTD.replace("RETURN", "%4")
        # a staged kernel: pass 1 reduces x's row, pass 2 scales y's row by the result
        self.assertExpectedInline(run(src, "fusion"), """\
graph @rstd(%x: f32[4,16], %y: f32[4,16]) {
  %0: f32[4,16] = kernel(%y, %x) {name="k0_mean_add_rsqrt_mul"} region(%i0: f32[4,16], %i1: f32[4,16]) {
    %0: f32[4,1] = mean(%i1) {axes=[1], keepdim=true}
    %1: f32[] = full() {shape=[], value=1e-05, dtype=f32}
    %2: f32[4,1] = add(%0, %1)
    %3: f32[4,1] = rsqrt(%2)
    %4: f32[4,16] = mul(%i0, %3)
    return %4
  }
  return %0
}
""")

    def test_matmul_and_merging_reshape_are_boundaries_permute_is_inlined(self):
        src = """
graph @g(%a: f32[2,3,4], %w: f32[4,5], %b: f32[5]) {
  %0: f32[2,3,4] = exp(%a)
  %1: f32[6,4] = reshape(%0) {shape=[6, 4]}
  %2: f32[6,5] = mm(%1, %w)
  %3: f32[6,5] = add(%2, %b)
  %4: f32[5,6] = permute(%3) {dims=[1, 0]}
  %5: f32[5,6] = tanh(%4)
  return %5
}
"""
        self.assertExpectedInline(run(src, "fusion"), """\
graph @g(%a: f32[2,3,4], %w: f32[4,5], %b: f32[5]) {
  %0: f32[2,3,4] = kernel(%a) {name="k0_exp"} region(%i0: f32[2,3,4]) {
    %0: f32[2,3,4] = exp(%i0)
    return %0
  }
  %1: f32[6,4] = reshape(%0) {shape=[6, 4]}
  %2: f32[6,5] = mm(%1, %w)
  %3: f32[5,6] = kernel(%b, %2) {name="k1_add_tanh"} region(%i0: f32[5], %i1: f32[6,5]) {
    %0: f32[6,5] = add(%i1, %i0)
    %1: f32[5,6] = permute(%0) {dims=[1, 0]}
    %2: f32[5,6] = tanh(%1)
    return %2
  }
  return %3
}
""")

    def test_cat_fuses_its_producers(self):
        src = """
graph @g(%x: f32[2,3], %y: f32[2,5]) {
  %0: f32[2,3] = exp(%x)
  %1: f32[2,5] = neg(%y)
  %2: f32[2,8] = cat(%0, %1) {axis=1}
  return %2
}
"""
        self.assertExpectedInline(run(src, "fusion"), """\
graph @g(%x: f32[2,3], %y: f32[2,5]) {
  %0: f32[2,8] = kernel(%y, %x) {name="k0_exp_neg_cat"} region(%i0: f32[2,5], %i1: f32[2,3]) {
    %0: f32[2,3] = exp(%i1)
    %1: f32[2,5] = neg(%i0)
    %2: f32[2,8] = cat(%0, %1) {axis=1}
    return %2
  }
  return %0
}
""")

    def test_value_used_outside_is_materialized_once(self):
        src = """
graph @g(%x: f32[8]) {
  %0: f32[8] = exp(%x)
  %1: f32[8] = add(%0, %0)
  return %0, %1
}
"""
        self.assertExpectedInline(run(src, "fusion"), """\
graph @g(%x: f32[8]) {
  %0: f32[8] = kernel(%x) {name="k0_exp"} region(%i0: f32[8]) {
    %0: f32[8] = exp(%i0)
    return %0
  }
  %1: f32[8] = kernel(%0) {name="k1_add"} region(%i0: f32[8]) {
    %0: f32[8] = add(%i0, %i0)
    return %0
  }
  return %0, %1
}
""")

    def test_residual_add_is_stored_by_the_reduction_that_reads_it(self):
        # h = x + r is a graph output and RMSNorm reduces it: one staged kernel
        # computes h, stores it and reduces it (first pass), then normalizes (second).
        src = """
graph @g(%x: f32[4,16], %r: f32[4,16]) {
  %0: f32[4,16] = add(%x, %r)
  %1: f32[4,16] = mul(%0, %0)
  %2: f32[4,1] = mean(%1) {axes=[1], keepdim=true}
  %3: f32[4,1] = rsqrt(%2)
  %4: f32[4,16] = mul(%0, %3)
  return %0, %4
}
"""
        self.assertExpectedInline(run(src, "fusion"), """\
graph @g(%x: f32[4,16], %r: f32[4,16]) {
  %0: f32[4,16], %1: f32[4,16] = kernel(%r, %x) {name="k0_add_mul_mean_rsqrt"} region(%i0: f32[4,16], %i1: f32[4,16]) {
    %0: f32[4,16] = add(%i1, %i0)
    %1: f32[4,16] = mul(%0, %0)
    %2: f32[4,1] = mean(%1) {axes=[1], keepdim=true}
    %3: f32[4,1] = rsqrt(%2)
    %4: f32[4,16] = mul(%0, %3)
    return %4, %0
  }
  return %1, %0
}
""")

    def test_refused_fusions_are_recorded_with_both_sides(self):
        from ember.ir.parser import parse
        from ember.passes import PassContext, PassManager

        ctx = PassContext()
        PassManager(["fusion"]).run(parse(self.GELU_LAYER_NORM), ctx)
        self.assertIn(("mean", "mul", "not merged into one staged kernel: it would compute "
                                      "erf in 3 passes over each row"), ctx.why_not_fused)
        # refusals that a later merge overturned are not listed
        ctx = PassContext()
        PassManager(["fusion"]).run(parse(self.SOFTMAX), ctx)
        self.assertEqual(ctx.why_not_fused, [])

    GELU_LAYER_NORM = """
graph @g(%x: f32[4,16]) {
  %0: f32[] = full() {shape=[], value=0.7071067811865476, dtype=f32}
  %1: f32[4,16] = mul(%x, %0)
  %2: f32[4,16] = erf(%1)
  %3: f32[4,16] = mul(%x, %2)
  %4: f32[4,1] = mean(%3) {axes=[1], keepdim=true}
  %5: f32[4,16] = sub(%3, %4)
  %6: f32[4,16] = mul(%5, %5)
  %7: f32[4,1] = mean(%6) {axes=[1], keepdim=true}
  %8: f32[4,1] = rsqrt(%7)
  %9: f32[4,16] = mul(%5, %8)
  return %9
}
"""

    def test_expensive_producer_shared_by_three_kernels_is_computed_once(self):
        # GELU (erf) feeding layer norm's three passes: computed once, not three times
        out = run(self.GELU_LAYER_NORM, "fusion")
        self.assertEqual(out.count(" erf("), 1, out)
        # ... inside the mean kernel, which stores it as a second output; variance
        # and normalization are one staged kernel reading it
        self.assertEqual(out.count("= kernel("), 2, out)
        self.assertIn("%0: f32[4,1], %1: f32[4,16] = kernel(%x)", out)
        # softmax's exp feeds two passes of one staged kernel
        softmax = run(TestFusion.SOFTMAX, "fusion")
        self.assertEqual(softmax.count("= kernel("), 1)
        self.assertEqual(softmax.count(" exp("), 1)


def test_reshape_is_affine():
    from ember.passes.fusion import reshape_is_affine

    assert reshape_is_affine((6, 4), (2, 3, 4))  # a split
    assert reshape_is_affine((2, 3), (1, 2, 1, 3))  # unit dims only
    assert not reshape_is_affine((2, 3, 4), (6, 4))  # a merge needs div/mod
    assert not reshape_is_affine((4, 6), (6, 4))
    assert not reshape_is_affine((0, 5), (5, 0))
