"""The Models / Inputs / Train / Evaluate helpers behind the newcomer's path (no browser)."""

from __future__ import annotations

from studio.configs.hyper import apply_hyperparameters, hyperparameters_from_dicts
from studio.configs.setting import EVAL_RATIO
from studio.data.instruction import propose_instruction
from studio.data.readers import read_delimited
from studio.data.shapes import detect_mapping
from studio.errors import Problem
from studio.settings import training_threads
from studio.ui.evaluate.report import classification_warnings, majority_baseline
from studio.ui.inputs.mapping import source_key
from studio.ui.models.problems import NAME_PROBLEM, form_problems
from studio.ui.train.views import job_duration, progress_html


def test_problems_name_the_form_field_once_and_mark_it():
    lines, fields = form_problems(
        [
            Problem("trainer.learning_rate", "must be > 0 (got -1)"),
            Problem("trainer.learning_rate", "must be > 0 (got -1)"),
            Problem("peft.r", "must be at least 1 (got 0)"),
            Problem("trainer.adam_beta1", "must be < 1"),
            Problem("trainer.bf16", "this CPU has no bf16 instructions"),
            Problem("studio.packing", "must be true or false"),
            Problem("form.eval_every", "must be at least 0"),
        ],
        "",
    )
    assert lines[0] == NAME_PROBLEM
    assert lines[1:] == [
        "**Learning rate**: must be > 0 (got -1)",
        "**LoRA r**: must be at least 1 (got 0)",
        "**Trainer config → adam_beta1**: must be < 1",
        "**Precision**: this CPU has no bf16 instructions",
        "**Studio settings → packing**: must be true or false",
        "**Evaluate every N steps**: must be at least 0",
    ]
    assert fields == ["learning_rate", "lora_r", "precision", "eval_every"]
    assert form_problems([], "my-model") == ([], [])
    assert form_problems([], None) == ([], [])  # the name is not checked


def test_sentence_label_tables_get_an_instruction_naming_the_labels():
    table = read_delimited("sentence,label\nUp 5%,positive\nDown,negative\nFlat,neutral\n", "t.csv")
    text = propose_instruction(table, detect_mapping(table))
    assert (
        text == "Read the sentence and answer with its label: one of negative, neutral, positive."
    )
    qa = read_delimited("prompt,completion\nHi,Hello\n", "qa.csv")
    assert propose_instruction(qa, detect_mapping(qa)) == ""


def test_a_guess_knows_what_it_was_made_from():
    assert source_key([], "a,b\n1,2") == source_key([], "a,b\n1,2 ")
    assert source_key([], "a,b\n1,2") != source_key([], "a,b\n1,3")
    assert source_key(["x.csv"], "") != source_key(["y.csv"], "")


def test_evaluate_every_n_steps_round_trips_through_the_trainer_dict():
    dicts = {"trainer": {"eval_strategy": "steps", "eval_steps": EVAL_RATIO}}
    out = apply_hyperparameters(dicts, {"eval_every": 5})
    assert out["trainer"]["eval_strategy"] == "steps" and out["trainer"]["eval_steps"] == 5
    assert hyperparameters_from_dicts(out, {})["eval_every"] == 5
    back = apply_hyperparameters(out, {"eval_every": 0})
    assert back["trainer"]["eval_steps"] == EVAL_RATIO
    assert hyperparameters_from_dicts(back, {})["eval_every"] == 0
    by_epoch = apply_hyperparameters({"trainer": {"eval_strategy": "epoch"}}, {"eval_every": 0})
    assert by_epoch["trainer"] == {"eval_strategy": "epoch"}


def test_majority_baseline_and_one_label_warnings():
    cls = {
        "labels": ["neg", "neu"],
        "accuracy": 0.75,
        "predictions": ["neu"] * 4,
        "per_label": [{"label": "neg", "support": 1}, {"label": "neu", "support": 3}],
    }
    assert majority_baseline(cls) == ("neu", 0.75)
    warnings = classification_warnings(cls)
    assert len(warnings) == 2 and "every example" in warnings[0] and "no better" in warnings[1]
    good = {**cls, "accuracy": 1.0, "predictions": ["neg", "neu", "neu", "neu"]}
    assert classification_warnings(good) == []


def test_training_leaves_a_core_for_the_page():
    assert training_threads(cores=2, requested=0) == 1
    assert training_threads(cores=8, requested=0) == 7
    assert training_threads(cores=1, requested=0) == 1
    assert training_threads(cores=4, requested=2) == 2
    assert training_threads(cores=4, requested=9) == 4


def test_progress_says_evaluating_after_the_last_step_and_duration_survives_resume():
    p = {"status": "running", "fraction": 1.0, "eta_s": 0, "step": 20, "total_steps": 20}
    assert "evaluating" in progress_html(p)
    assert "evaluating" not in progress_html({**p, "step": 19, "fraction": 0.95})
    job = {
        "status": "succeeded",
        "started_at": 100.0,
        "finished_at": 160.0,
        "params": {"earlier_run_s": 40.0},
    }
    assert job_duration(job) == 100.0


def test_evaluation_progress_is_a_share_with_time_left_and_metrics_follow_the_task():
    from studio.ui.evaluate.progress import eval_progress, metrics_for_task

    lines = [
        {"phase": "loading model", "step": 0, "total": 900, "time": 0.0},
        {"phase": "classification", "step": 0, "total": 900, "time": 10.0},
        {"phase": "classification", "step": 300, "total": 900, "time": 40.0},
    ]
    text = eval_progress(lines)
    assert "classification · 33%" in text and "about 1m00s left" in text
    assert "/900" not in text
    assert "text" not in metrics_for_task("classification")
    assert "classification" not in metrics_for_task("generation")


def test_read_as_names_a_column_once():
    from studio.ui.inputs.preview import VERSION_HEADERS, VERSION_WIDTHS, mapping_text

    clarifai = {"mappings": {"a.csv": {"shape": "clarifai", "text": "input.data.text.raw"}}}
    assert mapping_text(clarifai) == "Clarifai template (input.data.text.raw)"
    pairs = {"mappings": {"b.csv": {"shape": "sentence_label", "input": "s", "output": "y"}}}
    assert mapping_text(pairs) == "Sentence + label (classification) (s → y)"
    assert len(VERSION_WIDTHS) == len(VERSION_HEADERS)
    assert sum(int(w.rstrip("%")) for w in VERSION_WIDTHS) == 100


def test_models_are_named_as_people_name_them(settings, store):
    from studio.generate.refs import base_models
    from studio.templates import get_template
    from studio.ui.models.widgets import template_state

    assert get_template("smollm2-135m-lora").base_title == "SmolLM2-135M-Instruct"
    assert get_template("custom").base_title == "Custom"
    names = [m["name"] for m in base_models(settings)]
    assert "SmolLM2-135M-Instruct (base)" in names
    assert not any("LoRA" in n or "packaged:" in n for n in names)
    # The base-model box (a reference such as "packaged:…") shows only where one is typed.
    fixed = template_state(settings, store, "smollm2-135m-lora", "causal", "", None)[1]
    typed = template_state(settings, store, "custom", "causal", "", None)[1]
    assert fixed["visible"] is False and typed["visible"] is True
