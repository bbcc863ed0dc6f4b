"""unfold and as_strided as affine views (index arithmetic inside kernels, or
views of the same storage when returned), and group norm through them."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

import ember


def _run(fn, *args):
    with torch.no_grad():
        c = ember.compile(fn)
        got, want = c(*args), fn(*args)
    torch.testing.assert_close(got, want, equal_nan=True)
    assert got.shape == want.shape and got.stride() == want.stride()
    return c.ember_report, got


@pytest.mark.parametrize("dim,size,step", [(1, 3, 2), (0, 2, 1), (1, 10, 1), (-1, 1, 4)])
def test_unfold_fuses_and_returns_views(dim, size, step):
    x = torch.randn(4, 10)
    rep, _ = _run(lambda t: (t * 2).unfold(dim, size, step).sum(-1).exp(), x)
    assert not rep.fallbacks and len(rep.kernels) == 1, rep
    rep, got = _run(lambda t: t.unfold(dim, size, step), x)
    assert not rep.fallbacks and not rep.kernels
    assert got.untyped_storage().data_ptr() == x.untyped_storage().data_ptr()  # a view


def test_as_strided_windows_fuse_and_views_alias():
    # of a 1-D value: index arithmetic in the consumer's kernel
    v = torch.randn(30)
    rep, _ = _run(lambda t: torch.as_strided(t + 1, (4, 3, 2), (5, 2, 1), 3).amax(-1), v)
    assert not rep.fallbacks and len(rep.kernels) == 1, rep
    # of a 2-D value: flattening it merges dims (not affine), so it is stored first
    x = torch.randn(6, 5)
    rep, _ = _run(lambda t: torch.as_strided(t + 1, (4, 3, 2), (5, 2, 1), 3).amax(-1), x)
    assert not rep.fallbacks and len(rep.kernels) == 2, rep
    rep, got = _run(lambda t: torch.as_strided(t, (3, 3), (2, 1), 1), x)
    assert not rep.fallbacks
    assert got.untyped_storage().data_ptr() == x.untyped_storage().data_ptr()


def test_as_strided_of_a_non_contiguous_tensor_runs_eagerly_with_a_reason():
    # as_strided addresses the storage, which a transposed tensor orders otherwise
    x = torch.randn(6, 5)
    rep, _ = _run(lambda t: torch.as_strided(t.t(), (3, 3), (2, 1), 1) * 2, x)
    assert any("not contiguous from its storage" in f.reason for f in rep.fallbacks), rep


@pytest.mark.parametrize("groups", [1, 2, 4])
def test_group_norm_is_native(groups):
    x = torch.randn(2, 8, 6, 5)
    w, b = torch.randn(8), torch.randn(8)
    rep, _ = _run(lambda t: F.group_norm(t, groups, w, b), x)
    assert not rep.fallbacks, rep
