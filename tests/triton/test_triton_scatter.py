"""Scatter kernels (``ir/scatter.py``) on the Triton backend, under the interpreter,
against eager bit for bit: a block spans the points whose stores never collide and a
loop walks the ordered (scatter) axis, so duplicate indices overwrite or add in
eager's order with no atomics; every kernel also compiles ahead of time for sm_90."""

from __future__ import annotations

import pytest
import torch

pytest.importorskip("triton")

import ember  # noqa: E402

DUP = torch.tensor([[0, 2, 1, 2], [2, 2, 0, 0], [1, 0, 2, 2], [0, 0, 0, 1], [2, 1, 1, 1]])

CASES = {
    "scatter-add-duplicates": (lambda x, i, s: torch.scatter_add(x * 2, 0, i, s) + 1,
                               (torch.randn(3, 4), DUP, torch.randn(5, 4) * 1e4)),
    "scatter-last-write-wins": (lambda x, i, s: torch.scatter(x, 0, i, s),
                                (torch.randn(3, 4), DUP, torch.randn(5, 4))),
    "scatter-dim1-smaller-index": (lambda x, i, s: torch.scatter_add(x, 1, i, s),
                                   (torch.randn(4, 6), DUP[:3, :3] * 2, torch.randn(5, 5))),
    "index-put-accumulate-rows": (lambda x, i, v: torch.index_put(x, (i,), v, accumulate=True),
                                  (torch.randn(5, 33), torch.tensor([4, -1, 0, 4, 4, 2]),
                                   torch.randn(6, 33) * 1e3)),
    "index-add-half": (lambda x, i, s: x.index_add(1, i, s),
                       (torch.randn(3, 4).half(), torch.tensor([3, 3, 0]),
                        torch.randn(3, 3).half())),
    "index-fill-bool-and-int": (lambda b, n: (b.index_fill(0, torch.tensor([1, 1]), True),
                                              torch.scatter_add(n, 0, DUP[:, :2], n[:5])),
                                (torch.rand(3, 2) > 0.5, torch.randint(-9, 9, (6, 2)))),
}


@pytest.mark.parametrize("name", list(CASES))
def test_scatter_kernels_on_triton_match_eager_bitwise(name):
    torch.manual_seed(0)
    fn, args = CASES[name]
    compiled = ember.compile(fn, backend="triton", strict=True)
    with torch.no_grad():
        got, want = compiled(*args), fn(*args)
    got = got if isinstance(got, tuple) else (got,)
    want = want if isinstance(want, tuple) else (want,)
    for g, w in zip(got, want):
        torch.testing.assert_close(g, w, rtol=0, atol=0)
    report = compiled.ember_report
    assert not report.fallbacks
    scatters = [k for k in report.kernels if k.name.endswith("_scatter")]
    assert scatters and all("for sidx in range(" in k.source for k in scatters)
    for k in report.kernels:  # the "cuda" form, compiled ahead of time
        assert ".target sm_90" in k.artifacts["ptx"]


def test_scatter_index_out_of_range_raises_on_triton():
    f = ember.compile(lambda x, i: torch.scatter_add(x, 0, i, x[:1]), backend="triton")
    with torch.no_grad(), pytest.raises(RuntimeError, match="out of bounds"):
        f(torch.randn(3, 2), torch.tensor([[3, 0]]))


def test_scatter_kernel_with_64_bit_offsets(monkeypatch):
    """Offsets that may pass 2**31 (forced here): the ordered loop's index is int64 too."""
    from ember.codegen.triton import source
    from ember.compiler import clear_cache

    clear_cache()  # kernels compiled before with 32-bit offsets are cached by their text
    monkeypatch.setattr(source, "needs_int64", lambda k: True)
    fn = lambda x, i, s: torch.scatter_add(x, 0, i, s)  # noqa: E731
    x, s = torch.randn(3, 4), torch.randn(5, 4)
    i = torch.randint(0, 3, (5, 4), generator=torch.Generator().manual_seed(0))
    torch._dynamo.reset()
    compiled = ember.compile(fn, backend="triton", strict=True)
    with torch.no_grad():
        torch.testing.assert_close(compiled(x, i, s), fn(x, i, s), rtol=0, atol=0)
    (k,) = [k for k in compiled.ember_report.kernels if k.name.endswith("_scatter")]
    assert "tl.cast(sidx32, tl.int64)" in k.source and ".target sm_90" in k.artifacts["ptx"]
    clear_cache()
