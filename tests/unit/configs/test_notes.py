"""Validate's notes: what a 4-bit or 8-bit base gives on a CPU, said once the settings pass."""

from __future__ import annotations

from studio.configs import CPU_ONLY, Hardware
from studio.configs.defaults import default_dicts, default_hyper
from studio.configs.notes import setting_notes
from studio.templates import get_template
from studio.ui.context import UIContext
from studio.ui.models import handlers as h
from studio.ui.models.config_form import dicts_to_texts, hyper_to_form

GPU = Hardware(cuda=True, bf16=True, gpu_name="Fake A100", gpu_mem_gb=80)
AMX_CPU = Hardware(cpu_bf16="AMX")


def _dicts(key: str, hw=CPU_ONLY) -> dict:
    return default_dicts(get_template(key), hardware=hw)


def test_qlora_on_a_cpu_says_what_it_gives():
    notes = setting_notes(_dicts("smollm2-135m-qlora"), CPU_ONLY)
    assert len(notes) == 1 and notes[0].startswith("QLoRA on a CPU")
    assert "a third of their fp32 memory" in notes[0] and "longer than LoRA" in notes[0]
    # A CPU with bf16 instructions hears that bf16 compute is the faster choice there.
    assert any(
        "bnb_4bit_compute_dtype 'bfloat16'" in n
        for n in setting_notes(_dicts("smollm2-135m-qlora"), AMX_CPU)
    )


def test_nothing_to_say_for_lora_or_on_a_gpu():
    assert setting_notes(_dicts("smollm2-135m-lora"), CPU_ONLY) == []
    assert setting_notes(_dicts("llama2-7b-qlora", GPU), GPU) == []
    eight = {**_dicts("smollm2-135m-qlora"), "quantization": {"load_in_8bit": True}}
    assert setting_notes(eight, CPU_ONLY)[0].startswith("8-bit on a CPU")


def test_validate_on_the_models_tab_shows_the_note(settings, store, monkeypatch):
    monkeypatch.setattr(h, "detect_hardware", lambda: CPU_ONLY)
    t = get_template("smollm2-135m-qlora")
    values = [*hyper_to_form(default_hyper(t, CPU_ONLY)), *dicts_to_texts(_dicts(t.key))]
    text, marked = h.on_validate(
        UIContext(settings=settings, store=store), t.key, "causal", "m", *values
    )
    assert text.startswith("No problems") and "*Note:* QLoRA on a CPU" in text and marked == []
