"""studio.jobs.trained, the one reader of a trained run: which jobs hold a usable model, and
what it is."""

from __future__ import annotations

import json

import pytest

from studio.errors import ModelUnavailableError, NotFoundError
from studio.jobs.run_folder import RunFolder
from studio.jobs.trained import (
    holds_model,
    latest_evaluation,
    trained_model,
    trained_models,
    trained_version_id,
)
from studio.prompts.layout import PromptLayout


def _job(store, app_id, kind="train", status="succeeded", meta=None, adapter=True, config=None):
    job = store.create_job(app_id, None, kind, {}, "", status=status)
    run = RunFolder(store.app_dir(app_id) / "runs" / job["id"])
    run.write_config(config or {})
    if meta is not None:
        run.adapter_dir.mkdir(parents=True)
        run.write_meta(meta)
        if adapter:
            (run.adapter_dir / "adapter_config.json").write_text("{}")
    return store.update_job(job["id"], run_dir=str(run.path))


@pytest.fixture
def app(store):
    return store.create_app("A")


def test_only_succeeded_model_jobs_with_their_model_are_listed(store, app):
    good = _job(store, app["id"], meta={"base_model": "tiny"})
    imported = _job(store, app["id"], kind="import", meta={"base_model": "other"}, adapter=False)
    _job(store, app["id"], status="failed", meta={"base_model": "x"})
    _job(store, app["id"], kind="evaluate", meta={"base_model": "x"})
    gone = _job(store, app["id"])  # succeeded, but its model folder is gone
    assert holds_model(good) and holds_model(imported) and not holds_model(gone)
    models = {m.job_id: m for m in trained_models(store, app["id"])}
    assert set(models) == {good["id"], imported["id"]}
    assert models[good["id"]].is_adapter and not models[imported["id"]].is_adapter
    assert models[good["id"]].base_ref == "tiny"
    assert models[good["id"]].model_dir == RunFolder(good["run_dir"]).adapter_dir


def test_trained_model_says_why_a_job_has_no_model(store, app):
    with pytest.raises(NotFoundError, match="No train or import job"):
        trained_model(store, "nope")
    ev = _job(store, app["id"], kind="evaluate")
    with pytest.raises(NotFoundError, match="No train or import job"):
        trained_model(store, ev["id"])
    running = _job(store, app["id"], status="running")
    with pytest.raises(NotFoundError, match="is running, not succeeded"):
        trained_model(store, running["id"])
    empty = _job(store, app["id"])
    with pytest.raises(ModelUnavailableError, match="studio.json missing"):
        trained_model(store, empty["id"])
    good = _job(
        store,
        app["id"],
        meta={
            "base_model": "b",
            "max_length": 64,
            "prompt_format": "chat",
            "model_type": "seq2seq",
        },
    )
    model = trained_model(store, good["id"])
    assert (model.max_length, model.prompt_format, model.model_type) == (64, "chat", "seq2seq")


def test_one_reader_answers_generate_evaluate_and_export_alike(store, app):
    failed = _job(store, app["id"], status="failed")
    with pytest.raises(NotFoundError, match="generate, be evaluated or be exported"):
        trained_model(store, failed["id"])
    good = _job(store, app["id"], meta={}, config={"data": {"version_id": "v9"}})
    model = trained_model(store, good["id"])
    assert (model.job_id, model.app_id, model.model_id) == (good["id"], app["id"], None)
    assert model.config == {"data": {"version_id": "v9"}} and model.title(store) == ""
    # The message never shows where the run folder was.
    gone = _job(store, app["id"])
    with pytest.raises(ModelUnavailableError) as err:
        trained_model(store, gone["id"])
    assert gone["run_dir"] not in str(err.value)


def test_layout_comes_from_studio_json_else_from_the_training_data(store, app, tmp_path):
    recorded = _job(store, app["id"], meta={"style": "input_response", "preamble": "Below"})
    assert trained_model(store, recorded["id"]).layout == PromptLayout(
        "input_response", "Below", "Below"
    )
    train = tmp_path / "train.jsonl"
    train.write_text(
        json.dumps(
            {
                "instruction": "q",
                "input": "",
                "output": "a",
                "preamble": "Hi",
                "style": "input_response",
            }
        )
        + "\n"
    )
    older = _job(store, app["id"], meta={"base_model": "b"}, config={"data": {"train": str(train)}})
    assert trained_model(store, older["id"]).layout.style == "input_response"
    bare = _job(store, app["id"], meta={"base_model": "b"})
    assert trained_model(store, bare["id"]).layout == PromptLayout()
    # A guess from the data: a damaged line is skipped, not fatal.
    damaged = tmp_path / "damaged.jsonl"
    damaged.write_text("{not json\n" + train.read_text())
    config = {"data": {"train": str(damaged)}}
    mixed = _job(store, app["id"], meta={"base_model": "b"}, config=config)
    assert trained_model(store, mixed["id"]).layout.style == "input_response"


def test_version_and_latest_evaluation(store, app):
    job = _job(store, app["id"], meta={}, config={"data": {"version_id": "v1"}})
    assert trained_version_id(store, job) == "v1"
    assert trained_model(store, job["id"]).dataset_version_id(store) == "v1"
    assert latest_evaluation(store, app["id"], job["id"]) is None
    done = store.create_job(
        app["id"], None, "evaluate", {"train_job_id": job["id"]}, "", status="succeeded"
    )
    assert latest_evaluation(store, app["id"], job["id"])["id"] == done["id"]
    live = store.create_job(app["id"], None, "evaluate", {"train_job_id": job["id"]}, "")
    store.create_job(app["id"], None, "evaluate", {"train_job_id": "other"}, "")
    assert latest_evaluation(store, app["id"], job["id"])["id"] == live["id"]
