"""The JobRunner with real training children: queue, cancel, resume, SIGKILL, restart."""

from __future__ import annotations

import os
import signal

import pytest

from studio.configs.defaults import default_dicts, default_hyper
from studio.jobs import JobRunner, job_progress, read_metrics
from tests.support.runs import run_config
from tests.support.waiting import wait_for

LONG = {
    "trainer": {
        "max_steps": 400,
        "logging_steps": 1,
        "save_strategy": "steps",
        "save_steps": 2,
        "eval_strategy": "no",
    }
}


@pytest.fixture
def app_id(store):
    return store.create_app("jobs-test")["id"]


@pytest.fixture
def runner(store, settings):
    r = JobRunner(store, settings, poll_s=0.2)
    r.start()
    yield r
    r.stop()
    for job in store.list_jobs(status=("running",)):  # never leave a child behind
        if job["pid"]:
            try:
                os.kill(job["pid"], signal.SIGKILL)
            except ProcessLookupError:
                pass


def _status(store, job_id, *statuses, timeout=120):
    return wait_for(
        lambda: (j := store.get_job(job_id))["status"] in statuses and j,
        timeout,
        f"job {job_id} to become {statuses}",
    )


def _training(store, job_id, min_step: int = 1):
    job = _status(store, job_id, "running")
    wait_for(
        lambda: any(
            m.get("type") == "train" and m["step"] >= min_step for m in read_metrics(job["run_dir"])
        ),
        what="a train step",
    )
    return store.get_job(job_id)


def test_queue_runs_one_at_a_time_and_copies_the_status(
    tmp_path, store, settings, runner, app_id, tiny_causal_dir
):
    cfg = run_config(
        tiny_causal_dir,
        tmp_path / "data",
        settings,
        trainer={"num_train_epochs": 1, "save_strategy": "epoch"},
    )
    first = runner.submit(app_id, None, "train", cfg)
    second = runner.submit(app_id, None, "train", cfg)
    third = runner.submit(app_id, None, "train", cfg)
    assert runner.cancel(third["id"])["status"] == "cancelled"  # queued: cancelled at once
    _status(store, first["id"], "running")
    assert store.get_job(second["id"])["status"] == "queued"  # max_concurrent_jobs = 1
    done = _status(store, first["id"], "succeeded", "failed")
    assert done["status"] == "succeeded", done["reason"]
    assert done["summary"]["steps"] == 6 and done["finished_at"] >= done["started_at"]
    progress = job_progress(done)
    assert progress["fraction"] == 1.0 and progress["perplexity"] > 1
    assert _status(store, second["id"], "succeeded", "failed")["status"] == "succeeded"
    assert store.get_job(third["id"])["pid"] is None  # never launched


def test_cancel_saves_then_resume_finishes(
    tmp_path, store, settings, runner, app_id, tiny_causal_dir
):
    cfg = run_config(tiny_causal_dir, tmp_path / "data", settings, **LONG)
    cfg["trainer"]["max_steps"] = 14
    job = runner.submit(app_id, None, "train", cfg)
    _training(store, job["id"], min_step=3)
    runner.cancel(job["id"])
    stopped = _status(store, job["id"], "cancelled", "succeeded", "failed")
    assert stopped["status"] == "cancelled", stopped["reason"]
    assert stopped["summary"]["steps"] < 14
    run_dir = stopped["run_dir"]
    assert os.path.isfile(os.path.join(run_dir, "adapter", "adapter_model.safetensors"))

    assert runner.resume(job["id"])["status"] == "queued"
    done = _status(store, job["id"], "succeeded", "failed", "cancelled")
    assert done["status"] == "succeeded", done["reason"]
    assert done["summary"]["steps"] == 14 and done["summary"]["resumed_from"]


def test_after_resume_the_progress_moves_with_the_live_run(
    tmp_path, store, settings, runner, app_id, tiny_causal_dir
):
    """The row of a resumed job keeps nothing of the stopped part's summary: while it runs,
    the page's progress (step, fraction, ETA) is the resumed run's, and it moves."""
    cfg = run_config(tiny_causal_dir, tmp_path / "data", settings, **LONG)
    job = runner.submit(app_id, None, "train", cfg)
    _training(store, job["id"], min_step=3)
    runner.cancel(job["id"])
    stopped = _status(store, job["id"], "cancelled", "succeeded", "failed")
    assert stopped["status"] == "cancelled", stopped["reason"]
    at = stopped["summary"]["steps"]
    assert job_progress(stopped)["step"] == at

    resumed = runner.resume(job["id"])
    assert resumed["summary"] == {}
    seen = []

    def moved():
        now = store.get_job(job["id"])
        if now["status"] == "running":
            p = job_progress(now)
            seen.append((p["step"], p["eta_s"]))
        return len({s for s, _ in seen if s > at}) >= 2  # two distinct steps past the stop

    wait_for(moved, timeout=180, what="the resumed run's progress to move")
    steps = [s for s, _ in seen]
    assert steps == sorted(steps) and steps[-1] > at
    later = [eta for s, eta in seen if s > at]
    assert later[-1] is not None and later[-1] > 0  # 400 steps: time is left, and it says so
    runner.cancel(job["id"])
    again = _status(store, job["id"], "cancelled", "succeeded", "failed")
    assert again["summary"]["steps"] >= steps[-1] and again["summary"]["resumed_from"]


def test_sigkill_marks_failed_and_a_restart_reconciles(
    tmp_path, store, settings, runner, app_id, tiny_causal_dir
):
    cfg = run_config(tiny_causal_dir, tmp_path / "data", settings, **LONG)
    killed = runner.submit(app_id, None, "train", cfg)
    job = _training(store, killed["id"])
    os.kill(job["pid"], signal.SIGKILL)
    failed = _status(store, killed["id"], "failed", "succeeded", "cancelled")
    assert failed["status"] == "failed" and "killed (signal 9" in failed["reason"]

    # A second job keeps training while the runner "restarts": a new runner re-attaches it.
    live = runner.submit(app_id, None, "train", cfg)
    job = _training(store, live["id"])
    runner.stop()
    again = JobRunner(store, settings, poll_s=0.2)
    again.reconcile()
    assert again._children[live["id"]].pid == job["pid"]  # watched again, not restarted
    assert store.get_job(live["id"])["status"] == "running"
    again.start()
    try:
        wait_for(lambda: len([m for m in read_metrics(job["run_dir"]) if m["type"] == "train"]) > 3)
        again.cancel(live["id"])  # the re-attached job is fully controllable
        assert _status(store, live["id"], "cancelled", "failed")["status"] == "cancelled"
    finally:
        again.stop()


def test_train_tab_starts_a_job_and_shows_it(tmp_path, settings, monkeypatch, tiny_causal_dir):
    """Through the page: Train on a saved configuration -> a job that trains to the end."""
    import json as _json

    from gradio_client import Client
    from gradio_client.exceptions import AppError

    import app
    from studio.actions.start_training import version_dir
    from studio.configs import model_config
    from studio.templates import TEMPLATES
    from tests.helpers import serve
    from tests.support.examples import word_sentiment, write_jsonl

    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "gradio"))
    fastapi_app, _, ctx = app.create_server(settings, start_runner=True)
    store = ctx.store
    studio_app = store.create_app("Trainer")
    with store.transaction() as conn:
        ds = store.get_or_create_dataset(studio_app["id"], "sentiment", conn=conn)
        version = store.add_dataset_version(
            conn,
            ds["id"],
            content_hash="h",
            path="",
            n_rows=40,
            n_accepted=40,
            stats={"task": "generation"},
        )
    folder = version_dir(store, studio_app["id"], version["id"])
    folder.mkdir(parents=True)
    examples = word_sentiment(40)
    write_jsonl(folder / "train.jsonl", examples[:36])
    write_jsonl(folder / "valid.jsonl", examples[36:])
    template = TEMPLATES["smollm2-135m-lora"]
    hyper = {
        **default_hyper(template),
        "base_model": str(tiny_causal_dir),
        "epochs": 1.0,
        "max_length": 64,
        "target_modules": ["q_proj", "v_proj"],
    }
    from studio.configs.hyper import apply_hyperparameters

    dicts = apply_hyperparameters(default_dicts(template), hyper)
    model = store.create_model(
        studio_app["id"], "tiny", template.key, "causal", version["id"], model_config(dicts, hyper)
    )
    try:
        with serve(fastapi_app) as url:
            client = Client(url, verbose=False)
            with pytest.raises(AppError, match="Choose a model configuration"):
                client.predict(studio_app["id"], None, api_name="/start_training")
            job_id, _ = client.predict(studio_app["id"], model["id"], api_name="/start_training")
            job = _status(store, job_id, "succeeded", "failed", "cancelled", timeout=120)
            assert job["status"] == "succeeded", job["reason"]
            assert job["model_id"] == model["id"]
            config = _json.loads(open(os.path.join(job["run_dir"], "config.json")).read())
            assert config["base_model"] == str(tiny_causal_dir) and config["job_id"] == job_id
            with pytest.raises(AppError, match="only queued or running"):
                client.predict(job_id, api_name="/cancel_training")
    finally:
        ctx.runner.stop()
