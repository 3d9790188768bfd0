"""The studio's own settings (read by the studio, never given to a library) live in the studio
section: validated like any other key there, refused with a pointer in the trainer dict, and
never handed to TrainingArguments."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    ("key", "good", "bad"),
    [("packing", True, "yes"), ("share_prefix", False, "no"), ("processes", 1, 0)],
)
def test_a_studio_setting_is_validated_in_the_studio_section_only(tmp_path, key, good, bad):
    from studio.configs import CPU_ONLY, validate
    from studio.configs.defaults import default_dicts
    from studio.configs.training_args import training_arguments
    from studio.templates import TEMPLATES

    template = TEMPLATES["smollm2-135m-lora"]
    dicts = default_dicts(template)
    dicts["studio"][key] = good
    problems = validate(template, {"valid_pct": 10.0}, dicts, CPU_ONLY)
    assert not [p for p in problems if key in p.key], problems
    dicts["studio"][key] = bad
    problems = validate(template, {"valid_pct": 10.0}, dicts, CPU_ONLY)
    assert f"studio.{key}" in [p.key for p in problems], problems
    dicts["studio"][key] = good
    dicts["trainer"][key] = good
    problems = validate(template, {"valid_pct": 10.0}, dicts, CPU_ONLY)
    moved = [p for p in problems if p.key == f"trainer.{key}"]
    assert moved and "set it in the studio section" in moved[0].message
    args = training_arguments({"save_strategy": "no"}, "lora", tmp_path, has_eval=False)
    assert not hasattr(args, key)
