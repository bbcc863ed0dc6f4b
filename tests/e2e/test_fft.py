"""FFTs and complex values (``ember/ir/library_fft.py``): torch.fft, complex/polar,
linalg.eig compiled with Ember against eager, bit for bit, with no fallback where the
library steps cover the program; complex values that reach other ops (abs, add, a view
to real) run as ATen fallbacks with their reason, and results stay eager's."""

from __future__ import annotations

import pytest
import torch

import ember

from .test_library_linalg import _x, assert_native, run

X = _x(6, 8)

CASES = {
    "fft-ifft": (lambda x: (torch.fft.fft(x), torch.fft.ifft(x, n=10, dim=0)), (X,),
                 ("fft_r2c", "conj_physical")),  # ifft of a real x: conj(r2c), padded first
    "rfft-irfft-then-kernel": (lambda x: torch.fft.irfft(torch.fft.rfft(x), n=8) * 2 + x,
                               (X,), ("fft_r2c", "fft_c2r")),
    "hfft-ihfft": (lambda x: (torch.fft.hfft(x), torch.fft.ihfft(x)), (X,),
                   ("complex_copy", "conj_physical", "fft_c2r", "fft_r2c")),
    "fft2-of-a-slice": (lambda x: torch.fft.ifft2(torch.fft.fft2(x)[:, 1:5].permute(1, 0)),
                        (X,), ("complex_copy", "fft_c2c")),
    "fft2-padded": (lambda x: (torch.fft.fft2(x, s=(8, 11)), torch.fft.ifftn(x, s=(7, 9))),
                    (X,), ("complex_copy", "complex_pad", "fft_c2c")),
    "norms-f64": (lambda x: (torch.fft.fftn(x, norm="ortho"), torch.fft.rfftn(x, norm="forward")),
                  (_x(4, 6, 5, dtype=torch.float64),), ("fft_c2c", "fft_r2c")),
    "complex-polar": (lambda a, b: (torch.complex(a, b), torch.polar(a.abs(), b)),
                      (X, _x(6, 8, seed=1)), ("complex", "polar")),
    "eig": (lambda a: torch.linalg.eig(a), (_x(3, 4, 4, dtype=torch.float64),), ("eig",)),
    "stft": (lambda x: torch.stft(x, 4, return_complex=True, window=torch.ones(4),
                                  center=False), (_x(2, 16),), ("fft_r2c",)),
    "complex-input": (lambda z: torch.fft.ifft(z.conj()), (torch.randn(3, 5, dtype=torch.cfloat),),
                      ("conj_physical", "fft_c2c")),
}


@pytest.mark.parametrize("name", list(CASES))
def test_fft_library_steps_match_eager_bitwise(name):
    fn, args, library = CASES[name]
    assert_native(run(fn, *args), *library)


def test_views_between_complex_and_real_feed_kernels():
    def f(x):
        r = torch.view_as_real(torch.fft.rfft(x))
        return r * 2 + 1, torch.fft.ifft(torch.view_as_complex(r.contiguous() * 3))

    rep = run(f, X)
    assert_native(rep, "fft_r2c", "fft_c2c")
    assert ("view", "view_as_real") in rep.graphs[0].steps


def test_complex_values_reaching_other_ops_fall_back_with_a_reason():
    def f(x):
        z = torch.fft.fft(x)
        return (z * 2).abs() + 1, z.real

    rep = run(f, X)
    reasons = {f.op: f.reason for f in rep.fallbacks}
    assert "aten.mul.Tensor" in reasons and "complex values" in reasons["aten.mul.Tensor"]
    assert any(k == "kernel" for k, _ in [s for g in rep.graphs for s in g.steps])  # the + 1


def test_kernel_ops_refuse_complex_values():
    from ember.ir import Graph, IRError

    g = Graph()
    z = g.add_input((3,), "c64")
    with pytest.raises(IRError, match="complex|float operand"):
        g.add("exp", [z])
    with pytest.raises(IRError, match="complex"):
        g.add("add", [z, z])
    with pytest.raises(IRError, match="complex"):
        g.add("cast", [g.add_input((3,), "f32")], dtype="c64")
    assert g.add("conj_physical", [z]).out.type.dtype == "c64"


def test_a_complex_graph_compiles_instead_of_running_eagerly():
    rep = ember.explain(lambda z: torch.fft.fft(z) + 1, torch.randn(4, dtype=torch.cdouble))
    assert all(g.eager_reason is None for g in rep.graphs), rep
