"""``cat`` as one kernel, and fused into what reads it: each part read only in
its range of the cat axis (masked reads, ``within``), against eager on every
dtype, axis and vector alignment; and where a cat is materialized instead
(transcendental parts, a reshape reading it), with the reason explain gives."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

import ember


def _run(fn, *args, dynamic=False, exact=True):
    """Eager vs Ember: bit for bit (data movement and pointwise math), or within
    the default tolerance (reductions, whose order differs); strides as eager's."""
    with torch.no_grad():
        rep = ember.explain(fn, *args)
        compiled = ember.compile(fn, dynamic=dynamic)
        got = compiled(*args)
        want = fn(*args)
    tol = {"rtol": 0, "atol": 0} if exact else {}
    for g, w in zip(got if isinstance(got, tuple) else (got,),
                    want if isinstance(want, tuple) else (want,)):
        torch.testing.assert_close(g, w, equal_nan=True, **tol)
        assert g.stride() == w.stride()
    assert not rep.fallbacks and all(g.eager_reason is None for g in rep.graphs), rep
    return rep


def _ops(rep) -> str:
    return str(rep)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16,
                                   torch.int64, torch.int32, torch.uint8, torch.bool])
@pytest.mark.parametrize("axis", [0, 1, -1])
def test_cat_fused_into_a_reader_is_one_kernel(dtype, axis):
    # part sizes that split vectors anywhere (37 + 20 + 3 columns; 16-lane vectors)
    shapes = [(5, 6, 37), (5, 6, 20), (5, 6, 3)]
    if axis == 0:
        shapes = [(5, 6, 37), (2, 6, 37), (1, 6, 37)]
    elif axis == 1:
        shapes = [(5, 6, 37), (5, 1, 37), (5, 9, 37)]
    xs = [(torch.randn(s) * 50).to(dtype) for s in shapes]
    rep = _run(lambda a, b, c: torch.cat([a, b + b, c], axis) == a.flatten()[7], *xs)
    assert len(rep.kernels) == 1, rep
    # a cat that is the result: one copy kernel per part, in one step
    rep = _run(lambda a, b, c: torch.cat([a, b + b, c], axis), *xs)
    assert [k.name.rsplit("_", 1)[-1] for k in rep.kernels] == ["part0", "part1", "part2"]


def test_cat_fuses_into_its_reader():
    x, y, w = torch.randn(4, 8, 40), torch.randn(4, 8, 24), torch.randn(64)
    rep = _run(lambda a, b, c: torch.relu(torch.cat([a * 2, b], -1) * c + 1), x, y, w)
    assert len(rep.kernels) == 1, rep


def test_rotate_half_is_one_kernel():
    # Llama's rotary embedding: q * cos + cat(-q2, q1) * sin
    q, cos, sin = torch.randn(2, 4, 16, 64), torch.randn(16, 64), torch.randn(16, 64)

    def rope(q, cos, sin):
        q1, q2 = q[..., :32], q[..., 32:]
        return q * cos + torch.cat((-q2, q1), dim=-1) * sin

    rep = _run(rope, q, cos, sin)
    assert len(rep.kernels) == 1, rep


@pytest.mark.parametrize("pool", ["avg", "max"])
def test_padded_pooling_is_one_kernel(pool):
    x = torch.randn(2, 3, 17, 19)
    if pool == "avg":
        fn = lambda t: F.avg_pool2d(t, 3, stride=2, padding=1)  # noqa: E731
    else:
        fn = lambda t: F.max_pool2d(torch.relu(t), 3, stride=2, padding=1)  # noqa: E731
    rep = _run(fn, x)
    assert len(rep.kernels) == 1, rep


def test_reductions_and_softmax_over_a_cat():
    x, y = torch.randn(6, 50), torch.randn(6, 30)
    rep = _run(lambda a, b: torch.softmax(torch.cat([a, b], 1), -1), x, y, exact=False)
    assert len(rep.kernels) == 1, rep
    rep = _run(lambda a, b: torch.cat([a, b], 0).sum(0), x, y[:, :1].expand(6, 50), exact=False)
    assert len(rep.kernels) == 1, rep


def test_nested_cats_and_constant_positions():
    a, b, c = torch.randn(3, 5), torch.randn(3, 7), torch.randn(4, 12)

    def f(a, b, c):
        inner = torch.cat([a, b], 1)               # [3, 12]
        outer = torch.cat([inner, c, inner * 3], 0)  # [10, 12]
        again = torch.cat([outer[:, 2:9], outer], 1)  # the same axis twice over
        return again * 2, outer[:, 6] + 1, outer[4]   # constant positions: one part

    _run(f, a, b, c)
    # read only by one kernel, the inner and the outer cat fuse into it
    rep = _run(lambda a, b, c: torch.cat([torch.cat([a, b], 1), c], 0) * 2, a, b, c)
    assert len(rep.kernels) == 1, rep


def test_gather_inside_a_part():
    table, ids, y = torch.randn(10, 16), torch.tensor([[1, 9, 0], [3, 3, 7]]), torch.randn(2, 3, 5)
    rep = _run(lambda t, i, u: torch.cat([F.embedding(i, t), u], -1) * 2, table, ids, y)
    # the gather, the cat and the multiply in one kernel (the other checks the ids)
    assert [k.name for k in rep.kernels if "cat" in k.name] == ["k1_take_cat_mul"], rep


def test_empty_parts_and_single_part():
    x, e = torch.randn(4, 9), torch.randn(4, 0)
    _run(lambda a, b: torch.cat([b, a, b, a + 1, b], 1) * 2, x, e)
    _run(lambda a: torch.cat([a.t(), a.t()]), x)  # eager: a contiguous result
    # one part is its values, without a copy (HF's caches cat onto an empty 1-d
    # tensor; a transposed single part would keep its strides, unlike eager)
    rep = _run(lambda a, b: torch.cat([torch.empty(0), a * 2]), x.flatten(), e)
    assert len(rep.kernels) == 1


def test_transcendental_parts_are_materialized():
    x = torch.randn(8, 33)
    rep = _run(lambda t: torch.cat([torch.sin(t), torch.cos(t)], -1) * 2, x, exact=False)
    # materialized (one kernel per part), then the multiply
    names = [k.name for k in rep.kernels]
    assert len(names) == 3 and names[0].endswith("_part0") and names[1].endswith("_part1"), rep
    assert "a part computes" in _ops(rep)


def test_cat_read_through_a_reshape_is_materialized():
    a, b = torch.randn(3, 8), torch.randn(3, 8)
    rep = _run(lambda x, y: torch.cat([x, y + 1], 1).reshape(3, 4, 4) * 2, a, b)
    assert "cat read through a reshape" in _ops(rep)


def test_dynamic_sizes():
    fn = lambda a, b: torch.cat([a, b * 2], -1) + 1  # noqa: E731
    for n in (5, 9, 17):
        _run(fn, torch.randn(3, n), torch.randn(3, n + 4), dynamic=True)


def test_cat_of_channels_last_and_transposed_readers():
    x = torch.randn(2, 8, 5, 5).to(memory_format=torch.channels_last)
    y = torch.randn(2, 8, 5, 5).to(memory_format=torch.channels_last)
    rep = _run(lambda a, b: torch.cat([a, b], 1).sum(1), x, y, exact=False)
    assert len(rep.kernels) == 1, rep
    t = torch.randn(9, 6).t()
    _run(lambda a, b: torch.cat([a, b], 0) * 3, t, t)
