"""The studio's own trainer options (read by the training process, never given to
TrainingArguments): validated like any other key, kept out of TrainingArguments."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    ("key", "good", "bad"), [("packing", True, "yes"), ("share_prefix", False, "no")]
)
def test_a_studio_trainer_option_is_validated_and_read_by_the_studio_itself(
    tmp_path, key, good, bad
):
    from studio.configs import CPU_ONLY, validate
    from studio.configs.defaults import default_dicts
    from studio.configs.training_args import training_arguments
    from studio.templates import TEMPLATES

    template = TEMPLATES["smollm2-135m-lora"]
    dicts = default_dicts(template)
    dicts["trainer"][key] = good
    problems = validate(template, {"valid_pct": 10.0}, dicts, CPU_ONLY)
    assert not [p for p in problems if key in p], problems
    dicts["trainer"][key] = bad
    problems = validate(template, {"valid_pct": 10.0}, dicts, CPU_ONLY)
    assert any(p.startswith(f"trainer.{key}:") for p in problems), problems
    cfg = {"trainer": {key: good, "save_strategy": "no"}, "method": "lora"}
    args = training_arguments(cfg, tmp_path, has_eval=False)
    assert not hasattr(args, key)
