"""Shared fixtures: a Settings and Store per test, and tiny models built once per session.

The packaged SmolLM2 is converted once into a cache shared by all test runs on this machine
(STUDIO_TEST_CACHE, default ~/.cache/textgen-studio-tests) so the suite stays fast.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")  # tests never reach the Hub
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# The suite's expectations must not depend on this machine's CPU: the defaults start at fp32
# as on a CPU without bf16 instructions; tests/unit/configs/test_cpu_bf16.py covers the rest.
os.environ.setdefault("STUDIO_CPU_BF16", "0")

from studio.settings import Settings  # noqa: E402
from studio.store import Store  # noqa: E402

TEST_CACHE = Path(
    os.environ.get("STUDIO_TEST_CACHE", Path.home() / ".cache" / "textgen-studio-tests")
)


@pytest.fixture(scope="session")
def models_cache() -> Path:
    TEST_CACHE.mkdir(parents=True, exist_ok=True)
    return TEST_CACHE / "models"


@pytest.fixture
def settings(tmp_path, models_cache) -> Settings:
    s = Settings.from_env(home=tmp_path / "home", models_root=models_cache, port=0)
    s.ensure_dirs()
    return s


@pytest.fixture
def store(settings) -> Store:
    return Store(settings.db_path, files_root=settings.apps_dir)


@pytest.fixture(scope="session")
def packaged_model_dir(models_cache) -> Path:
    from studio.models.resolve import ensure_packaged_model

    return ensure_packaged_model(Settings.from_env(home=TEST_CACHE, models_root=models_cache))


def _tiny(out: Path, packaged: Path, build) -> Path:
    if (out / "config.json").is_file():
        return out
    import torch
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(packaged)
    torch.manual_seed(0)
    tmp = out.with_name(out.name + f".tmp-{os.getpid()}")
    model = build(tokenizer)
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    try:
        os.rename(tmp, out)
    except OSError:
        pass
    return out


@pytest.fixture(scope="session")
def tiny_causal_dir(packaged_model_dir, models_cache) -> Path:
    """A tiny random LlamaForCausalLM (2 layers, hidden 64) with the SmolLM2 tokenizer."""

    def build(tok):
        from transformers import LlamaConfig, LlamaForCausalLM

        cfg = LlamaConfig(
            vocab_size=len(tok),
            hidden_size=64,
            intermediate_size=128,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
            max_position_embeddings=512,
            bos_token_id=tok.bos_token_id,
            eos_token_id=tok.eos_token_id,
            pad_token_id=tok.pad_token_id,
            tie_word_embeddings=True,
        )
        return LlamaForCausalLM(cfg)

    return _tiny(models_cache / "tiny-llama", packaged_model_dir, build)


@pytest.fixture(scope="session")
def tiny_seq2seq_dir(packaged_model_dir, models_cache) -> Path:
    """A tiny random T5ForConditionalGeneration with the SmolLM2 tokenizer."""

    def build(tok):
        from transformers import T5Config, T5ForConditionalGeneration

        pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
        cfg = T5Config(
            vocab_size=len(tok),
            d_model=64,
            d_kv=16,
            d_ff=128,
            num_layers=2,
            num_heads=4,
            decoder_start_token_id=pad,
            pad_token_id=pad,
            eos_token_id=tok.eos_token_id,
        )
        return T5ForConditionalGeneration(cfg)

    return _tiny(models_cache / "tiny-t5", packaged_model_dir, build)
