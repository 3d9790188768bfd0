"""trainer.activation_checkpointing (transformers' name now) and gradient_checkpointing (its
former name) are both accepted; the trainer gets the name the installed version takes, so
no deprecation warning is raised for a config written either way."""

from __future__ import annotations

import warnings

import pytest

from studio.configs.schemas import activation_checkpointing
from studio.configs.training_args import named_as_installed

NEW, OLD = "activation_checkpointing", "gradient_checkpointing"


@pytest.mark.parametrize("key", [NEW, OLD])
def test_either_name_is_valid_and_reaches_the_trainer_without_a_warning(tmp_path, key):
    from studio.configs import CPU_ONLY, validate
    from studio.configs.defaults import default_dicts
    from studio.configs.training_args import training_arguments
    from studio.templates import TEMPLATES

    template = TEMPLATES["smollm2-135m-lora"]
    dicts = default_dicts(template)
    dicts["trainer"].pop(NEW, None)
    dicts["trainer"][key] = True
    problems = validate(template, {"valid_pct": 10.0}, dicts, CPU_ONLY)
    assert not [p for p in problems if "checkpointing" in str(p)], problems
    dicts["trainer"][key] = "yes"
    problems = validate(template, {"valid_pct": 10.0}, dicts, CPU_ONLY)
    assert any(p.key == f"trainer.{key}" for p in problems), problems
    trainer = {key: True, "save_strategy": "no"}
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)  # the deprecation is a FutureWarning
        args = training_arguments(trainer, "lora", tmp_path, has_eval=False)
    assert args.activation_checkpointing is True
    assert activation_checkpointing(trainer) is True


def test_names_follow_the_installed_version_and_the_new_name_wins():
    both = {NEW, OLD}
    assert named_as_installed({OLD: True}, both) == {NEW: True}
    assert named_as_installed({OLD: False, NEW: True}, both) == {NEW: True}
    assert named_as_installed({OLD: True, NEW: None}, both) == {NEW: True}
    assert named_as_installed({NEW: True}, {OLD}) == {OLD: True}  # an older transformers
    assert activation_checkpointing({OLD: False, NEW: True}) is True
    assert activation_checkpointing({}) is False


def test_templates_write_the_new_name():
    from studio.configs.defaults import default_dicts
    from studio.templates import TEMPLATES

    for template in TEMPLATES.values():
        assert OLD not in default_dicts(template)["trainer"], template.key
