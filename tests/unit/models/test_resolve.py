"""Resolving base models: packaged default, local folders, Hub ids that are not here."""

from __future__ import annotations

import os

import pytest

from studio.errors import ModelUnavailableError
from studio.models.resolve import (
    PACKAGED_REF,
    ensure_packaged_model,
    model_availability,
    resolve_model_path,
)
from studio.settings import Settings


def test_packaged_model_converts_once_then_is_reused(tmp_path, packaged_model_dir):
    # A fresh models dir: the first call converts, the second returns the same folder untouched.
    s = Settings.from_env(home=tmp_path / "h", models_root=tmp_path / "models")
    first = ensure_packaged_model(s)
    assert (first / "model.safetensors").is_file() and (first / "tokenizer.json").is_file()
    mtime = os.stat(first / "model.safetensors").st_mtime_ns
    assert resolve_model_path(PACKAGED_REF, s) == str(first)
    assert os.stat(first / "model.safetensors").st_mtime_ns == mtime
    assert not list((tmp_path / "models").glob(".*tmp*")), "temporary folder left behind"


@pytest.mark.slow
def test_packaged_model_answers_a_question(settings):
    import torch

    from studio.models.loading import load_model, load_tokenizer

    tok = load_tokenizer(PACKAGED_REF, settings)
    model = load_model(PACKAGED_REF, settings)
    msgs = [{"role": "user", "content": "What is the capital of France?"}]
    ids = tok.apply_chat_template(
        msgs, add_generation_prompt=True, return_tensors="pt", return_dict=True
    )
    with torch.no_grad():
        out = model.generate(**ids, max_new_tokens=20, do_sample=False)
    answer = tok.decode(out[0][ids["input_ids"].shape[1] :], skip_special_tokens=True)
    assert "Paris" in answer
    # The tokenizer round-trips text exactly.
    text = "### Instruction: Résumé, naïve café — 42 ### Assistant: ok"
    assert tok.decode(tok(text)["input_ids"], skip_special_tokens=True) == text


def test_missing_hub_model_gives_a_clear_error(settings):
    ok, reason = model_availability("someone/not-a-cached-model", settings)
    assert not ok and "someone/not-a-cached-model" in reason and "huggingface-cli" in reason
    with pytest.raises(ModelUnavailableError, match="someone/not-a-cached-model"):
        resolve_model_path("someone/not-a-cached-model", settings)  # HF_HUB_OFFLINE=1 in tests


def test_local_folder_and_bad_refs(settings, tiny_causal_dir, tmp_path):
    assert resolve_model_path(str(tiny_causal_dir), settings) == str(tiny_causal_dir)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ModelUnavailableError, match="no config.json"):
        resolve_model_path(str(empty), settings)
    assert not model_availability("not a model id!", settings)[0]
    assert model_availability("scratch:tiny-gpt", settings)[0]


def test_four_bit_without_cuda_is_refused_clearly(settings, tiny_causal_dir):
    import torch

    from studio.models.loading import load_model

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(ModelUnavailableError, match="CUDA GPU"):
        load_model(str(tiny_causal_dir), settings, quant_cfg={"load_in_4bit": True})


def test_scratch_model_uses_the_packaged_tokenizer_vocab(settings, packaged_model_dir):
    from studio.models.loading import load_model, load_tokenizer

    tok = load_tokenizer("scratch:tiny-gpt", settings)
    model = load_model(
        "scratch:tiny-gpt", settings, model_cfg={"architecture": {"num_hidden_layers": 1}}
    )
    assert model.config.vocab_size == len(tok) and model.config.num_hidden_layers == 1
