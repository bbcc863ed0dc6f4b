"""The scatter family (``frontend/scatter.py``): user-level scatters, index_put
(``x[idx] = v``, ``x[idx] += v`` with accumulate), index_add/copy/fill/reduce, put,
masked_scatter and the ``*_scatter`` view ops compiled with Ember against eager, bit
for bit (duplicate indices overwrite or accumulate in eager's order), with no fallback
node: scatter kernels (``ir/scatter.py``; ``SCATTER`` below) where the op fits one,
else ATen's kernel as a library step (``ir/library_scatter.py``). An index out of
range raises eager's error; in-place forms mutate the caller's tensor as eager does."""

from __future__ import annotations

import pytest
import torch

import ember

from .test_library_linalg import _x, assert_native, run, steps

SCATTER = "a scatter kernel"

IDX = torch.tensor([[0, 2, 1], [2, 2, 0], [1, 0, 2], [0, 0, 0]])  # duplicates
ROWS = torch.tensor([3, 0, 3, 1, 3])

CASES = {
    "scatter-then-kernel": (lambda x, i, s: torch.scatter(x * 2, 0, i, s.exp()) + 1,
                            (_x(3, 3), IDX, _x(4, 3, seed=1)), (SCATTER,)),
    "scatter-value-dim1": (lambda x, i: x.scatter(1, i, -3.0), (_x(4, 5), IDX),
                           (SCATTER,)),
    "scatter-add-duplicates": (lambda x, i, s: torch.scatter_add(x, 0, i, s),
                               (_x(3, 3), IDX, _x(4, 3, seed=1) * 1e4), (SCATTER,)),
    "scatter-reduce-amax": (lambda x, i, s: x.scatter_reduce(0, i, s, "amax",
                                                             include_self=False),
                            (_x(3, 3), IDX, _x(4, 3, seed=1)), ("scatter_reduce",)),
    "scatter-reduce-mean-int": (lambda x, i, s: x.scatter_reduce(1, i, s, "mean"),
                                ((_x(4, 3) * 9).long(), IDX, (_x(4, 3, seed=2) * 9).long()),
                                ("scatter_reduce",)),
    "index-add-alpha": (lambda x, i, s: x.index_add(0, i, s, alpha=0.5) - x,
                        (_x(4, 6), ROWS, _x(5, 6, seed=1)), ("index_add",)),
    "index-copy": (lambda x, s: x.index_copy(1, torch.tensor([4, 0]), s),
                   (_x(3, 5), _x(3, 2, seed=1)), (SCATTER,)),
    "index-fill": (lambda x: x.index_fill(0, torch.tensor([1, 1, 3]), float("nan")),
                   (_x(4, 2),), (SCATTER,)),
    "index-reduce-prod": (lambda x, i, s: x.index_reduce(0, i, s, "prod"),
                          (_x(4, 3), ROWS, _x(5, 3, seed=1)), ("index_reduce",)),
    "put-accumulate": (lambda x, i, s: x.put(i, s, accumulate=True),
                       (_x(3, 4), torch.tensor([11, 0, 11, -1]), _x(4, seed=1)), ("put",)),
    "masked-scatter": (lambda x, s: x.masked_scatter(x > 0, s), (_x(4, 5), _x(20, seed=1)),
                       ("masked_scatter",)),
    "diagonal-scatter": (lambda x, s: torch.diagonal_scatter(x, s * 3, 1),
                         (_x(4, 5), _x(4, seed=1)), ("diagonal_scatter",)),
    "index-put-accumulate": (lambda x, i, v: torch.index_put(x, (i,), v, accumulate=True),
                             (_x(4, 3), ROWS, _x(5, 3, seed=1) * 1e3), (SCATTER,)),
    "index-put-second-dim": (lambda x, v: torch.ops.aten.index_put(
        x, [None, torch.tensor([2, 0])], v), (_x(3, 4), _x(3, 2, seed=1)), (SCATTER,)),
}


def assert_ran(report, expected) -> None:
    """No fallback; a scatter kernel and no library step, or the library steps named."""
    if expected == (SCATTER,):
        assert_native(report)
        ran = steps(report)
        assert not [n for k, n in ran if k == "library"], ran
        assert any("scatter" in k.name for k in report.kernels), report.kernels
    else:
        assert_native(report, *expected)


CASES.update({
    "index-add-alpha-one-rows": (lambda x, i, s: x.index_add(0, i, s) * 2,
                                 (_x(6, 37), torch.tensor([5, 0, 5, 2, 5, 5, 1]),
                                  _x(7, 37, seed=1) * 1e3), (SCATTER,)),
    "index-put-negative-wraps": (lambda x, v: torch.index_put(x, (torch.tensor([-1, 0, -1]),),
                                                              v, accumulate=True),
                                 (_x(3, 4), _x(3, 4, seed=1)), (SCATTER,)),
    "scatter-add-half": (lambda x, i, s: torch.scatter_add(x, 1, i, s),
                         (_x(3, 5, dtype=torch.float16), IDX[:3],
                          _x(3, 3, dtype=torch.float16, seed=1)), (SCATTER,)),
    "scatter-add-int-and-bool": (lambda x, i, s, b: (torch.scatter_add(x, 0, i, s),
                                                     torch.scatter_add(b, 0, i, b[:4])),
                                 ((_x(3, 3) * 9).int(), IDX, (_x(4, 3, seed=1) * 9).int(),
                                  _x(5, 3, seed=2) > 0), (SCATTER,)),
    # f16/bf16: eager's scatter_add and index_add sum in f32 and round once, its
    # index_put rounds at every addition
    "reduced-precision-sums": (
        lambda x, i, s: (torch.scatter_add(x, 0, i[:, None].expand(40, 7), s),
                         x.index_add(0, i, s), torch.index_put(x, (i,), s, accumulate=True),
                         x.half().index_add(0, i, s.half())),
        (_x(3, 7, dtype=torch.bfloat16), torch.randint(0, 3, (40,), generator=torch.Generator(
        ).manual_seed(0)), _x(40, 7, dtype=torch.bfloat16, seed=1) * 100), (SCATTER,)),
    "index-fill-tensor-value-cast": (lambda x, v: x.long().index_fill(1, torch.tensor([0, -1]), v),
                                     (_x(3, 4), torch.tensor(2.5)), (SCATTER,)),
    "scatter-reduce-sum": (lambda x, i, s: x.scatter_reduce(0, i, s, "sum"),
                           (_x(3, 3), IDX, _x(4, 3, seed=1)), (SCATTER,)),
    "index-add-alpha-two-is-a-library-step": (lambda x, i, s: x.index_add(0, i, s, alpha=2),
                                              (_x(4, 6), ROWS, _x(5, 6, seed=1)),
                                              ("index_add",)),
    "index-put-two-indices-is-a-library-step": (
        lambda x, v: torch.index_put(x, (torch.tensor([0, 2]), torch.tensor([1, 1])), v,
                                     accumulate=True), (_x(3, 4), _x(2, seed=1)),
        ("index_put",)),
})


@pytest.mark.parametrize("name", list(CASES))
def test_scatter_steps_match_eager_bitwise(name):
    fn, args, expected = CASES[name]
    assert_ran(run(fn, *args), expected)


@pytest.mark.parametrize("fn,exc", [
    (lambda x, i: torch.scatter(x, 0, i, 1.0), RuntimeError),
    (lambda x, i: x.index_add(0, i[0], x[:3]), RuntimeError),
    (lambda x, i: torch.index_put(x, (i[0],), x[0, 0], accumulate=True), IndexError),
])
def test_index_out_of_range_raises_like_eager(fn, exc):
    x, i = _x(3, 3), torch.tensor([[0, 5, 1]])
    with pytest.raises(exc):
        fn(x, i)
    torch._dynamo.reset()
    with pytest.raises(exc):
        ember.compile(fn)(x, i)


@pytest.mark.parametrize("fn,exc", [
    (lambda x, i: x.index_copy(0, i, x[:2]), RuntimeError),
    (lambda x, i: x.index_fill(0, i, 1.0), IndexError),
])
def test_int32_indices_raise_where_eager_wants_int64(fn, exc):
    """index_copy and index_fill take int64 indices only (their decompositions, not
    used, would accept int32)."""
    x, i = _x(3, 3), torch.tensor([0, 2], dtype=torch.int32)
    with pytest.raises(exc, match="int64|long"):
        fn(x, i)
    torch._dynamo.reset()
    with pytest.raises(exc, match="int64|long"):
        ember.compile(fn)(x, i)


def test_in_place_forms_mutate_the_input_like_eager():
    def f(x, i, v, w):
        x[i] += v  # index_put with accumulate on a graph input
        x.index_add_(1, torch.tensor([0, 0]), w)
        return x * 2

    args = (_x(4, 3), torch.tensor([1, 1, 3]), _x(3, 3, seed=1), _x(4, 2, seed=2))
    want_x, got_x = args[0].clone(), args[0].clone()
    want = f(want_x, *args[1:])
    torch._dynamo.reset()
    compiled = ember.compile(f)
    got = compiled(got_x, *args[1:])
    torch.testing.assert_close(got, want, rtol=0, atol=0)
    torch.testing.assert_close(got_x, want_x, rtol=0, atol=0)
    assert_ran(compiled.ember_report, (SCATTER,))


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_with_strided_indices_matches_eager(mode):
    """The fallback's ATen kernel reads its indices as if contiguous (their clone in the
    decomposition is a copy the simplifier drops): the step makes them contiguous. Was
    a wrong result found by `ember conformance --all-samples`."""
    w, off = _x(10, 3), torch.tensor([0, 2, 5])
    idx = torch.randint(0, 10, (12,), generator=torch.Generator().manual_seed(0))[::2]

    def f(w, i, o):
        return torch.nn.functional.embedding_bag(i, w, o, mode=mode) * 2

    torch._dynamo.reset()
    torch.testing.assert_close(ember.compile(f)(w, idx, off), f(w, idx, off), rtol=0, atol=0)
