"""validate(): every problem at once, each naming its key; dangerous keys refused."""

from __future__ import annotations

import importlib

import pytest

from studio.configs import CPU_ONLY, Hardware, check
from studio.configs import validate as validate_problems
from studio.configs.defaults import default_dicts, default_hyper
from studio.errors import ConfigError, Problem
from studio.templates import TEMPLATES

GPU_NO_BF16 = Hardware(cuda=True, bf16=False, gpu_name="Fake T4", gpu_mem_gb=16)
# The module, not the function of the same name that studio.configs exports.
validate_module = importlib.import_module("studio.configs.validate")
contradictions_module = importlib.import_module("studio.configs.contradictions")


def validate(*args, **kwargs) -> list[str]:
    """The problems as the page and the log word them ("key: message")."""
    problems = validate_problems(*args, **kwargs)
    assert all(isinstance(p, Problem) for p in problems)
    return [str(p) for p in problems]


def _defaults(key="smollm2-135m-lora"):
    template = TEMPLATES[key]
    return template, default_hyper(template), default_dicts(template)


def _problems(section: str, **values) -> list[str]:
    template, hyper, dicts = _defaults()
    dicts[section].update(values)
    # The form must not overwrite the edited keys: drop the linked form values.
    return validate(template, {"valid_pct": 10.0}, dicts, CPU_ONLY)


def test_batch_size_zero_names_the_key():
    problems = _problems("trainer", per_device_train_batch_size=0)
    assert "trainer.per_device_train_batch_size: must be at least 1 (got 0)" in problems


def test_negative_lora_alpha_names_the_key():
    assert "peft.lora_alpha: must be > 0 (got -4)" in _problems("peft", lora_alpha=-4)


def test_wrong_type_names_the_key_and_the_type():
    problems = _problems("trainer", learning_rate="fast")
    assert any(
        p.startswith("trainer.learning_rate: must be a number (got 'fast'") for p in problems
    )
    problems = _problems("peft", r=8.5)
    assert any(p.startswith("peft.r: must be a whole number") for p in problems)


def test_unknown_key_suggests_close_matches():
    problems = _problems("trainer", learning_rte=1e-4)
    assert "trainer.learning_rte: unknown key; did you mean 'learning_rate'?" in problems


def test_choice_out_of_list():
    problems = _problems("trainer", lr_scheduler_type="zigzag")
    assert any(p.startswith("trainer.lr_scheduler_type: must be one of 'linear'") for p in problems)


GPU = Hardware(cuda=True, bf16=True, gpu_name="Fake A100", gpu_mem_gb=80)


def test_4bit_on_a_cpu_validates_and_bf16_where_unsupported_is_refused(monkeypatch):
    template = TEMPLATES["llama2-7b-qlora"]
    hyper, dicts = default_hyper(template, CPU_ONLY), default_dicts(template, hardware=CPU_ONLY)
    assert dicts["quantization"]["load_in_4bit"] is True
    assert validate(template, hyper, dicts, CPU_ONLY) == []  # bitsandbytes' CPU backend
    # The GPU's defaults (bf16 everywhere) on a CPU without bf16 say what to pick instead.
    hyper, dicts = default_hyper(template, GPU), default_dicts(template, hardware=GPU)
    problems = validate(template, hyper, dicts, CPU_ONLY)
    assert any(p.startswith("trainer.bf16: this CPU has no bf16 instructions") for p in problems)
    assert (
        "quantization.bnb_4bit_compute_dtype: is 'bfloat16' but this hardware does not support "
        "bf16; choose 'float32' (the CPU backend's fp32 kernel)"
    ) in problems
    assert not any("CUDA" in p for p in problems if p.startswith("quantization"))
    problems = validate(template, hyper, dicts, GPU_NO_BF16)
    assert problems == [
        "trainer.bf16: Fake T4 does not support bf16 (it needs an Ampere or newer CUDA GPU); "
        "choose fp16 or fp32",
        "model.dtype: is 'bfloat16' but this hardware does not support bf16; choose 'float32'",
        "quantization.bnb_4bit_compute_dtype: is 'bfloat16' but this hardware does not "
        "support bf16; choose 'float16'",
    ]
    dicts["model"]["dtype"] = "float16"
    dicts["quantization"]["bnb_4bit_compute_dtype"] = "float16"
    assert validate(template, {**hyper, "precision": "fp32"}, dicts, GPU_NO_BF16) == []
    monkeypatch.setattr(contradictions_module, "bitsandbytes_installed", lambda: False)
    problems = validate(template, {**hyper, "precision": "fp32"}, dicts, GPU_NO_BF16)
    assert problems and str(problems[0]).startswith(
        "quantization.load_in_4bit: 4-bit loading needs the bitsandbytes package"
    )


def test_fp16_on_cpu_is_refused_through_the_form():
    template, hyper, dicts = _defaults()
    problems = validate(template, {**hyper, "precision": "fp16"}, dicts, CPU_ONLY)
    assert any(
        p.startswith("trainer.fp16: fp16 mixed precision needs a CUDA GPU") for p in problems
    )


def test_every_problem_is_reported_at_once():
    template, hyper, dicts = _defaults()
    hyper.update(batch_size=0, lora_alpha=-4, invalid_tolerance_pct=150, precision="bf16")
    dicts["trainer"]["learning_rte"] = 1e-4
    dicts["model"]["trust_remote_code"] = True
    dicts["quantization"].update(load_in_4bit=True, load_in_8bit=True)
    problems = validate(template, hyper, dicts, CPU_ONLY)
    keys = [p.split(":")[0] for p in problems]
    for key in (
        "trainer.per_device_train_batch_size",
        "peft.lora_alpha",
        "studio.invalid_tolerance_pct",
        "trainer.bf16",
        "trainer.learning_rte",
        "model.trust_remote_code",
        "quantization.load_in_8bit",
    ):
        assert key in keys, (key, problems)
    with pytest.raises(ConfigError) as err:
        check(template, hyper, dicts, CPU_ONLY)
    assert [str(p) for p in err.value.problems] == problems
    assert "trainer.per_device_train_batch_size" in str(err.value)


@pytest.mark.parametrize(
    "section,key,value",
    [
        ("model", "trust_remote_code", True),
        ("model", "cache_dir", "/tmp/elsewhere"),
        ("model", "device_map", "/etc/device_map.json"),
        ("model", "token", "hf_abc"),
        ("tokenizer", "trust_remote_code", True),
        ("tokenizer", "truncation_side", "left"),
        ("trainer", "output_dir", "/tmp/out"),
        ("trainer", "logging_dir", "/tmp/logs"),
        ("trainer", "callbacks", ["os.system"]),
        ("trainer", "push_to_hub", True),
        ("trainer", "hub_model_id", "me/model"),
        ("trainer", "hub_token", "hf_abc"),
        ("trainer", "deepspeed", "/tmp/ds.json"),
        ("trainer", "resume_from_checkpoint", "/tmp/ckpt"),
    ],
)
def test_dangerous_keys_are_refused_with_a_reason(section, key, value):
    problems = _problems(section, **{key: value})
    hits = [p for p in problems if p.startswith(f"{section}.{key}: not allowed")]
    assert hits, problems


def test_report_to_only_none():
    assert _problems("trainer", report_to="none") == []
    problems = _problems("trainer", report_to="wandb")
    assert any(p.startswith("trainer.report_to: must be one of 'none'") for p in problems)


def test_library_option_the_studio_manages_is_refused():
    problems = _problems("trainer", ddp_timeout=10)
    assert any(
        p.startswith("trainer.ddp_timeout: the studio does not let you set") for p in problems
    )


def test_key_the_installed_library_dropped_is_refused(monkeypatch):
    real = validate_module.library_keys()
    trimmed = {**real, "trainer": real["trainer"] - {"warmup_steps"}}
    monkeypatch.setattr(validate_module, "library_keys", lambda: trimmed)
    problems = _problems("trainer", warmup_steps=5)
    assert any(
        p.startswith("trainer.warmup_steps: the installed TrainingArguments") for p in problems
    ), problems


def test_warmup_ratio_is_not_accepted_by_transformers_5():
    problems = _problems("trainer", warmup_ratio=0.1)
    assert any(p.startswith("trainer.warmup_ratio:") for p in problems)


def test_hyper_only_fields_are_checked():
    template, hyper, dicts = _defaults()
    problems = validate(
        template, {**hyper, "valid_pct": -1, "invalid_tolerance_pct": 101}, dicts, CPU_ONLY
    )
    assert "studio.valid_pct: must be at least 0 (got -1)" in problems
    assert "studio.invalid_tolerance_pct: must be at most 100 (got 101)" in problems
    problems = validate(template, {**hyper, "epocs": 3}, dicts, CPU_ONLY)
    assert "form.epocs: unknown setting; did you mean 'epochs'?" in problems


def test_contradictions_between_dicts():
    template, hyper, dicts = _defaults("tiny-gpt-scratch")
    dicts["peft"] = {"r": 8, "lora_alpha": 16}
    dicts["model"]["architecture"]["num_attention_heads"] = 5
    hyper["max_length"] = 4096
    problems = validate(template, hyper, dicts, CPU_ONLY)
    assert any(p.startswith("peft: a model trained from scratch has no adapter") for p in problems)
    assert any(
        p.startswith("model.architecture.num_attention_heads: 5 must divide") for p in problems
    )
    assert any(p.startswith("tokenizer.max_length: 4096 is longer") for p in problems)


def test_task_type_must_match_the_model_type():
    template, hyper, dicts = _defaults("flan-t5-base-lora")
    dicts["peft"]["task_type"] = "CAUSAL_LM"
    problems = validate(template, hyper, dicts, CPU_ONLY)
    assert (
        "peft.task_type: must be 'SEQ_2_SEQ_LM' for a Text-to-Text model (got 'CAUSAL_LM')"
        in problems
    )
    problems = validate(template, hyper, default_dicts(template), CPU_ONLY, model_type="causal")
    assert any(p.startswith("model_type: the template 'FLAN-T5 base LoRA'") for p in problems)


def test_evaluation_without_a_validation_split():
    template, hyper, dicts = _defaults()
    problems = validate(template, {**hyper, "valid_pct": 0}, dicts, CPU_ONLY)
    assert any(
        p.startswith("trainer.eval_strategy: is 'steps' but the validation share is 0")
        for p in problems
    )
    dicts["trainer"]["eval_strategy"] = "no"
    dicts["trainer"]["save_strategy"] = "no"
    assert validate(template, {**hyper, "valid_pct": 0}, dicts, CPU_ONLY) == []


def test_sections_must_be_objects_and_known():
    template, hyper, dicts = _defaults()
    dicts["trainer"] = [1, 2]
    dicts["optimizer"] = {}
    problems = validate(template, hyper, dicts, CPU_ONLY)
    assert "trainer: must be a JSON object {...} (got list)" in problems
    assert any(p.startswith("optimizer: unknown section") for p in problems)


def test_target_modules_must_be_names():
    template, hyper, dicts = _defaults()
    problems = validate(
        template, {**hyper, "target_modules": ["q_proj", "rm -rf /"]}, dicts, CPU_ONLY
    )
    assert any(
        p.startswith("peft.target_modules: 'rm -rf /' is not a module name") for p in problems
    )
    assert validate(template, {**hyper, "target_modules": "all-linear"}, dicts, CPU_ONLY) == []
    problems = validate(template, {**hyper, "target_modules": "everything"}, dicts, CPU_ONLY)
    assert any(
        p.startswith("peft.target_modules: must be a list of module names") for p in problems
    )


def test_a_form_value_of_the_wrong_type_hides_no_other_problem():
    template, hyper, dicts = _defaults()
    hyper.update(max_steps="abc", batch_size=0, learning_rate=None, valid_pct="ten")
    problems = validate(template, hyper, dicts, CPU_ONLY)
    assert any(
        p.startswith("trainer.max_steps: must be a whole number (got 'abc'") for p in problems
    )
    assert "trainer.per_device_train_batch_size: must be at least 1 (got 0)" in problems
    assert "trainer.learning_rate: must be a number, not null" in problems
    assert any(p.startswith("studio.valid_pct: must be a number") for p in problems)
    assert len(problems) == 4, problems  # each once, under the key the trainer reads


def test_negative_max_steps_is_reported_not_turned_into_no_limit():
    template, hyper, dicts = _defaults()
    problems = validate(template, {**hyper, "max_steps": -5}, dicts, CPU_ONLY)
    assert "trainer.max_steps: must be at least 0 (got -5)" in problems
    dicts["trainer"]["max_steps"] = -5  # a JSON edit read back into the form keeps its value
    from studio.configs import hyperparameters_from_dicts

    assert hyperparameters_from_dicts(dicts, hyper)["max_steps"] == -5
    assert validate(template, {**hyper, "max_steps": 0}, dicts, CPU_ONLY) == []  # 0: no limit


def test_save_model_reports_a_wrong_type_instead_of_crashing(store, settings):
    from studio.actions.ownership import Caller
    from studio.actions.save_model import save_model

    template, hyper, dicts = _defaults()
    app = store.create_app("a")
    with store.transaction() as conn:
        ds = store.get_or_create_dataset(app["id"], "d", conn=conn)
        version = store.add_dataset_version(
            conn, ds["id"], content_hash="h", path="", n_rows=4, n_accepted=4, stats={}
        )
    with pytest.raises(ConfigError) as err:
        save_model(
            store,
            settings,
            Caller("local"),
            app["id"],
            "m",
            template.key,
            "causal",
            version["id"],
            {**hyper, "max_steps": "abc"},
            dicts,
            CPU_ONLY,
        )
    assert any(p.key == "trainer.max_steps" for p in err.value.problems)
