"""The form <-> dicts mapping and FieldSpec checks."""

from __future__ import annotations

from studio.configs import (
    HYPER_FIELDS,
    FieldSpec,
    apply_hyperparameters,
    check_value,
    hyperparameters_from_dicts,
    parse_target_modules,
)
from studio.configs.defaults import default_dicts, default_hyper
from studio.templates import TEMPLATES


def test_form_values_land_on_the_keys_the_libraries_read():
    hyper = dict(
        epochs=2.0,
        learning_rate=1e-3,
        lr_scheduler="cosine",
        warmup_steps=7,
        batch_size=4,
        grad_accum=3,
        max_length=128,
        lora_r=4,
        lora_alpha=8,
        lora_dropout=0.1,
        target_modules=["q_proj"],
        seed=7,
        precision="bf16",
        max_steps=0,
    )
    base = default_dicts(TEMPLATES["smollm2-135m-lora"])
    dicts = apply_hyperparameters(base, hyper)
    t, p = dicts["trainer"], dicts["peft"]
    assert (t["num_train_epochs"], t["learning_rate"], t["lr_scheduler_type"]) == (
        2.0,
        1e-3,
        "cosine",
    )
    assert (t["warmup_steps"], t["per_device_train_batch_size"]) == (7, 4)
    assert (t["gradient_accumulation_steps"], t["seed"]) == (3, 7)
    assert (t["bf16"], t["fp16"], t["max_steps"]) == (True, False, -1)
    assert dicts["tokenizer"]["max_length"] == 128
    assert (p["r"], p["lora_alpha"], p["lora_dropout"], p["target_modules"]) == (
        4,
        8,
        0.1,
        ["q_proj"],
    )
    assert base["peft"]["r"] == 16, "the input dicts must not change"
    assert apply_hyperparameters(base, {"max_steps": 50})["trainer"]["max_steps"] == 50


def test_dicts_back_to_form_round_trips():
    template = TEMPLATES["smollm2-135m-lora"]
    hyper = {**default_hyper(template), "max_steps": 30, "precision": "fp16", "lora_r": 16}
    back = hyperparameters_from_dicts(apply_hyperparameters(default_dicts(template), hyper), {})
    for key in (
        "epochs",
        "learning_rate",
        "lora_r",
        "max_steps",
        "precision",
        "max_length",
        "target_modules",
        "base_model",
    ):
        assert back[key] == hyper[key], key


def test_json_edit_flows_back_to_the_form():
    dicts = default_dicts(TEMPLATES["smollm2-135m-lora"])
    dicts["trainer"]["per_device_train_batch_size"] = 2
    dicts["trainer"]["max_steps"] = -1
    del dicts["studio"]["valid_pct"]  # a key the sections lack keeps the form's value
    hyper = hyperparameters_from_dicts(dicts, {"batch_size": 8, "valid_pct": 20.0})
    assert hyper["batch_size"] == 2 and hyper["max_steps"] == 0 and hyper["valid_pct"] == 20.0


def test_lora_fields_skip_models_without_an_adapter():
    scratch = default_dicts(TEMPLATES["tiny-gpt-scratch"])
    assert apply_hyperparameters(scratch, {"lora_r": 64})["peft"] == {}


def test_empty_base_model_box_keeps_the_template_model():
    dicts = default_dicts(TEMPLATES["smollm2-135m-lora"])
    out = apply_hyperparameters(dicts, {"base_model": ""})
    assert out["model"]["base_model"] == dicts["model"]["base_model"]


def test_parse_target_modules():
    assert parse_target_modules("q_proj, v_proj\nk_proj") == ["q_proj", "v_proj", "k_proj"]
    assert parse_target_modules("all-linear") == "all-linear"
    assert parse_target_modules("") == []


def test_fieldspec_checks():
    def check(name, spec, value):
        problem = check_value(name, spec, value)
        return None if problem is None else str(problem)

    spec = FieldSpec("int", min=1, max=10)
    assert check("x", spec, 5) is None
    assert check("x", spec, 0) == "x: must be at least 1 (got 0)"
    assert check("x", spec, 11) == "x: must be at most 10 (got 11)"
    assert check("x", spec, True).startswith("x: must be a whole number (got true, a bool)")
    assert check("x", spec, None) == "x: must be a whole number, not null"
    assert check("x", FieldSpec("int", nullable=True), None) is None
    excl = FieldSpec("float", min=0, min_exclusive=True, max=1, max_exclusive=True)
    assert check("y", excl, 0) == "y: must be > 0 (got 0)"
    assert check("y", excl, 1.0) == "y: must be < 1 (got 1.0)"
    assert check("s", FieldSpec("str", max_len=3), "abcd") == "s: at most 3 characters (got 4)"
    assert check_value("x", spec, 0).key == "x"


def test_every_form_field_has_help_for_the_ui():
    assert all(spec.help for spec in HYPER_FIELDS.values())


def test_form_fields_take_type_and_range_from_the_schema_table():
    from dataclasses import replace

    from studio.configs import SCHEMAS
    from studio.configs.table import FORM

    own = {"max_steps", "warmup_steps"}  # they mean something else in the form (see table.py)
    for field in FORM:
        if field.section not in SCHEMAS or field.write:
            continue  # the studio section's own rows; the views of several keys
        form, schema = field.spec, SCHEMAS[field.section][field.key]
        if field.name in own:
            assert replace(form, help="") != replace(schema, help="")
        else:
            assert replace(form, help=schema.help) == schema, field.name
