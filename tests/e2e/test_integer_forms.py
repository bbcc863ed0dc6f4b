"""Integer forms of float ops (``frontend/composites.py``): ceil/floor/trunc of an
integer tensor are its integers (a fresh tensor); an integer to a small non-negative
integer power is a product that wraps as eager's; bool has no eager kernel for the
roundings (eager's error stays). All compiled with no fallback, bit for bit."""

from __future__ import annotations

import pytest
import torch

import ember

X = torch.tensor([[3, -4, 7], [2**40, 5, -1]])


@pytest.mark.parametrize("fn", [
    lambda x: x.ceil(), lambda x: x.floor() + 1, lambda x: x.trunc(), lambda x: x ** 0,
    lambda x: x ** 1, lambda x: torch.square(x), lambda x: x ** 3, lambda x: x ** 13,
])
@pytest.mark.parametrize("x", [X, X.int(), torch.tensor([3, 200], dtype=torch.uint8)])
def test_integer_roundings_and_powers_match_eager(fn, x):
    torch._dynamo.reset()
    compiled = ember.compile(fn)
    got, want = compiled(x), fn(x)
    assert got.dtype == want.dtype and torch.equal(got, want)
    assert got.data_ptr() != x.data_ptr()
    report = compiled.ember_report
    assert not report.fallbacks and all(g.eager_reason is None for g in report.graphs)


def test_bool_ceil_and_negative_integer_powers_raise_like_eager():
    for fn, x in ((lambda x: x.ceil(), torch.tensor([True])), (lambda x: x ** -1, X)):
        with pytest.raises(Exception) as eager:
            fn(x)
        torch._dynamo.reset()
        with pytest.raises(Exception) as got:
            ember.compile(fn)(x)
        assert isinstance(got.value, type(eager.value)) or isinstance(
            got.value.__cause__, type(eager.value)), (got.value, eager.value)
