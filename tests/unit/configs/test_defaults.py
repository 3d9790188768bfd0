"""A template's starting values live in configs; templates and the shared words stay data."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from studio.configs.defaults import default_dicts, trained_method, trains_adapter
from studio.templates import TEMPLATES
from studio.vocab.models import METHODS, TASK_TYPES, task_type

STUDIO = Path(__file__).resolve().parents[3] / "studio"


def _studio_imports(package: str) -> set[str]:
    """The studio packages / modules that the files of `package` import."""
    out = set()
    for path in (STUDIO / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else ([node.module] if isinstance(node, ast.ImportFrom) and node.module else [])
            )
            out |= {n.split(".")[1] for n in names if n.startswith("studio.")}
    return out - {package}


def test_templates_are_data_and_vocab_imports_nothing_from_the_studio():
    assert "configs" not in _studio_imports("templates")
    assert _studio_imports("vocab") == set()


@pytest.mark.parametrize(
    ("template_method", "base", "dicts", "method"),
    [
        ("lora", "scratch:tiny", None, "scratch"),  # a scratch ref wins over the template
        ("scratch", "anything", {"quantization": {}, "peft": {"r": 8}}, "scratch"),
        ("lora", "gpt2", None, "lora"),  # no dicts: the template's method stands
        ("qlora", "gpt2", {"quantization": {}, "peft": {"r": 8}}, "lora"),  # 4 bits dropped
        ("lora", "gpt2", {"quantization": {"load_in_8bit": True}, "peft": {"r": 8}}, "qlora"),
        ("lora", "gpt2", {"quantization": {}, "peft": {}}, "full"),  # adapter dropped
    ],
)
def test_trained_method_is_what_training_really_does(template_method, base, dicts, method):
    assert trained_method(template_method, base, dicts) == method
    assert method in METHODS


def test_every_template_trains_its_own_method_by_default():
    for template in TEMPLATES.values():
        dicts = default_dicts(template)
        method = trained_method(template.method, template.base_model, dicts)
        assert method == template.method, template.key
        assert trains_adapter(method) == bool(dicts["peft"])


def test_task_type_per_model_type():
    assert {m: task_type(m) for m in TASK_TYPES} == {
        "causal": "CAUSAL_LM",
        "seq2seq": "SEQ_2_SEQ_LM",
    }
    assert task_type("unknown") == "CAUSAL_LM"
