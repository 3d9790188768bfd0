"""Tiny random models of every template's base architecture, each with its family's tokenizer.

    folder = tiny_model_dir("qwen3-1.7b-lora", cache_dir)   # built once, then reused
    family_of(TEMPLATES["gemma3-4b-qlora"])                  # ("gemma3", "gemma")

Sizes: 2 layers, hidden 64, 4 heads (2 key/value heads), MLP 128: a forward pass costs
milliseconds, so a template's whole flow runs in seconds.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from studio.models.resolve import PACKAGED_REF
from tests.tiny.tokenizers import build_tokenizer

VERSION = 1  # bump to rebuild every cached tiny model
# A template's base model -> (tiny architecture, tokenizer family).
BASES = {
    PACKAGED_REF: ("llama", "smollm2"),
    "scratch:tiny-gpt": ("llama", "smollm2"),  # built from scratch, the packaged tokenizer
    "HuggingFaceTB/SmolLM2-360M-Instruct": ("llama", "smollm2"),
    "HuggingFaceTB/SmolLM2-1.7B-Instruct": ("llama", "smollm2"),
    "Qwen/Qwen3-0.6B": ("qwen3", "qwen"),
    "Qwen/Qwen3-1.7B": ("qwen3", "qwen"),
    "Qwen/Qwen3-4B": ("qwen3", "qwen"),
    "meta-llama/Llama-3.2-1B-Instruct": ("llama", "llama3"),
    "meta-llama/Llama-3.2-3B-Instruct": ("llama", "llama3"),
    "google/gemma-3-1b-it": ("gemma3_text", "gemma"),
    "google/gemma-3-4b-it": ("gemma3", "gemma"),
    "meta-llama/Llama-2-7b-hf": ("llama", "llama2"),
    "meta-llama/Llama-2-13b-hf": ("llama", "llama2"),
    "mistralai/Mistral-7B-v0.1": ("mistral", "llama2"),  # the same SentencePiece kind
    "EleutherAI/gpt-neo-125m": ("gpt_neo", "gpt2"),
    "EleutherAI/gpt-neo-2.7B": ("gpt_neo", "gpt2"),
    "google/flan-t5-base": ("t5", "t5"),
    "google/t5gemma-b-b-prefixlm-it": ("t5gemma", "gemma"),
}
CUSTOM_BASE = ("llama", "smollm2")  # what the Custom template is tried with
_DECODER = dict(
    hidden_size=64,
    intermediate_size=128,
    num_hidden_layers=2,
    num_attention_heads=4,
    num_key_value_heads=2,
    max_position_embeddings=512,
)


def family_of(template) -> tuple[str, str]:
    """(tiny architecture, tokenizer family) of a template's base."""
    if template.key == "custom":
        return CUSTOM_BASE
    return BASES[template.base_model]


def _ids(tok) -> dict[str, Any]:
    pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
    return dict(bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id, pad_token_id=pad)


def _gemma_text(tok):
    from transformers import Gemma3TextConfig

    return Gemma3TextConfig(
        vocab_size=len(tok),
        head_dim=16,
        query_pre_attn_scalar=16,
        sliding_window=32,
        layer_types=["sliding_attention", "full_attention"],
        **_DECODER,
        **_ids(tok),
    )


def _config(arch: str, tok):
    """The transformers config of a tiny `arch` model for tokenizer `tok`."""
    import transformers as tf

    vocab = len(tok)
    if arch == "llama":
        return tf.LlamaConfig(vocab_size=vocab, tie_word_embeddings=True, **_DECODER, **_ids(tok))
    if arch == "mistral":
        return tf.MistralConfig(vocab_size=vocab, sliding_window=64, **_DECODER, **_ids(tok))
    if arch == "qwen3":
        return tf.Qwen3Config(
            vocab_size=vocab, head_dim=16, tie_word_embeddings=True, **_DECODER, **_ids(tok)
        )
    if arch == "gemma3_text":
        return _gemma_text(tok)
    if arch == "gemma3":
        vision = tf.SiglipVisionConfig(
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=1,
            num_attention_heads=2,
            image_size=28,
            patch_size=14,
        )
        return tf.Gemma3Config(
            text_config=_gemma_text(tok),
            vision_config=vision,
            mm_tokens_per_image=4,
            boi_token_index=tok.convert_tokens_to_ids("<start_of_image>"),
            eoi_token_index=tok.convert_tokens_to_ids("<end_of_image>"),
            image_token_index=tok.convert_tokens_to_ids("<image_soft_token>"),
            **_ids(tok),
        )
    if arch == "gpt_neo":
        return tf.GPTNeoConfig(
            vocab_size=vocab,
            hidden_size=64,
            intermediate_size=128,
            num_layers=2,
            num_heads=4,
            attention_types=[[["global", "local"], 1]],
            window_size=32,
            max_position_embeddings=512,
            **_ids(tok),
        )
    if arch == "t5":
        return tf.T5Config(
            vocab_size=vocab,
            d_model=64,
            d_kv=16,
            d_ff=128,
            num_layers=2,
            num_heads=4,
            decoder_start_token_id=tok.pad_token_id,
            pad_token_id=tok.pad_token_id,
            eos_token_id=tok.eos_token_id,
        )
    if arch == "t5gemma":
        from transformers.models.t5gemma.configuration_t5gemma import T5GemmaModuleConfig

        def module():
            return T5GemmaModuleConfig(
                vocab_size=vocab,
                head_dim=16,
                query_pre_attn_scalar=16,
                sliding_window=32,
                layer_types=["sliding_attention", "full_attention"],
                **_DECODER,
                **_ids(tok),
            )

        return tf.T5GemmaConfig(encoder=module(), decoder=module(), vocab_size=vocab, **_ids(tok))
    raise KeyError(f"no tiny builder for the {arch!r} architecture")


def _model(arch: str, tok):
    import transformers as tf

    config = _config(arch, tok)
    auto = tf.AutoModelForSeq2SeqLM if arch in ("t5", "t5gemma") else tf.AutoModelForCausalLM
    return auto.from_config(config)


def build(arch: str, family: str, out: Path, packaged_dir: Path) -> Path:
    """Build (once) the tiny `arch` model with the `family` tokenizer in `out`."""
    if (out / "config.json").is_file():
        return out
    import torch
    from transformers import AutoTokenizer

    tmp = out.with_name(f"{out.name}.tmp-{os.getpid()}")
    if family == "smollm2":
        AutoTokenizer.from_pretrained(packaged_dir).save_pretrained(tmp)
    else:
        build_tokenizer(family, tmp)
    tok = AutoTokenizer.from_pretrained(tmp)
    torch.manual_seed(0)
    model = _model(arch, tok)
    if model.generation_config is not None and tok.eos_token_id is not None:
        model.generation_config.pad_token_id = _ids(tok)["pad_token_id"]
    model.save_pretrained(tmp)
    try:
        os.rename(tmp, out)
    except OSError:  # another process built it first
        pass
    return out


def tiny_model_dir(template, cache: Path, packaged_dir: Path) -> Path:
    """The tiny model folder standing in for `template`'s base (built on first use)."""
    arch, family = family_of(template)
    return build(arch, family, cache / f"tiny-{arch}-{family}-v{VERSION}", packaged_dir)
