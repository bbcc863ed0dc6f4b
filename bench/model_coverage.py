"""Which Hugging Face model families compile without eager fallbacks.

    python bench/model_coverage.py            # every family below
    python bench/model_coverage.py bert vit   # those whose name contains one of these

Each family is built from a small ``transformers`` configuration with random
weights (eval mode, eager attention so every compiler sees the same math), run
eagerly and through ``ember.compile`` on the same inputs under
``torch.inference_mode()``, and reported as: graphs, graph breaks, fallback ops
(with the first reasons), kernels, and the largest difference from eager. A
family matches when every output is within 1e-4 (absolute and relative) of
eager's. This is coverage, not timing: ``bench/run.py --models`` times GPT-2,
BERT and Llama.
"""

from __future__ import annotations

import sys
from typing import Any, Callable

import torch

TEXT = (2, 24)  # batch, sequence


def _ids(vocab: int) -> torch.Tensor:
    return torch.randint(0, vocab, TEXT)


def _families() -> dict[str, Callable[[], tuple[Any, tuple]]]:
    import transformers as tf

    small = dict(num_hidden_layers=2, hidden_size=64, num_attention_heads=4,
                 intermediate_size=128)

    def text(cfg_cls, model_cls, vocab=256, **kw):
        def build():
            cfg = cfg_cls(vocab_size=vocab, **kw)
            return model_cls(cfg), (_ids(vocab),)
        return build

    def images(cfg_cls, model_cls, size=32, channels=3, **kw):
        def build():
            cfg = cfg_cls(**kw)
            return model_cls(cfg), (torch.randn(2, channels, size, size),)
        return build

    def audio(cfg_cls, model_cls, **kw):
        def build():
            cfg = cfg_cls(**kw)
            return model_cls(cfg), (torch.randn(2, 1600),)
        return build

    return {
        "gpt2": text(tf.GPT2Config, tf.GPT2Model, n_layer=2, n_embd=64, n_head=4),
        "bert": text(tf.BertConfig, tf.BertModel, **small),
        "roberta": text(tf.RobertaConfig, tf.RobertaModel, pad_token_id=1, **small),
        "distilbert": text(tf.DistilBertConfig, tf.DistilBertModel, n_layers=2, dim=64,
                           n_heads=4, hidden_dim=128),
        "llama": text(tf.LlamaConfig, tf.LlamaModel, num_key_value_heads=2, **small),
        "mistral": text(tf.MistralConfig, tf.MistralModel, num_key_value_heads=2, **small),
        "qwen2": text(tf.Qwen2Config, tf.Qwen2Model, num_key_value_heads=2, **small),
        "gpt_neox": text(tf.GPTNeoXConfig, tf.GPTNeoXModel, **small),
        "opt": text(tf.OPTConfig, tf.OPTModel, num_hidden_layers=2, hidden_size=64,
                    num_attention_heads=4, ffn_dim=128, word_embed_proj_dim=64),
        "t5-encoder": text(tf.T5Config, tf.T5EncoderModel, d_model=64, d_kv=16, d_ff=128,
                           num_layers=2, num_heads=4),
        "vit": images(tf.ViTConfig, tf.ViTModel, image_size=32, patch_size=8, **small),
        "convnext": images(tf.ConvNextConfig, tf.ConvNextModel, hidden_sizes=[16, 32],
                           depths=[1, 1], num_stages=2),
        "resnet": images(tf.ResNetConfig, tf.ResNetModel, hidden_sizes=[16, 32],
                         depths=[1, 1], embedding_size=16),
        "wav2vec2": audio(tf.Wav2Vec2Config, tf.Wav2Vec2Model, conv_dim=(32, 32),
                          conv_stride=(5, 2), conv_kernel=(10, 3), num_conv_pos_embeddings=16,
                          num_conv_pos_embedding_groups=4, **small),
    }


def _tensors(out: Any) -> list[torch.Tensor]:
    if isinstance(out, torch.Tensor):
        return [out]
    if hasattr(out, "to_tuple"):
        out = out.to_tuple()
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in _tensors(o)]
    return []


def check(name: str, build: Callable[[], tuple[Any, tuple]]) -> dict:
    import ember

    torch.manual_seed(0)
    model, args = build()
    model = model.eval()
    if hasattr(model.config, "_attn_implementation"):
        model.config._attn_implementation = "eager"
    torch._dynamo.reset()
    with torch.inference_mode():
        want = _tensors(model(*args))
        compiled = ember.compile(model)
        got = _tensors(compiled(*args))
    rep = compiled.ember_report
    diff = max(((g.double() - w.double()).abs().max().item() if g.numel() else 0.0)
               for g, w in zip(got, want)) if want else float("nan")
    ok = len(got) == len(want) and all(
        torch.allclose(g.double(), w.double(), rtol=1e-4, atol=1e-4) for g, w in zip(got, want))
    return {"family": name, "graphs": len(rep.graphs), "breaks": len(rep.graph_breaks),
            "fallbacks": len(rep.fallbacks), "kernels": len(rep.kernels), "match": ok,
            "max_diff": diff,
            "reasons": sorted({f"{f.op}: {f.reason}" for f in rep.fallbacks})[:3]}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    fams = {k: v for k, v in _families().items() if not argv or any(a in k for a in argv)}
    print(f"{'family':12s} {'graphs':>6s} {'breaks':>6s} {'fallbacks':>9s} {'kernels':>7s}  "
          f"{'match':5s} max|ember-eager|")
    bad = 0
    for name, build in fams.items():
        try:
            r = check(name, build)
        except Exception as e:  # noqa: BLE001  (a family that does not build here)
            print(f"{name:12s} error: {type(e).__name__}: {str(e).splitlines()[0][:100]}")
            bad += 1
            continue
        bad += not r["match"]
        print(f"{name:12s} {r['graphs']:6d} {r['breaks']:6d} {r['fallbacks']:9d} "
              f"{r['kernels']:7d}  {'yes' if r['match'] else 'NO':5s} {r['max_diff']:.2e}")
        for why in r["reasons"]:
            print(f"{'':14s}{why[:110]}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
