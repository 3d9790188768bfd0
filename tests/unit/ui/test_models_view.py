"""Which parts of the Models form apply per template, and the tab's other pure helpers."""

from __future__ import annotations

import pytest

from studio.configs.defaults import default_dicts
from studio.templates import TEMPLATES
from studio.ui.models.views import (
    ARCH_FORM,
    arch_to_form,
    form_layout,
    form_to_arch,
    version_summary,
)


@pytest.mark.parametrize("key", sorted(TEMPLATES))
def test_lora_fields_show_exactly_for_adapter_templates(key):
    template = TEMPLATES[key]
    layout = form_layout(key)
    assert layout.adapter == (template.method in ("lora", "qlora"))
    assert layout.adapter == bool(default_dicts(template)["peft"])  # agrees with the dicts
    assert layout.architecture == (template.method == "scratch")
    assert bool(layout.note) != layout.adapter


def test_scratch_template_hides_lora_and_says_why():
    layout = form_layout("tiny-gpt-scratch")
    assert (layout.method, layout.adapter, layout.architecture) == ("scratch", False, True)
    assert "LoRA settings and the PEFT config do not apply" in layout.note


def test_custom_follows_the_typed_base_model():
    assert form_layout("custom", "EleutherAI/gpt-neo-125m").adapter is True
    scratch = form_layout("custom", " scratch:tiny-gpt ")
    assert (scratch.method, scratch.adapter, scratch.architecture) == ("scratch", False, True)


def test_architecture_fields_round_trip_and_keep_other_keys():
    model = default_dicts(TEMPLATES["tiny-gpt-scratch"])["model"]
    values = arch_to_form(model)
    assert values == [model["architecture"][k] for k in ARCH_FORM]
    # gr.Number gives floats; an emptied box drops the key (studio default).
    edited = form_to_arch(model, [128.0, 384, 2, 4, None, 512])
    assert edited["architecture"]["hidden_size"] == 128
    assert isinstance(edited["architecture"]["hidden_size"], int)
    assert "num_key_value_heads" not in edited["architecture"]
    assert edited["architecture"]["tie_word_embeddings"] is True
    assert edited["dtype"] == model["dtype"]
    assert model["architecture"]["hidden_size"] == 256  # the input is not changed
    assert arch_to_form({}) == [None] * len(ARCH_FORM)


def test_version_summary_handles_missing_stats_and_long_label_lists():
    bare = {"version": 3, "n_rows": 0, "n_accepted": 0, "n_rejected": 0, "valid_pct": 10}
    assert version_summary(bare, "notes") == (
        "**notes v3:** 0 rows, 0 accepted, 0 rejected · validation 10%"
    )
    labels = [f"l{i}" for i in range(11)]
    row = {
        **bare,
        "n_rows": 20,
        "n_accepted": 15,
        "n_rejected": 5,
        "n_duplicates": 2,
        "stats": {"task": "classification", "labels": labels},
    }
    text = version_summary(row, "tickets")
    assert "20 rows, 15 accepted, 5 rejected (25%), 2 duplicates" in text
    assert "labels l0, l1, l2, l3, l4, l5, l6, l7 (+3 more)" in text
