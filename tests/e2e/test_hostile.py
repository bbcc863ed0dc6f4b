"""Hostile and awkward inputs, each compared with eager."""

from __future__ import annotations

import threading

import pytest
import torch

import ember


def _same(got, want):
    if isinstance(want, (tuple, list)):
        assert len(got) == len(want)
        for g, w in zip(got, want):
            _same(g, w)
        return
    assert got.dtype == want.dtype and got.shape == want.shape
    torch.testing.assert_close(got, want, equal_nan=True)


def test_mutating_an_input_is_seen_by_the_caller():
    def f(x, y):
        x.add_(1)
        y.mul_(2)
        return x * y

    a, b = torch.randn(4, 5), torch.randn(4, 5)
    a2, b2 = a.clone(), b.clone()
    with torch.no_grad():
        want = f(a, b)
        got = ember.compile(f)(a2, b2)
    _same(got, want)
    _same(a2, a)
    _same(b2, b)


def test_outputs_aliasing_inputs_and_each_other_behave_as_eager():
    def f(x):
        v = x.view(-1)
        return x, v, v[1:], x * 2

    x = torch.randn(3, 4)
    with torch.no_grad():
        outs = ember.compile(f)(x)
    _same(outs[3], x * 2)
    assert outs[0].data_ptr() == x.data_ptr() and outs[1].data_ptr() == x.data_ptr()
    outs[1][0] = 100.0
    assert x[0, 0] == 100.0 and outs[2][0] == x[0, 1]
    assert outs[3].data_ptr() != x.data_ptr()


@pytest.mark.parametrize("layout", ["channels_last", "transposed", "sliced", "expanded"])
def test_non_contiguous_layouts(layout):
    base = torch.randn(2, 3, 5, 7)
    x = {"channels_last": base.to(memory_format=torch.channels_last),
         "transposed": base.transpose(1, 3),
         "sliced": base[:, :, ::2, 1:],
         "expanded": torch.randn(1, 3, 1, 7).expand(2, 3, 5, 7)}[layout]

    def f(t):
        return (t.sigmoid() * 2 + t).sum(-1), t.exp() - 1

    with torch.no_grad():
        _same(ember.compile(f)(x), f(x))


@pytest.mark.parametrize("shape", [(), (0,), (3, 0), (0, 4, 2), (1,), (1, 1)])
def test_zero_d_and_zero_size(shape):
    def f(t):
        return t * 2 + 1, t.sum(), t.exp()

    x = torch.randn(shape)
    with torch.no_grad():
        _same(ember.compile(f)(x), f(x))


def test_nan_and_inf_everywhere():
    x = torch.tensor([[float("nan"), 1.0, float("inf")], [-float("inf"), 0.0, -0.0]])

    def f(t):
        return (t.amax(-1), t.amin(-1), t.sum(-1), torch.softmax(t, -1), t.exp(), t.tanh(),
                torch.maximum(t, t.flip(0)), t.sigmoid(), torch.relu(t))

    with torch.no_grad():
        _same(ember.compile(f)(x), f(x))


@pytest.mark.parametrize("dtype", [torch.int8, torch.int32, torch.int64, torch.uint8])
def test_integer_overflow_wraps_as_eager(dtype):
    info = torch.iinfo(dtype)
    x = torch.tensor([info.max, info.min, 0, 1, -1 if info.min < 0 else 2], dtype=dtype)

    def f(t):
        return t + t, t * 3, t - 1, t.sum()

    with torch.no_grad():
        _same(ember.compile(f)(x), f(x))


@pytest.mark.parametrize("kind", ["complex", "sparse", "meta"])
def test_unsupported_tensor_kinds_run_eagerly_with_a_reason(kind):
    x = {"complex": torch.randn(4, dtype=torch.complex64),
         "sparse": torch.randn(4, 4).to_sparse(),
         "meta": torch.empty(4, 4, device="meta")}[kind]

    def f(t):
        return t * 2

    with torch.no_grad():
        g = ember.compile(f, strict=False)
        try:
            want = f(x)
        except Exception as e:  # noqa: BLE001
            with pytest.raises(type(e)):
                g(x)
            return
        got = g(x)
    if kind == "meta":
        assert got.device.type == "meta" and got.shape == want.shape
    else:
        torch.testing.assert_close(got.to_dense() if kind == "sparse" else got,
                                   want.to_dense() if kind == "sparse" else want)
    rep = g.ember_report
    assert not rep.kernels or kind == "meta"
    assert rep.fallbacks or not rep.graphs or kind == "meta"


def test_changes_between_calls_never_reuse_a_stale_kernel():
    def f(t):
        return t.exp() * 2 + t.sum(-1, keepdim=True)

    g = ember.compile(f)
    base = torch.randn(4, 6)
    cases = [base, torch.randn(5, 6), base.double(), base.t().contiguous().t(), base[:, ::2],
             base.half(), base.clone()]
    with torch.no_grad():
        for x in cases:
            _same(g(x), f(x))


def test_exceptions_in_the_users_function_propagate_unchanged():
    class Boom(ValueError):
        pass

    def f(t):
        y = t * 2
        if True:  # a graph break with an exception inside the compiled function
            raise Boom("from the user")
        return y

    with torch.no_grad(), pytest.raises(Boom, match="from the user"):
        ember.compile(f)(torch.randn(3))


def test_eight_threads_one_function_different_shapes():
    def f(t):
        return torch.softmax(t * 3, -1).sum(0) + t.mean()

    g = ember.compile(f)
    shapes = [(3, 5), (4, 8), (2, 33), (7, 1), (3, 5), (4, 8), (2, 33), (7, 1)]
    inputs = [torch.randn(s) for s in shapes]
    errors: list[BaseException] = []

    def work(x):
        try:
            with torch.no_grad():
                for _ in range(20):
                    _same(g(x), f(x))
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    with torch.no_grad():  # warm up: compile each shape once
        for x in inputs[:4]:
            g(x)
    threads = [threading.Thread(target=work, args=(x,)) for x in inputs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[0]
