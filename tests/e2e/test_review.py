"""Adversarial review tests: Ember vs eager on small, targeted inputs.

The first block holds the bugs a review found (each test names the cause; all
fixed); the second holds cases that were tried and held up. Both are regression
guards. The suite runs strict (tests/conftest.py), so a compile
failure raises instead of quietly running the graph eagerly.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

import ember
from ember.codegen.mlir import available

pytestmark = pytest.mark.skipif(not available()[0], reason=f"MLIR backend: {available()[1]}")


def check(fn, *args, rtol=1e-5, atol=1e-5, calls=3, min_kernels=1):
    """Compiles ``fn``, calls it ``calls`` times, compares every result with eager
    (also after the later calls, so a returned output that a later call overwrote
    is caught), and checks that nothing ran eagerly as a whole graph."""
    with torch.no_grad():
        ref = fn(*args)
        compiled = ember.compile(fn)
        outs = [compiled(*args) for _ in range(calls)]
    for out in outs:
        torch.testing.assert_close(out, ref, rtol=rtol, atol=atol, equal_nan=True)
    report = compiled.ember_report
    assert all(g.eager_reason is None for g in report.graphs), report
    assert len(report.kernels) >= min_kernels, report
    return report


def _storage(t: torch.Tensor) -> int:
    return t.untyped_storage().data_ptr()


# =====================================================================================
# Bugs found in review (fixed); kept as regression tests.
# =====================================================================================


def test_fixed_tensor_literal_constant_crashes_import():
    # A tensor literal inside the function becomes a get_attr constant; the importer
    # calls .detach() on the real tensor while aot_autograd's FakeTensorMode is active.
    def f(x):
        return x + torch.tensor([1.0, 2.0])

    check(f, torch.ones(3, 2))


def test_fixed_mul_by_one_returns_the_input_itself():
    # simplify.mul_one rewrites x * 1 to x, so the graph output *is* the input.
    x = torch.ones(3)
    with torch.no_grad():
        y = ember.compile(lambda x: x * 1)(x)
    torch.testing.assert_close(y, torch.ones(3))
    assert _storage(y) != _storage(x), "x * 1 must be a fresh tensor, not the input"
    y.add_(1)
    torch.testing.assert_close(x, torch.ones(3))


def test_fixed_div_by_one_returns_the_input_itself():
    # div_pow2 turns x / 1.0 into x * 1.0, then mul_one drops it: output is the input.
    x = torch.ones(3)
    with torch.no_grad():
        y = ember.compile(lambda x: x / 1.0)(x)
    assert _storage(y) != _storage(x), "x / 1.0 must be a fresh tensor"


def test_fixed_clone_then_view_output_aliases_the_input():
    # cast_noop drops the clone (a 'cast' to the same dtype) because the clone itself
    # is not a graph output, only a view of it is; the view then runs on the input.
    x = torch.ones(2, 3)
    with torch.no_grad():
        y = ember.compile(lambda x: x.clone().t())(x)
    torch.testing.assert_close(y, torch.ones(3, 2))
    y.add_(1)
    torch.testing.assert_close(x, torch.ones(2, 3))  # eager never touches x


def test_fixed_clone_then_reshape_output_aliases_the_input():
    x = torch.ones(6)
    with torch.no_grad():
        y = ember.compile(lambda x: x.clone().view(2, 3))(x)
    assert _storage(y) != _storage(x)


def test_fixed_two_clones_are_one_tensor():
    # cse merges the two identical clones, so both graph outputs are the same tensor.
    x = torch.ones(3)
    with torch.no_grad():
        a, b = ember.compile(lambda x: (x.clone(), x.clone()))(x)
    assert _storage(a) != _storage(b), "two clones must not share storage"
    a.add_(1)
    torch.testing.assert_close(b, torch.ones(3))


def test_fixed_pow_minus_half_of_negative_zero():
    # ATen's pow(Tensor, -0.5) is rsqrt: rsqrt(-0.0) = -inf. Ember lowers every pow to
    # libm pow, which gives pow(-0.0, -0.5) = +inf.
    check(lambda x: x ** -0.5, torch.tensor([-0.0, 4.0]))


def test_fixed_pow_half_of_negative_inf():
    # ATen's pow(Tensor, 0.5) is sqrt: sqrt(-inf) = nan; libm pow(-inf, 0.5) = +inf.
    check(lambda x: x ** 0.5, torch.tensor([float("-inf"), 4.0]))


# =====================================================================================
# Cases that hold up (regression guards).
# =====================================================================================

VIEW_CASES = {
    "t": lambda x: x.t().exp() + 1,
    "step_slice": lambda x: x[:, 1::2] * 2,
    "unsqueeze_expand": lambda x: x.unsqueeze(0).expand(3, 4, 6).exp(),
    "reshape_of_transposed": lambda x: x.t().reshape(2, 3, 4) + 1,
    "reshape_of_computed_transposed": lambda x: x.exp().t().reshape(3, 2, 4) + 1,
    "narrow": lambda x: x.narrow(1, 2, 3).sin(),
    "select": lambda x: x.select(1, 2).sin() + x[0, 0],
    "chain_on_computed": lambda x: x.exp()[:, 1::2].t().unsqueeze(0).expand(2, 3, 4) * 2,
    "chain_on_input": lambda x: x[1:, 1::2].t().unsqueeze(1).expand(3, 2, 3) * 2,
    "reshape_unit_dims": lambda x: (x * 2).reshape(1, 4, 1, 6, 1) + 1,
    "unsqueeze_reshape": lambda x: (x * 2).unsqueeze(1).reshape(2, 2, 1, 6) + 1,
    "slice_past_end": lambda x: x.cos()[3:100, 10:] + 1,
    "empty_slice": lambda x: x.cos()[3:1] + 1,
    "strided_slices": lambda x: x.cos()[1:4:2, 1:6:3],
}


@pytest.mark.parametrize("name", sorted(VIEW_CASES))
def test_ok_views(name):
    check(VIEW_CASES[name], torch.randn(4, 6))


def test_ok_views_4d_permute_reshape_split():
    check(lambda x: x.sin().permute(3, 1, 0, 2).reshape(5, 3, 2, 2, 2) + 1, torch.randn(2, 3, 4, 5))


@pytest.mark.parametrize("kind", ["transposed", "sliced", "expanded"])
def test_ok_strided_inputs(kind):
    x = {"transposed": torch.randn(6, 4).t(), "sliced": torch.randn(5, 8)[1:, 2:],
         "expanded": torch.randn(6).expand(4, 6)}[kind]
    check(lambda x: x.exp() + 1, x)
    check(lambda x: x.sum(0) * 2, x)


RED_CASES = {
    "sum_nontrailing_keep": lambda x: x.sum(0, keepdim=True) * 2,
    "sum_nonadjacent": lambda x: x.sum((0, 2)),
    "amax_nonadjacent_keep": lambda x: x.amax((0, 2), keepdim=True) - 1,
    "rms_epilogue": lambda x: torch.rsqrt(x.pow(2).mean((1, 3), keepdim=True) + 1e-5),
    "rmsnorm": lambda x: x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6),
    "all": lambda x: x.sum(),
    "all_keep": lambda x: x.mean((0, 1, 2, 3), keepdim=True),
    "of_transposed": lambda x: x.transpose(1, 3).sum(1),
    "of_step_slice": lambda x: x[:, :, ::2].sum(0),
    "of_expand": lambda x: x.unsqueeze(1).expand(2, 5, 3, 4, 5).sum((0, 1)),
    "of_reshape_split": lambda x: x.reshape(2, 3, 2, 2, 5).sum((1, 3)),
    "bool_sum": lambda x: (x > 0).sum((0, 2)),
    "used_in_and_out": lambda x: (x - x.mean(1, keepdim=True), x.mean(1, keepdim=True) * 2),
    "output_and_consumed": lambda x: (lambda s: (x - s, s))(x.sum(0)),
    "softmax_dim0": lambda x: torch.softmax(x, 0),
    "log_softmax_dim1": lambda x: torch.log_softmax(x, 1),
    "layer_norm": lambda x: F.layer_norm(x, (4, 5)),
    "var": lambda x: x.var((0, 2)),
    "var_mean": lambda x: torch.var_mean(x, 1, keepdim=True),
    "std": lambda x: x.std(-1),
    "epilogue_reads_transpose": lambda x: (lambda t: t.t() + t)(x[0, 0].sum(-1, keepdim=True)
                                                                 .expand(4, 4) + 1),
}


@pytest.mark.parametrize("name", sorted(RED_CASES))
def test_ok_reductions(name):
    check(RED_CASES[name], torch.randn(2, 3, 4, 5), atol=1e-4, rtol=1e-4)


def test_ok_reduction_epilogue_transposed_square():
    def f(x):
        t = x.sum(-1) + 1
        return t.t() + t

    check(f, torch.randn(4, 4, 8), atol=1e-5, rtol=1e-5)


def test_ok_reduction_edge_sizes_and_values():
    nan, inf = float("nan"), float("inf")
    check(lambda x: x.amax(1), torch.tensor([[1.0, nan, 2.0], [inf, 0.0, -1.0]]))
    check(lambda x: x.amin(0), torch.tensor([[1.0, -inf, 2.0], [inf, 0.0, -1.0]]))
    check(lambda x: x.sum(1) + 1, torch.randn(3, 0))
    check(lambda x: x.mean(1), torch.randn(3, 1))
    check(lambda x: x.sum() + x, torch.tensor(3.0))
    check(lambda x: x.sum(0), torch.randint(-5, 5, (4, 6), dtype=torch.int32))
    check(lambda x: x.sum(), torch.tensor([200, 200, 3], dtype=torch.uint8))
    check(lambda x: x.prod(0), torch.randint(-3, 4, (4, 6)))
    check(lambda x: (x > 0).amax(1), torch.randn(4, 6))


DTYPE_CASES = {
    "int_times_float_scalar": (lambda x: x * 1.5, "i"),
    "int_true_div": (lambda x: x / (x.abs() + 1), "i"),
    "int_div_2": (lambda x: x / 2, "i"),
    "one_over_int": (lambda x: 1 / x, "i"),
    "bool_add": (lambda x: (x > 0) + (x > 1), "f"),
    "bool_times_2": (lambda x: (x > 0) * 2, "f"),
    "where_scalars": (lambda x: torch.where(x > 0, 1.0, -2), "f"),
    "where_int_and_float_scalar": (lambda x: torch.where(x > 0, x, 0.5), "i"),
    "clamp_int_bounds_on_float": (lambda x: x.clamp(-1, 1), "f"),
    "clamp_float_bounds_on_int": (lambda x: x.clamp(-1.5, 1.5), "i"),
    "pow3": (lambda x: x ** 3, "f"),
    "pow_minus1": (lambda x: x ** -1, "f"),
    "sqrt_pow": (lambda x: x.abs() ** 0.5, "f"),
    "scalar_pow": (lambda x: 2 ** x, "f"),
    "float_to_int": (lambda x: (x * 10).to(torch.int32), "f"),
    "float_to_u8": (lambda x: (x * 10).to(torch.uint8), "f"),
    "sigmoid_of_int": (lambda x: torch.sigmoid(x), "i"),
    "int_pow2_fallback": (lambda x: x ** 2, "i"),
}


@pytest.mark.parametrize("name", sorted(DTYPE_CASES))
def test_ok_dtype_promotion(name):
    fn, kind = DTYPE_CASES[name]
    x = torch.randint(-5, 6, (3, 5), dtype=torch.int32) if kind == "i" else torch.randn(3, 5)
    check(fn, x, min_kernels=0)


def test_ok_mixed_precision_and_0d():
    xh = torch.randn(3, 5, dtype=torch.float16)
    check(lambda a, b: a + b, xh, torch.randn(3, 5))
    check(lambda x: x.sum(1), xh, atol=1e-2, rtol=1e-2)
    check(lambda x: x.bfloat16().mean(1), torch.randn(3, 5), atol=1e-2, rtol=1e-2)
    check(lambda a, b: a < b, torch.randint(-3, 3, (3, 5)), torch.randn(3, 5))
    check(lambda a, b: a * b, torch.tensor(2.5, dtype=torch.float64), torch.arange(3))
    check(lambda a, b: a * b, torch.tensor(2), torch.randn(3))


def test_ok_broadcasting():
    check(lambda c, a, b: torch.where(c > 0, a, b), torch.randn(4, 1), torch.randn(6),
          torch.tensor(2.0))
    check(lambda a, b, c: a + b * c, torch.randn(2, 3, 4), torch.randn(4), torch.randn(3, 1))
    check(lambda a, b: a * b - a, torch.randn(1, 5), torch.randn(5, 1))


def test_ok_binary_special_values():
    v = torch.tensor([0.0, -0.0, 1.0, -1.0, 2.0, -2.0, 0.5, float("inf"), float("-inf"),
                      float("nan")])
    a, b = v.repeat_interleave(len(v)), v.repeat(len(v))
    for op in (torch.add, torch.div, torch.pow, torch.maximum, torch.minimum, torch.ne, torch.le):
        check((lambda op: lambda x, y: op(x, y))(op), a, b)


CAT_CASES = {
    "mixed_dtypes": (lambda a, b: torch.cat([a, b.int()], 1), (4, 6), (4, 6)),
    "axis0_strided": (lambda a, b: torch.cat([a.t(), b[:, ::2]], 0), (3, 4), (2, 6)),
    "expanded": (lambda a, b: torch.cat([a.expand(3, 4), b], 0), (1, 4), (2, 4)),
    "computed": (lambda a, b: torch.cat([a.exp(), b.sum(1, keepdim=True).expand(4, 2)], 1) * 2,
                 (4, 6), (4, 6)),
    "empty_1d": (lambda a, b: torch.cat([a, b]), (3,), (0,)),
    "neg_dim": (lambda a, b: torch.cat([a, b], -2) + 1, (2, 3, 4), (2, 1, 4)),
    "then_reduce": (lambda a, b: torch.cat([a, b], 0).sum(0), (4, 6), (4, 6)),
    "split": (lambda a, b: [t * 2 for t in a.split(4, 1)] + [b], (3, 10), (1,)),
    "chunk": (lambda a, b: [t.exp() for t in a.chunk(3, 0)] + [b], (7, 2), (1,)),
    "stack": (lambda a, b: torch.stack([a, b], 1) + 1, (4, 6), (4, 6)),
}


@pytest.mark.parametrize("name", sorted(CAT_CASES))
def test_ok_cat_split(name):
    fn, sa, sb = CAT_CASES[name]
    # cat with an empty 1-d tensor is a copy of the other input: no kernel needed
    check(fn, torch.randn(*sa), torch.randn(*sb), min_kernels=0 if name == "empty_1d" else 1)


def test_ok_buffer_reuse_chain_with_fallbacks_and_views():
    # Kernels of one size separated by library steps (cummax); some intermediates are returned
    # or viewed, so their buffers must not be reused.
    def f(x):
        a = x.exp()
        b = torch.cummax(a, 1).values
        c = (b * 2).sin()
        d = torch.cummax(c, 1).values
        e = (d + 1).cos()
        g = torch.cummax(e, 1).values
        return (g - 1).tanh(), c.t()

    report = check(f, torch.randn(6, 6))
    assert any("reuses a dead buffer" in name for _, name in report.graphs[0].steps)

    def g(x):
        s = x.sum(0)
        v = s.reshape(2, 3)  # a runtime view of a kernel output, returned
        # well-conditioned on purpose: exp/sin of large sums amplify rounding
        b = torch.cummax(x, 1).values.sum(0).tanh()
        c = torch.cummax(b, 0).values * 0.5
        return torch.cummax(c, 0).values.cos(), v

    check(g, torch.randn(6, 6), rtol=1e-4, atol=1e-4)

    def h(x):
        s = x.sum(1)
        v = s.as_strided((3,), (2,))  # a runtime view aliasing a kernel output
        d = torch.cummax(x, 1).values.amax(1)
        # well-conditioned: sin of a cumsum of exp(2d) amplifies a 1-ulp exp difference
        e = (d * 0.5).tanh()
        return v, torch.cummax(e, 0).values.sin()

    check(h, torch.randn(6, 6))


def test_ok_sources_and_input_mutation():
    check(lambda a: (torch.zeros(2, 3), a + 1), torch.randn(4, 6))
    check(lambda a: torch.arange(0, 1, 0.1) + a[0, 0], torch.randn(4, 6))
    check(lambda a: torch.ones_like(a.t()) + a.t(), torch.randn(4, 6))

    def mut(x):
        x.mul_(2)
        return x + 1

    a = torch.randn(3)
    b = a.clone()
    with torch.no_grad():
        out = ember.compile(mut)(a)
    torch.testing.assert_close(out, mut(b))
    torch.testing.assert_close(a, b)


def test_ok_fusion_sharing_and_matmul_chains():
    x, w = torch.randn(4, 8), torch.randn(8, 8)

    def gelu_ln(x, w):
        h = F.gelu(x @ w)
        return F.layer_norm(h, (8,)), h.t()

    check(gelu_ln, x, w, atol=1e-4, rtol=1e-4)

    def shared_exp(x):  # one exp feeding four kernels (computed once)
        e = x.exp()
        return e.sum(0), e.amax(1), (e * 2).t(), e[:, ::2].mean(1)

    check(shared_exp, x, atol=1e-4, rtol=1e-4)

    def attn(q, k, v):
        return torch.softmax((q @ k.transpose(-1, -2)) / 8 ** 0.5, -1) @ v

    q = torch.randn(2, 5, 8)
    check(attn, q, q * 2, q * 3, atol=1e-4, rtol=1e-4)
    check(lambda x: (lambda m: ((x - m).exp(), m * 2, m.t()))(x.amax(1, keepdim=True)), x)
    check(lambda x, b: torch.sqrt(x.sum(1) ** 2 + 1) + b, x, torch.randn(3, 4), atol=1e-4)
    check(lambda x: (x.sum(1, keepdim=True) + 1).squeeze(1) * torch.arange(4), x, atol=1e-4)
    check(lambda x: x.sum(1).amax(0) + x.mean(), x, atol=1e-4)
