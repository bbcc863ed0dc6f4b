"""End-to-end differential tests: real model blocks, Ember vs eager."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

import ember
from ember.codegen.mlir import available

pytestmark = pytest.mark.skipif(not available()[0], reason=f"MLIR backend: {available()[1]}")


def check(fn, *args, rtol=1e-4, atol=1e-4, min_kernels=1):
    """Runs fn eagerly and through Ember; compares; returns the Ember report."""
    with torch.no_grad():
        ref = fn(*args)
        compiled = ember.compile(fn)
        out = compiled(*args)
        again = compiled(*args)  # the cached path
    torch.testing.assert_close(out, ref, rtol=rtol, atol=atol, equal_nan=True)
    torch.testing.assert_close(again, ref, rtol=rtol, atol=atol, equal_nan=True)
    report = compiled.ember_report
    assert all(g.eager_reason is None for g in report.graphs), report
    assert len(report.kernels) >= min_kernels, report
    assert {k.backend for k in report.kernels} <= {"cpu"}
    return report


def test_mlp_gelu():
    def mlp(x, w1, b1, w2, b2):
        return F.gelu(x @ w1 + b1) @ w2 + b2

    x = torch.randn(16, 32)
    check(mlp, x, torch.randn(32, 64), torch.randn(64), torch.randn(64, 32), torch.randn(32))


def test_mlp_gelu_tanh_module():
    model = nn.Sequential(nn.Linear(32, 64), nn.GELU(approximate="tanh"), nn.Linear(64, 16)).eval()
    check(model, torch.randn(4, 8, 32))


def test_softmax_is_at_most_three_kernels():
    def softmax(x):
        return torch.softmax(x, dim=-1)

    x = torch.randn(8, 33) * 10
    report = check(softmax, x, rtol=1e-5, atol=1e-6)
    assert 1 <= len(report.kernels) <= 3, [k.name for k in report.kernels]


def test_log_softmax_extreme_values():
    x = torch.tensor([[1e4, 0.0, -1e4], [float("-inf"), 0.0, 1.0]])
    check(lambda t: F.log_softmax(t, dim=-1), x, rtol=1e-5, atol=1e-5)


def test_layer_norm_is_at_most_three_kernels():
    ln = nn.LayerNorm(48).eval()
    with torch.no_grad():
        ln.weight.normal_()
        ln.bias.normal_()
    report = check(ln, torch.randn(2, 5, 48) * 3 + 1)
    assert 1 <= len(report.kernels) <= 3, [k.name for k in report.kernels]


@pytest.mark.parametrize("shape", [(1, 48), (1, 1, 48), (3, 1)])
def test_layer_norm_unit_dims(shape):
    check(lambda x: F.layer_norm(x, x.shape[-1:]) * 2, torch.randn(shape))


def test_reduction_read_through_a_view_in_the_same_kernel():
    def f(x):
        m = x.sum(dim=1, keepdim=True)  # [4, 1]
        return torch.rsqrt(m * m + 1) + m.t().expand(4, 4).t().sum(dim=1, keepdim=True)

    check(f, torch.randn(4, 6))


def test_rmsnorm_with_residual():
    def rms_block(x, res, w):
        h = x + res
        return h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + 1e-6) * w, h

    check(rms_block, torch.randn(4, 7, 64), torch.randn(4, 7, 64), torch.randn(64))


def test_attention_block():
    def attention(q, k, v):
        scale = 1.0 / math.sqrt(q.shape[-1])
        att = (q @ k.transpose(-2, -1)) * scale
        return att.softmax(dim=-1) @ v

    q, k, v = (torch.randn(2, 4, 16, 8) for _ in range(3))
    check(attention, q, k, v)


def test_causal_attention_with_mask():
    def attention(q, k, v):
        t = q.shape[-2]
        mask = torch.ones(t, t, dtype=torch.bool).tril()
        att = (q @ k.transpose(-2, -1)) / math.sqrt(q.shape[-1])
        att = att.masked_fill(~mask, float("-inf"))
        return att.softmax(dim=-1) @ v

    q, k, v = (torch.randn(2, 2, 12, 8) for _ in range(3))
    check(attention, q, k, v)


class WithBuffers(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(16, 16)
        self.register_buffer("scale", torch.linspace(0.5, 2.0, 16))
        self.register_buffer("shift", torch.randn(16))

    def forward(self, x):
        return torch.tanh(self.lin(x) * self.scale + self.shift).sum(dim=0)


def test_module_with_parameters_and_buffers():
    check(WithBuffers().eval(), torch.randn(5, 16))


def test_demo_transformer_block():
    from ember.demo import Block

    torch.manual_seed(0)
    check(Block(dim=32, heads=2, hidden=64).eval(), torch.randn(2, 8, 32), min_kernels=5)


def test_non_contiguous_and_broadcast_inputs():
    def f(a, b):
        return torch.sigmoid(a) * b + a.sum(dim=1, keepdim=True)

    a = torch.randn(12, 10).t()  # non-contiguous
    b = torch.randn(10, 1).expand(10, 12)  # stride-0
    check(f, a, b)


def test_integer_and_bool_paths():
    def f(x, y):
        m = x > 0
        return torch.where(m, x * 2, y), (x.to(torch.int64) + 3).sum(), m.logical_not()

    check(f, torch.randn(6, 5) * 4, torch.randn(6, 5))


def test_cat_and_slices():
    def f(x, y):
        z = torch.cat([x.exp(), y[:, ::2] * 2], dim=1)
        return z[1:-1] + 1

    check(f, torch.randn(5, 3), torch.randn(5, 8))


def test_half_precision_block():
    def f(x, w):
        return F.softmax(F.gelu(x) * w, dim=-1)

    x = torch.randn(8, 32).to(torch.bfloat16)
    check(f, x, torch.randn(32).to(torch.bfloat16), rtol=2e-2, atol=2e-2)


def test_long_float_sums_are_accurate():
    # A sequential f32 sum of 2^20 values is off by ~1e-4; Ember accumulates in f64.
    x = torch.rand(1 << 20)
    with torch.no_grad():
        out = ember.compile(lambda t: (t.sum(), t.view(64, -1).mean(dim=1)))(x)
    ref = x.double().sum()
    assert abs(out[0].double() - ref) / ref < 1e-6
    torch.testing.assert_close(out[1].double(), x.double().view(64, -1).mean(dim=1),
                               rtol=1e-6, atol=0)
