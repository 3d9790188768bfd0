"""`python -m studio.actions`: the use cases from a terminal, through the same functions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from studio.actions.__main__ import run
from studio.errors import NotFoundError, StudioError


def test_demo_then_train_queues_the_job_the_page_would(store, settings):
    said = run(["demo", "qa"], settings, store)
    app_id, model_id = said.split()[1], said.split()[-1]
    assert store.get_model(model_id)["app_id"] == app_id
    queued = run(["train", model_id], settings, store)
    job = store.get_job(queued.split()[1])
    assert queued.endswith("queued") and job["status"] == "queued" and job["model_id"] == model_id
    config = json.loads((Path(job["run_dir"]) / "config.json").read_text())
    assert config["model_id"] == model_id and "studio" in config
    assert [a["action"] for a in store.list_activity(app_id)] == [
        "trained",
        "created",
        "saved",
    ]  # newest first (a demo's model is saved before its app's creation is recorded)


def test_mistakes_say_what_to_fix(store, settings):
    with pytest.raises(NotFoundError):
        run(["train", "no-such-model"], settings, store)
    app = store.create_app("A")
    with pytest.raises(StudioError, match="Choose an adapter"):
        run(["import", "", "--app", app["id"]], settings, store)
    with pytest.raises(SystemExit):
        run(["export", "x", "--format", "pdf"], settings, store)
