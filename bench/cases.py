"""The bench cases: what is measured, at which sizes, and to which tolerance.

A :class:`Case` builds its callable (a function or an ``nn.Module``) and its
inputs on demand, so nothing large is allocated before the case runs. Tolerances
follow docs/design: fp32 pointwise 1e-5, reductions and matmuls looser (their
summation order differs from ATen's), whole models looser still.

``tiny=True`` shrinks every case to a few thousand elements: that is for testing
the instrument (tests/bench), never for figures.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class Case:
    """One measured program.

    Attributes:
        name: unique, shown in the table and used by ``--cases`` (substring match).
        make: returns ``(fn_or_module, inputs)``; called once per run, after the seed is set.
        rtol, atol: the ``torch.allclose`` tolerances against eager.
        group: "suite" (ops and blocks) or "model" (transformers models, ``--models``);
            summaries are per group.
        memory_bound: the program moves its inputs and outputs once and computes
            little, so GB/s (ideal bytes / time) is a meaningful figure for it.
    """

    name: str
    make: Callable[[], tuple[Any, tuple]]
    rtol: float = 1e-5
    atol: float = 1e-5
    group: str = "suite"
    memory_bound: bool = False


# -- programs -------------------------------------------------------------------------
def pointwise_chain(x, y):
    """A long pointwise chain with transcendentals: one kernel when fused, 9 ATen ops eagerly."""
    a = torch.tanh(x) * torch.sigmoid(y)
    b = torch.exp(-x.abs()) + torch.log1p(y * y)
    return a * b + torch.sin(x) * 0.5


def bias_residual_relu(x, r, b):
    """A memory-bound epilogue on 64 MiB tensors: 3 ATen ops eagerly, one kernel fused."""
    return torch.relu(x + r + b)


def softmax_rows(x):
    return torch.softmax(x, dim=-1)


def layer_norm(x, w, b):
    return F.layer_norm(x, x.shape[-1:], w, b)


def rmsnorm_residual(x, r, w):
    h = x + r
    return h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + 1e-6) * w


def gelu_mlp(x, w, b):
    """matmul + bias + GELU (erf): the epilogue is what fusion can take."""
    return F.gelu(x @ w + b)


def attention(q, k, v):
    att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(q.shape[-1]))
    return att.softmax(dim=-1) @ v


def index_add_rows(x, ids, src):
    """Embedding-gradient style: rows of ``src`` added into ``x`` at ``ids``
    (duplicates add in order), then scaled: a scatter kernel and a pointwise one."""
    return x.index_add(0, ids, src) * 0.5


def scatter_add_cols(x, idx, src):
    """scatter_add along the last dim with a per-element index (lanes scattered)."""
    return torch.scatter_add(x, 1, idx, src)


def _scatter_fn(f, table, index, src):
    """Inputs (float table, int64 indices into its first or last dim, float source)."""
    dim = 0 if len(index) == 1 else 1
    return lambda: (f, (torch.randn(*table), torch.randint(0, table[dim], index),
                        torch.randn(*src)))


def tiny_pointwise(x, y):
    """64x64: the kernels take microseconds, so this measures per-call overhead."""
    return F.gelu(x) * y + x


class DecoderBlock(nn.Module):
    """GPT-style pre-norm decoder block: causal self-attention and a GELU MLP."""

    def __init__(self, dim: int, heads: int, seq: int) -> None:
        super().__init__()
        self.heads = heads
        self.ln1 = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.ln2 = nn.LayerNorm(dim)
        self.fc1 = nn.Linear(dim, 4 * dim)
        self.fc2 = nn.Linear(4 * dim, dim)
        self.register_buffer("mask", torch.ones(seq, seq, dtype=torch.bool).triu(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, c = x.shape
        h = self.heads
        q, k, v = self.qkv(self.ln1(x)).split(c, dim=-1)
        q, k, v = (y.reshape(b, t, h, c // h).transpose(1, 2) for y in (q, k, v))
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(c // h))
        att = att.masked_fill(self.mask[:t, :t], float("-inf"))
        y = (att.softmax(dim=-1) @ v).transpose(1, 2).reshape(b, t, c)
        x = x + self.proj(y)
        return x + self.fc2(F.gelu(self.fc1(self.ln2(x))))


# -- the suite ------------------------------------------------------------------------
def _fn(f, *shapes):
    return lambda: (f, tuple(torch.randn(*s) for s in shapes))


def _block(batch: int, seq: int, dim: int, heads: int):
    def make():
        m = DecoderBlock(dim, heads, seq).eval()
        return m, (torch.randn(batch, seq, dim),)
    return make


def suite(tiny: bool = False) -> list[Case]:
    """The standard cases (group "suite"); ``tiny`` shrinks them for tests."""
    if tiny:
        n, rows, cols, mm, att, blocks = 4096, 32, 64, (16, 32, 64), (1, 2, 16, 8), \
            [(2, 8, 32, 2), (1, 16, 64, 4)]
        big, sc = (64, 64), (16, 8, 24)
    else:
        n, rows, cols, mm, att, blocks = 8 * 1024 * 1024, 4096, 1024, (256, 1024, 4096), \
            (4, 8, 256, 64), [(8, 64, 128, 4), (4, 256, 256, 4)]
        big = (4096, 4096)  # 64 MiB of float32 per tensor
        sc = (8192, 512, 16384)  # scatters: table rows, width, indices
    m, k, f = mm
    return [
        Case(f"pointwise chain {_n(n)}", _fn(pointwise_chain, (n,), (n,)), memory_bound=True),
        Case(f"bias+residual+relu {big[0]}x{big[1]}",
             _fn(bias_residual_relu, big, big, big[-1:]), memory_bound=True),
        Case(f"softmax {rows}x{cols}", _fn(softmax_rows, (rows, cols)), 1e-5, 1e-6,
             memory_bound=True),
        Case(f"layer_norm {rows}x{cols}", _fn(layer_norm, (rows, cols), (cols,), (cols,)),
             1e-4, 1e-4, memory_bound=True),
        Case(f"rmsnorm+residual {rows}x{cols}",
             _fn(rmsnorm_residual, (rows, cols), (rows, cols), (cols,)), 1e-4, 1e-4,
             memory_bound=True),
        Case(f"gelu mlp {m}x{k}x{f}", _fn(gelu_mlp, (m, k), (k, f), (f,)), 1e-4, 1e-4),
        Case(f"attention {'x'.join(map(str, att))}", _fn(attention, att, att, att),
             1e-4, 1e-4),
        *[Case(f"decoder block {b}x{s}x{d}", _block(b, s, d, h), 1e-4, 1e-4)
          for b, s, d, h in blocks],
        Case(f"index_add rows {sc[0]}x{sc[1]} <- {sc[2]}",
             _scatter_fn(index_add_rows, sc[:2], (sc[2],), (sc[2], sc[1])), 1e-4, 1e-4),
        Case(f"scatter_add {sc[0]}x{sc[1]} <- {sc[0]}x{2 * sc[1]}",
             _scatter_fn(scatter_add_cols, sc[:2], (sc[0], 2 * sc[1]), (sc[0], 2 * sc[1])),
             1e-4, 1e-4),
        Case("tiny pointwise 64x64", _fn(tiny_pointwise, (64, 64), (64, 64)),
             memory_bound=True),
    ]


def _n(n: int) -> str:
    return f"{n // (1024 * 1024)}M" if n % (1024 * 1024) == 0 else str(n)


# -- transformers models (--models) ---------------------------------------------------
class _LastHidden(nn.Module):
    """Calls a transformers model on token ids and returns ``last_hidden_state``."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.model(input_ids=ids).last_hidden_state


def transformers_available() -> str | None:
    """None when ``transformers`` imports; else why not (for the skip message)."""
    try:
        import transformers  # noqa: F401
    except Exception as e:  # noqa: BLE001  (any import failure means: skip)
        return f"{type(e).__name__}: {e}"
    return None


def models(tiny: bool = False) -> list[Case]:
    """GPT-2, BERT and Llama (2 layers, random weights) on batch x seq token ids."""
    batch, seq = (1, 16) if tiny else (2, 128)
    dim, heads, layers, vocab = (64, 2, 1, 256) if tiny else (256, 4, 2, 1024)

    def make(family: str):
        def build():
            import transformers as tf

            if family == "gpt2":
                cfg = tf.GPT2Config(n_layer=layers, n_embd=dim, n_head=heads, vocab_size=vocab,
                                    n_positions=max(seq, 64), bos_token_id=0, eos_token_id=0)
                cls = tf.GPT2Model
            elif family == "bert":
                cfg = tf.BertConfig(num_hidden_layers=layers, hidden_size=dim,
                                    num_attention_heads=heads, intermediate_size=4 * dim,
                                    vocab_size=vocab, max_position_embeddings=max(seq, 64))
                cls = tf.BertModel
            else:
                cfg = tf.LlamaConfig(num_hidden_layers=layers, hidden_size=dim,
                                     num_attention_heads=heads,
                                     num_key_value_heads=max(1, heads // 2),
                                     intermediate_size=int(dim * 8 / 3) // 8 * 8,
                                     vocab_size=vocab, max_position_embeddings=max(seq, 64),
                                     bos_token_id=0, eos_token_id=0, pad_token_id=0)
                cls = tf.LlamaModel
            # The math is written out (matmul, softmax), not an SDPA/flash kernel,
            # so every compiler sees the same program.
            cfg._attn_implementation = "eager"
            model = _LastHidden(cls(cfg)).eval()
            return model, (torch.randint(0, vocab, (batch, seq)),)
        return build

    shape = f"{layers}L d{dim} {batch}x{seq}"
    return [Case(f"{fam} {shape}", make(fam), 1e-3, 1e-3, group="model")
            for fam in ("gpt2", "bert", "llama")]
