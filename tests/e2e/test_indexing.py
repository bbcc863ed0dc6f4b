"""Indexing by a tensor of indices (embedding, index_select, x[idx]) compiled
natively as gathers, against eager: values, dtypes, layouts, negative indices,
fusion around the gather, and eager's IndexError for indices out of range."""

from __future__ import annotations

import pytest
import torch

import ember


def _native(compiled, fn, *args):
    with torch.no_grad():
        got, want = compiled(*args), fn(*args)
    torch.testing.assert_close(got, want)
    report = compiled.ember_report
    assert not report.fallbacks, report.fallbacks
    assert any(" gather(" in k.source or "vector.gather" in k.source or "take" in k.name
               for k in report.kernels)
    return report


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
@pytest.mark.parametrize("idtype", [torch.int64, torch.int32])
def test_embedding(dtype, idtype):
    torch.manual_seed(0)
    table = torch.randn(100, 48).to(dtype)

    def f(ids):
        e = torch.nn.functional.embedding(ids, table)
        return e * 2 + 1, e.float().sum(-1)

    for ids in (torch.randint(0, 100, (3, 17)), torch.randint(0, 100, (5,)),
                torch.tensor([[0, 99], [99, 0]])):
        _native(ember.compile(f, strict=True), f, ids.to(idtype))


def test_embedding_of_a_transposed_table_and_computed_ids():
    table = torch.randn(16, 40).t()  # (40, 16), strides (1, 40)

    def f(ids, x):
        return torch.nn.functional.embedding(39 - ids, table) + x

    ids, x = torch.randint(0, 40, (9,)), torch.randn(9, 16)
    _native(ember.compile(f, strict=True), f, ids, x)


@pytest.mark.parametrize("dim", [0, 1, 2, -1])
def test_index_select(dim):
    x = torch.randn(6, 7, 33)

    def f(x, i):
        return torch.index_select(x * 2, dim, i).exp()

    i = torch.randint(0, x.shape[dim], (11,))
    _native(ember.compile(f, strict=True), f, x, i)


@pytest.mark.parametrize("index", [torch.tensor([0]), torch.tensor(0)])
def test_index_select_of_a_0d_tensor(index):
    def f(x, i):
        return torch.index_select(x * 2, 0, i)

    x = torch.tensor(5.0)
    _native(ember.compile(f, strict=True), f, x, index)
    with pytest.raises(IndexError, match="index out of range"):
        ember.compile(f)(x, torch.tensor([1]))


def test_advanced_indexing_with_negative_indices():
    x = torch.randn(20, 30)

    def f(x, i, j):
        return x[i] + 1, x[:, j].sum(-1), x.reshape(-1)[i.abs() * 7]

    i = torch.tensor([[0, -1, 5], [-20, 19, 3]])
    j = torch.randint(-30, 30, (13,))
    _native(ember.compile(f, strict=True), f, x, i, j)


def test_gather_along_the_vector_axis():
    """Every lane reads its own index (a vector gather), with a tail."""
    x = torch.randn(1000)

    def f(x, i):
        return x[i] * 2

    for n in (7, 64, 1001):
        _native(ember.compile(f, strict=True), f, x, torch.randint(-1000, 1000, (n,)))


@pytest.mark.parametrize("bad", [100, -1, 1 << 40])
def test_out_of_range_raises_index_error_like_eager(bad):
    table = torch.randn(100, 8)

    def f(ids):
        return torch.nn.functional.embedding(ids, table) * 2

    compiled = ember.compile(f, strict=True)
    ok = torch.tensor([1, 2, 3])
    with torch.no_grad():
        compiled(ok)
        ids = torch.tensor([1, bad, 3])
        with pytest.raises(IndexError):
            f(ids)
        with pytest.raises(IndexError, match="index out of range"):
            compiled(ids)


def test_advanced_index_out_of_range_raises():
    x = torch.randn(5, 3)

    def f(x, i):
        return x[i] + 1

    compiled = ember.compile(f, strict=True)
    with torch.no_grad():
        compiled(x, torch.tensor([4, -5]))
        with pytest.raises(IndexError):
            compiled(x, torch.tensor([5]))


def test_empty_indices():
    table = torch.randn(10, 4)

    def f(ids):
        return torch.nn.functional.embedding(ids, table) + 1

    with torch.no_grad():
        got = ember.compile(f, strict=True)(torch.zeros(0, 3, dtype=torch.long))
    assert got.shape == (0, 3, 4)


def test_embedding_model_with_dynamic_lengths():
    torch.manual_seed(0)

    class Tiny(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.tok = torch.nn.Embedding(64, 32)
            self.pos = torch.nn.Embedding(128, 32)
            self.ln = torch.nn.LayerNorm(32)

        def forward(self, ids):
            pos = torch.arange(ids.shape[1])
            return self.ln(self.tok(ids) + self.pos(pos))

    model = Tiny().eval()
    compiled = ember.compile(model, strict=True)
    for t in (3, 4, 9, 70):
        _native(compiled, model, torch.randint(0, 64, (2, t)))


def test_torch_gather_and_take_along_dim():
    x = torch.randn(8, 30)

    def f(x, i):
        return (torch.gather(x * 2, 1, i) + 1, torch.gather(x, 1, i[:, :3]).sum(-1),
                torch.take_along_dim(x[:2], i[:2], 1))

    i = torch.randint(0, 30, (8, 5))
    _native(ember.compile(f, strict=True), f, x, i)
    compiled = ember.compile(f, strict=True)
    with torch.no_grad():
        compiled(x, i)
        with pytest.raises(RuntimeError, match="out of bounds for dimension 1"):
            compiled(x, torch.full((8, 5), 30))


def test_several_adjacent_index_tensors():
    x = torch.randn(6, 7, 8, 5)

    def f(x, i, j):
        return x[i, j] * 2, x[:, i, j[:1]].sum(-1), (x.transpose(1, 2))[:, j, i]

    i = torch.randint(-6, 6, (4, 1))
    j = torch.randint(-7, 7, (3,))
    _native(ember.compile(f, strict=True), f, x, i, j)
    compiled = ember.compile(f, strict=True)
    with torch.no_grad():
        compiled(x, i, j)
        with pytest.raises(IndexError):
            compiled(x, i, torch.tensor([7]))


def test_flip():
    x = torch.randn(5, 6, 7)

    def f(x):
        return x.flip(0) * 2, torch.flip(x, (1, -1)).sum(-1), x[:, :1].flip(1) + 1

    _native(ember.compile(f, strict=True), f, x)
