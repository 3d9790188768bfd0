"""load_tokenizer applies the tokenizer dict; load_model never runs remote code."""

from __future__ import annotations

import pytest

from studio.errors import ConfigError


def test_special_token_overrides_are_applied(settings, tiny_causal_dir):
    from studio.models.loading import load_tokenizer

    plain = load_tokenizer(str(tiny_causal_dir), settings)
    other = next(t for t in ("<|im_start|>", "<|endoftext|>") if t != plain.pad_token)
    tok = load_tokenizer(
        str(tiny_causal_dir),
        settings,
        {"pad_token": other, "eos_token": None, "padding_side": "left"},
    )
    assert tok.pad_token == other and tok.pad_token_id == tok.convert_tokens_to_ids(other)
    assert tok.eos_token == plain.eos_token  # null: the tokenizer's own
    assert tok.padding_side == "left"


def test_an_override_the_vocabulary_lacks_is_refused(settings, tiny_causal_dir):
    from studio.models.loading import load_tokenizer

    with pytest.raises(ConfigError) as err:
        load_tokenizer(
            str(tiny_causal_dir),
            settings,
            {"pad_token": "<no-such-token>", "sep_token": "<nor-this>"},
        )
    assert [p.key for p in err.value.problems] == [
        "tokenizer.sep_token",
        "tokenizer.pad_token",
    ]
    assert "not in the vocabulary" in err.value.problems[1].message


def test_trust_remote_code_in_the_model_dict_is_ignored(settings, tiny_causal_dir, monkeypatch):
    from transformers import AutoModelForCausalLM

    from studio.models.loading import load_model

    seen = {}
    real = AutoModelForCausalLM.from_pretrained

    def spy(*args, **kwargs):
        seen.update(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(AutoModelForCausalLM, "from_pretrained", spy)
    load_model(str(tiny_causal_dir), settings, model_cfg={"trust_remote_code": True}, device="cpu")
    assert seen["trust_remote_code"] is False and seen["use_safetensors"] is True


@pytest.mark.parametrize(
    ("cuda", "bf16", "expected"),
    [(False, False, "float32"), (True, True, "bfloat16"), (True, False, "float16")],
)
def test_answers_load_in_the_precision_the_device_runs(monkeypatch, cuda, bf16, expected):
    import torch

    from studio.models.loading import inference_dtype

    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: bf16)
    assert inference_dtype() == expected


def test_generate_loads_its_model_in_that_precision(monkeypatch, settings, store):
    from studio.generate import engine as engine_module
    from studio.generate.engine import Engine

    seen = []

    def fake_load(source, settings_, model_type="causal", model_cfg=None, **kw):
        seen.append(model_cfg)
        raise RuntimeError("stop here")

    monkeypatch.setattr(engine_module, "inference_dtype", lambda: "bfloat16")
    monkeypatch.setattr(engine_module, "load_model", fake_load)
    engine = Engine(settings, store)
    with pytest.raises(RuntimeError, match="stop here"):
        engine.load(engine.spec("base:smollm2-135m-lora"))
    assert seen == [{"dtype": "bfloat16"}]
