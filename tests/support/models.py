"""Tiny random models built in memory (no files, no tokenizer): a few thousand weights, for
tests of the training code's tensors. The session fixtures in tests/conftest.py save tiny
models with the real SmolLM2 tokenizer for tests that load from disk."""

from __future__ import annotations

VOCAB = 97
PAD = 0


def tiny_llama(vocab: int = VOCAB, attn: str = "sdpa", arch: str = "llama", **config):
    """A 2-layer causal LM of `arch` (hidden 32, 4 heads, 2 key/value heads), seeded."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    torch.manual_seed(0)
    cfg = AutoConfig.for_model(
        arch,
        **{
            "vocab_size": vocab,
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 2,
            "num_attention_heads": 4,
            "num_key_value_heads": 2,
            "max_position_embeddings": 128,
            "tie_word_embeddings": True,
            "pad_token_id": PAD,
            **config,
        },
    )
    cfg._attn_implementation = attn
    return AutoModelForCausalLM.from_config(cfg)
