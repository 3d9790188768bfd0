"""Each template's LoRA target modules exist in its architecture, and Validate says when not.

The architecture is built on the meta device from its transformers config class (no weights,
no download), as Validate does for a base not on this machine yet.
"""

from __future__ import annotations

import pytest

from studio.configs import CPU_ONLY, validate
from studio.configs.defaults import default_dicts, default_hyper
from studio.models.architecture import meta_model
from studio.templates import TEMPLATES

ADAPTED = sorted(k for k, t in TEMPLATES.items() if t.peft and t.architecture)


def _module_names(architecture: str, model_type: str) -> list[str]:
    model = meta_model({"model_type": architecture}, model_type)
    assert model is not None, f"transformers cannot build {architecture!r}"
    return [name for name, _ in model.named_modules() if name]


def test_every_template_but_custom_names_its_architecture():
    assert {k for k, t in TEMPLATES.items() if not t.architecture} == {"custom"}


@pytest.mark.parametrize("key", ADAPTED)
def test_template_targets_exist_in_its_architecture(key):
    template = TEMPLATES[key]
    targets = default_dicts(template, hardware=CPU_ONLY)["peft"]["target_modules"]
    assert isinstance(targets, list) and targets
    names = _module_names(template.architecture, template.model_type)
    missing = [t for t in targets if not any(n.endswith("." + t) for n in names)]
    assert not missing, f"{key}: {missing} not in {template.architecture}"


@pytest.mark.parametrize("key", ["qwen3-4b-qlora", "gpt-neo-125m-lora", "flan-t5-base-lora"])
def test_a_target_the_architecture_lacks_fails_validate_before_any_download(key):
    template = TEMPLATES[key]
    hyper = default_hyper(template, CPU_ONLY)
    hyper["target_modules"] = [*hyper["target_modules"][:1], "c_attn"]
    problems = validate(template, hyper, default_dicts(template, hardware=CPU_ONLY), CPU_ONLY)
    assert len(problems) == 1 and str(problems[0]).startswith(
        f"peft.target_modules: 'c_attn' names no module of {template.base_model}"
    ), problems
