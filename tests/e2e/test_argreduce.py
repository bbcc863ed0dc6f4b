"""argmax / argmin / max.dim / min.dim compiled natively (frontend/argreduce.py):
two reductions over the same rows, no fallback, against eager bit for bit (indices
with torch.equal, values with their NaNs and the sign of their zeros) on ties, NaN,
inf, signed zeros, every dim form and layout; an argmax is one staged kernel."""

from __future__ import annotations

import pytest
import torch

import ember
from tests.e2e.argreduce_cases import INF, NAN, _all_four, _data, _max_min_dim, _same

DTYPES = [torch.float32, torch.float16, torch.bfloat16, torch.int64]


def _compile_check(fn, *args, kernels: int | None = None):
    with torch.no_grad():
        want = fn(*args)
        compiled = ember.compile(fn)
        got = compiled(*args)
    want = want if isinstance(want, (tuple, list)) else (want,)
    got = got if isinstance(got, (tuple, list)) else (got,)
    assert len(got) == len(want)
    for i, (g, w) in enumerate(zip(got, want)):
        assert _same(g, w), (i, args, g, w)
    report = compiled.ember_report
    assert all(gr.eager_reason is None for gr in report.graphs), report
    assert not report.fallbacks, report.fallbacks  # native: no eager ATen op left
    assert report.kernels, report
    if kernels is not None:
        assert len(report.kernels) == kernels, report
    return report


CASES = [  # shape, dim, keepdim
    ((7, 13), 1, False), ((7, 13), 0, True), ((7, 13), -1, True), ((7, 13), None, False),
    ((7, 13), None, True), ((3, 5, 9), 1, False), ((3, 5, 9), -3, False), ((3, 5, 9), None, False),
    ((1,), 0, False), ((5, 1), 1, True), ((2, 3, 130), 2, False),
]


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("shape,dim,keepdim", CASES)
def test_against_eager(dtype, shape, dim, keepdim):
    _compile_check(_all_four(dim, keepdim), _data(shape, dtype))


# bool: max.dim/min.dim only (they need a dim; argmax of bool raises, tested below)
@pytest.mark.parametrize("shape,dim,keepdim", [c for c in CASES if c[1] is not None])
def test_bool_against_eager(shape, dim, keepdim):
    _compile_check(_max_min_dim(dim, keepdim), _data(shape, torch.bool))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.int64], ids=str)
@pytest.mark.parametrize("layout", ["transposed", "strided", "permuted"])
def test_non_contiguous_inputs(dtype, layout):
    base = _data((6, 10, 11), dtype, seed=1)
    x = {"transposed": base[0].t(), "strided": base[:, ::3, 1::2],
         "permuted": base.permute(2, 0, 1)}[layout]
    assert not x.is_contiguous()
    for dim in (None, 0, -1):
        _compile_check(_all_four(dim, False), x)
        torch._dynamo.reset()


def test_nan_positions_and_extremes():
    rows = [
        [NAN, 1.0, NAN, 2.0],        # NaN first, twice
        [1.0, 2.0, 3.0, NAN],        # NaN last
        [-INF, -INF, -INF, -INF],    # all -inf: first index both ways
        [INF, 1.0, INF, -INF],       # inf ties
        [-0.0, 0.0, -0.0, 0.0],      # signed zeros compare equal: the first wins
        [0.0, -0.0, 0.0, -0.0],
        [NAN, NAN, NAN, NAN],
        [2.0, 2.0, -5.0, -5.0],      # plain ties
    ]
    x = torch.tensor(rows)
    for dtype in (torch.float32, torch.float16, torch.bfloat16):
        for dim in (0, 1):
            _compile_check(_all_four(dim, False), x.to(dtype))
            torch._dynamo.reset()


def test_signed_zero_values_follow_the_first_index():
    # max.dim's value is x[index]: -0.0 when the first zero of the row is -0.0
    x = torch.tensor([[-0.0, 0.0], [0.0, -0.0], [-0.0, -0.0], [0.0, 0.0]])
    assert torch.max(x, 1).values.signbit().tolist() == [True, False, True, False]
    _compile_check(lambda t: (torch.max(t, 1).values, torch.min(t, 1).values,
                              torch.max(t, 0, keepdim=True).values), x)


def test_zero_dim_inputs():
    s = torch.tensor(2.5)
    _compile_check(lambda t: (t.argmax(), t.argmin(0), t.argmax(-1, keepdim=True),
                              *torch.max(t, 0), *torch.min(t, -1, keepdim=True)), s)


def test_empty_input_with_a_non_empty_reduced_dim():
    _compile_check(lambda t: (t.argmax(1), *torch.max(t, 1)), torch.empty(0, 3))


def test_empty_reduced_dim_raises_as_eager():
    x = torch.empty(3, 0)
    with pytest.raises(IndexError, match="Expected reduction dim 1 to have non-zero size"):
        x.argmax(1)
    with pytest.raises(IndexError, match="Expected reduction dim 1 to have non-zero size"):
        ember.compile(lambda t: t.argmax(1))(x)


def test_bool_argmax_raises_as_eager():
    b = torch.tensor([True, False])
    with pytest.raises(RuntimeError, match="does not support bool"):
        b.argmax()
    with pytest.raises(RuntimeError, match="does not support bool"):
        ember.compile(lambda t: t.argmax())(b)


@pytest.mark.parametrize("fn", [lambda t: t.argmax(-1), lambda t: t.argmin(-1),
                                lambda t: t.argmax(0), lambda t: t.argmax(),
                                lambda t: t.argmax(1, keepdim=True)],
                         ids=["argmax_last", "argmin_last", "argmax_dim0", "argmax_all",
                              "argmax_keepdim"])
def test_argmax_is_one_kernel(fn):
    x = torch.randn(64, 1000)
    x[3, 10] = x[3, 500] = NAN
    x[7, :] = 1.0
    _compile_check(fn, x, kernels=1)


def test_max_dim_is_the_index_kernel_and_a_gather():
    # one staged kernel over the rows (amax, then the first index), then a per-row
    # kernel gathering the value at the index
    x = torch.randn(64, 1000)
    rep = _compile_check(lambda t: torch.max(t, -1), x, kernels=2)
    assert "take_along" in rep.kernels[1].name, rep


def test_fuses_with_what_surrounds_it():
    x, y = torch.randn(16, 50), torch.randn(16, 50)
    # the score computed inside the argmax kernel; the index used by a pointwise op after
    _compile_check(lambda a, b: (torch.relu(a * b - 0.1).argmax(-1) + 1) * 2, x, y, kernels=1)


def test_argmax_of_a_new_size_recompiles_correctly():
    f = ember.compile(lambda t: (t.argmax(-1), torch.min(t, 0)))
    for n in (5, 9, 17):
        x = _data((n, n + 2), torch.float32, seed=n)
        got, want = f(x), (x.argmax(-1), torch.min(x, 0))
        assert torch.equal(got[0], want[0])
        assert _same(got[1].values, want[1].values) and torch.equal(got[1].indices,
                                                                     want[1].indices)
    assert not f.ember_report.fallbacks


@pytest.mark.parametrize("shape,dim", [((3, 100_003), -1), ((100_003, 3), 0),
                                       ((2**18 + 7,), None), ((512, 513), 0)])
def test_long_rows_vectors_and_threads(shape, dim):
    # rows over the staged-kernel cache budget (two kernels then), vector tails, and
    # enough work for the CPU backend's threads; ties and NaNs far from the start
    g = torch.Generator().manual_seed(3)
    x = torch.randint(-1000, 1000, shape, generator=g).float()
    flat = x.view(-1)
    flat[flat.numel() // 2 + 1] = NAN
    flat[-2] = NAN
    _compile_check(_all_four(dim, False), x)
    _compile_check(_all_four(dim, True), x.to(torch.int64))


def test_index_of_a_computed_value_is_that_of_embers_own_values():
    # exp/tanh may differ from eager's by an ulp, which can move a near tie; the index
    # must still be the first extreme of the values Ember computes (the same kernel
    # math in both passes over a row), never a position with no hit
    x, y = torch.randn(37, 1000), torch.randn(37, 1000)
    for g, dim in ((lambda a, b: (a * 3).exp() * b, -1), (lambda a, b: torch.tanh(a * 7 + b), 0)):
        own = ember.compile(g)(x, y)
        torch._dynamo.reset()
        got = ember.compile(lambda a, b: (*torch.max(g(a, b), dim), g(a, b).argmin()))(x, y)
        torch._dynamo.reset()
        want = torch.max(own, dim)
        assert torch.equal(got[0], want.values) and torch.equal(got[1], want.indices)
        assert torch.equal(got[2], own.argmin())
