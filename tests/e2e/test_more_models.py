"""More end-to-end blocks: a CNN with batch norm and pooling, GPT-2 and Llama blocks."""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from .test_models import check, pytestmark  # noqa: F401  (same skip rule)


class CNN(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.c1 = nn.Conv2d(3, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.c2 = nn.Conv2d(8, 8, 3)
        self.fc = nn.Linear(8, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn(self.c1(x))), 2)
        x = F.adaptive_avg_pool2d(F.relu(self.c2(x)), 1).flatten(1)
        return F.log_softmax(self.fc(x), -1)


def test_cnn_with_batch_norm_and_pooling():
    torch.manual_seed(0)
    model = CNN().eval()
    with torch.no_grad():
        model.bn.running_mean.normal_()
        model.bn.running_var.uniform_(0.5, 2)
    report = check(model, torch.randn(2, 3, 16, 16))
    assert not report.fallbacks, report.fallbacks  # conv: library steps; pooling: kernels
    steps = [s for g in report.graphs for s in g.steps]
    assert [n for k, n in steps if k == "library"] == ["convolution", "convolution", "addmm"]
    # bias + batch norm + relu + max pool after the first convolution: one kernel
    assert steps[1][0] == "kernel" and steps[2] == ("library", "convolution"), steps


class GPT2Block(nn.Module):
    """nanoGPT's block: causal mask as a buffer, tanh-approximated GELU written out."""

    def __init__(self, d: int = 64, heads: int = 4) -> None:
        super().__init__()
        self.heads = heads
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.attn, self.proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.fc, self.out = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)
        self.register_buffer("bias", torch.tril(torch.ones(32, 32)).view(1, 1, 32, 32))

    def forward(self, x):
        b, t, c = x.size()
        q, k, v = (y.view(b, t, self.heads, c // self.heads).transpose(1, 2)
                   for y in self.attn(self.ln1(x)).split(c, dim=2))
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
        att = F.softmax(att.masked_fill(self.bias[:, :, :t, :t] == 0, float("-inf")), dim=-1)
        x = x + self.proj((att @ v).transpose(1, 2).contiguous().view(b, t, c))
        h = self.fc(self.ln2(x))
        h = 0.5 * h * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (h + 0.044715 * torch.pow(h, 3.0))))
        return x + self.out(h)


def test_gpt2_block_with_causal_mask_buffer():
    torch.manual_seed(0)
    report = check(GPT2Block().eval(), torch.randn(2, 16, 64))
    assert not report.fallbacks


class Llama(nn.Module):
    """Llama-style block: RMSNorm, rotary embeddings, SDPA (causal), SwiGLU MLP."""

    def __init__(self, d: int = 64, heads: int = 4, hidden: int = 128) -> None:
        super().__init__()
        self.heads = heads
        self.wq, self.wk, self.wv, self.wo = (nn.Linear(d, d, bias=False) for _ in range(4))
        self.w1, self.w3 = nn.Linear(d, hidden, bias=False), nn.Linear(d, hidden, bias=False)
        self.w2 = nn.Linear(hidden, d, bias=False)
        self.n1, self.n2 = nn.RMSNorm(d), nn.RMSNorm(d)

    @staticmethod
    def rope(x):
        t, d = x.shape[-2], x.shape[-1]
        inv = 1.0 / (10000 ** (torch.arange(0, d, 2).float() / d))
        f = torch.outer(torch.arange(t).float(), inv)
        cos, sin = f.cos(), f.sin()
        x1, x2 = x[..., ::2], x[..., 1::2]
        return torch.stack([x1 * cos - x2 * sin, x1 * sin + x2 * cos], -1).flatten(-2)

    def forward(self, x):
        b, t, c = x.shape
        h = self.n1(x)

        def heads(y):
            return y.view(b, t, self.heads, -1).transpose(1, 2)

        q, k, v = self.rope(heads(self.wq(h))), self.rope(heads(self.wk(h))), heads(self.wv(h))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.wo(y.transpose(1, 2).reshape(b, t, c))
        h = self.n2(x)
        return x + self.w2(F.silu(self.w1(h)) * self.w3(h))


def test_llama_block_rope_sdpa_rmsnorm_swiglu():
    torch.manual_seed(0)
    check(Llama().eval(), torch.randn(2, 16, 64), min_kernels=8)


def test_group_norm_and_bool_masks():
    torch.manual_seed(0)
    check(nn.GroupNorm(2, 8).eval(), torch.randn(2, 8, 4, 4))
    report = check(lambda x: ((x > 0) & (x < 1)) | (x == 0), torch.randn(5, 5))
    assert not report.fallbacks
