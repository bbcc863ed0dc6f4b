"""Multi-output kernels and fusion that explains itself, end to end against eager."""

from __future__ import annotations

import torch
import torch.nn.functional as F

import ember
from ember import compiler


def _rms_residual(x, r, w):
    h = x + r
    return h, h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + 1e-6) * w


def _gelu_ln_softmax(x, w, b):
    h = F.layer_norm(F.gelu(x), x.shape[-1:], w, b)
    return torch.softmax(h, -1)


def test_residual_and_rmsnorm_are_one_kernel_storing_two_outputs():
    x, r, w = torch.randn(33, 70), torch.randn(33, 70), torch.randn(70)
    with torch.no_grad():
        rep = ember.explain(_rms_residual, x, r, w)
        got = ember.compile(_rms_residual)(x, r, w)
    want = _rms_residual(x, r, w)
    for g, e in zip(got, want):
        torch.testing.assert_close(g, e)
    assert len(rep.kernels) == 1
    assert "%0: f32[33,70], %1: f32[33,70] = kernel(" in rep.graphs[0].final_ir


def test_gelu_layer_norm_softmax_kernel_count_and_values():
    # GELU computed once (stored by layer norm's mean kernel), then one staged
    # kernel: variance, normalize, softmax's max, sum and division, a pass over each
    # row per stage (8 kernels before fusion was re-analysed, 5 before staging).
    x, w, b = torch.randn(16, 96), torch.randn(96), torch.randn(96)
    with torch.no_grad():
        rep = ember.explain(_gelu_ln_softmax, x, w, b)
        got = ember.compile(_gelu_ln_softmax)(x, w, b)
    torch.testing.assert_close(got, _gelu_ln_softmax(x, w, b))
    assert len(rep.kernels) == 2, rep
    assert sum(" erf(" in k.source or "erf" in k.source for k in rep.kernels) >= 1


def test_explain_lists_refused_fusions():
    x = torch.randn(8, 32)
    with torch.no_grad():
        rep = ember.explain(_gelu_ln_softmax, x, torch.randn(32), torch.randn(32))
    text = str(rep)
    assert rep.graphs[0].why_not_fused
    assert "not fused: mean into div" in text
    assert "not merged into one staged kernel: it would compute erf in" in text


def test_equal_kernels_under_other_names_compile_once():
    compiler.clear_cache()
    x = torch.randn(4, 8)
    with torch.no_grad():
        a = ember.compile(lambda t: (t * 2).exp())(x)
        before = len(compiler._cache)
        b = ember.compile(lambda u: (u * 2).exp())(x)
    torch.testing.assert_close(a, b)
    assert len(compiler._cache) == before  # the second function's kernel was a cache hit


def test_backend_cpu_is_explicit_and_auto_picks_cpu_for_cpu_tensors():
    x = torch.randn(5)
    with torch.no_grad():
        for name in ("cpu", "auto"):
            f = ember.compile(lambda t: t.sigmoid() * 3, backend=name)
            torch.testing.assert_close(f(x), x.sigmoid() * 3)
            assert {k.backend for k in f.ember_report.kernels} == {"cpu"}
