"""validate() against the machine: settings the hardware or the trainer cannot run are
refused with a reason, consistent ones pass, and optional packages are asked for by name."""

from __future__ import annotations

import pytest

from studio.configs import CPU_ONLY, Hardware
from tests.unit.configs.test_validate import GPU_NO_BF16, _defaults, validate

GPU_AMPERE = Hardware(cuda=True, bf16=True, tf32=True, gpu_name="Fake A100", gpu_mem_gb=80)


@pytest.mark.parametrize(
    "section,values,hardware,expected",
    [
        ("trainer", {"tf32": True}, CPU_ONLY, "trainer.tf32: TF32 needs an Ampere or newer"),
        ("trainer", {"tf32": True}, GPU_NO_BF16, "trainer.tf32: TF32 needs an Ampere or newer"),
        ("trainer", {"optim": "paged_adamw_8bit"}, CPU_ONLY, "trainer.optim: 'paged_adamw_8bit'"),
        (
            "model",
            {"attn_implementation": "flash_attention_2"},
            CPU_ONLY,
            "model.attn_implementation: 'flash_attention_2' needs a CUDA GPU",
        ),
        ("model", {"dtype": "bfloat16"}, CPU_ONLY, "model.dtype: is 'bfloat16' but"),
        (
            "trainer",
            {
                "load_best_model_at_end": True,
                "eval_strategy": "steps",
                "eval_steps": 4,
                "save_strategy": "steps",
                "save_steps": 6,
            },
            CPU_ONLY,
            "trainer.load_best_model_at_end: needs save_steps (6) to be a multiple of eval_steps (4)",
        ),
        (
            "trainer",
            {
                "load_best_model_at_end": True,
                "eval_strategy": "steps",
                "eval_steps": 4,
                "save_strategy": "epoch",
            },
            CPU_ONLY,
            "trainer.load_best_model_at_end: needs eval_strategy and save_strategy to be the same",
        ),
    ],
)
def test_settings_the_hardware_or_trainer_cannot_run(section, values, hardware, expected):
    template, hyper, dicts = _defaults()
    dicts[section].update(values)
    problems = validate(template, {"valid_pct": 10.0}, dicts, hardware)
    assert any(p.startswith(expected) for p in problems), problems


@pytest.mark.parametrize(
    "section,values,hardware",
    [
        (
            "trainer",
            {
                "load_best_model_at_end": True,
                "eval_strategy": "steps",
                "eval_steps": 4,
                "save_strategy": "steps",
                "save_steps": 8,
            },
            CPU_ONLY,
        ),
        (
            "trainer",
            {
                "load_best_model_at_end": True,
                "eval_strategy": "steps",
                "eval_steps": 0.1,
                "save_strategy": "steps",
                "save_steps": 0.2,
            },
            CPU_ONLY,
        ),
        (
            "trainer",
            {"load_best_model_at_end": True, "eval_strategy": "epoch", "save_strategy": "best"},
            CPU_ONLY,
        ),
        ("trainer", {"tf32": False, "optim": "adamw_torch"}, CPU_ONLY),
        ("trainer", {"tf32": True, "optim": "paged_adamw_8bit"}, GPU_AMPERE),
        ("model", {"attn_implementation": "sdpa", "dtype": "bfloat16"}, GPU_AMPERE),
    ],
)
def test_consistent_settings_pass(section, values, hardware):
    template, hyper, dicts = _defaults()
    dicts[section].update(values)
    assert validate(template, {"valid_pct": 10.0}, dicts, hardware) == []


def test_flash_attention_on_a_gpu_needs_the_package(monkeypatch):
    import studio.configs.hardware as hardware_module

    monkeypatch.setattr(hardware_module, "flash_attn_installed", lambda: False)
    template, hyper, dicts = _defaults()
    dicts["model"]["attn_implementation"] = "flash_attention_2"
    problems = validate(template, {"valid_pct": 10.0}, dicts, GPU_AMPERE)
    assert any(
        p.startswith("model.attn_implementation: 'flash_attention_2' needs the flash-attn package")
        for p in problems
    ), problems
