"""Time budget, validation accuracy and the head-only loss through the real entry point
(`python -m studio.train RUN_DIR`) on a tiny model."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from pathlib import Path

import pytest

from studio.settings import PROJECT_ROOT
from tests.support.runs import run_config, write_run


def _train(run_dir: Path, timeout: int = 900) -> dict:
    with (run_dir / "train.log").open("ab") as log:
        subprocess.run(
            [sys.executable, "-m", "studio.train", str(run_dir)],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=PROJECT_ROOT,
            timeout=timeout,
        )
    status = run_dir / "status.json"
    assert status.is_file(), (run_dir / "train.log").read_text()[-3000:]
    return json.loads(status.read_text())


def _metrics(run_dir: Path, kind: str) -> list[dict]:
    lines = (run_dir / "metrics.jsonl").read_text().splitlines()
    return [m for m in map(json.loads, lines) if m["type"] == kind]


def test_a_short_budget_ends_on_time_with_the_schedule_complete(
    tmp_path, settings, tiny_causal_dir
):
    cfg = run_config(
        tiny_causal_dir,
        tmp_path / "data",
        settings,
        studio={"time_budget_min": 0.5},  # from the process's start: its imports and loading count
        trainer={
            "num_train_epochs": 2000,
            "logging_steps": 1,
            "warmup_steps": 5000,
            "save_strategy": "no",
            "eval_strategy": "steps",
            "eval_steps": 40,
            "learning_rate": 1e-3,
        },
    )
    run = write_run(tmp_path / "run", cfg)
    status = _train(run)
    assert status["status"] == "succeeded", status
    assert "time budget" in status["reason"]
    summary, train = status["summary"], _metrics(run, "train")
    plans = _metrics(run, "budget")
    budget = summary["time_budget"]
    assert plans and budget["shrunk"] and summary["steps"] < budget["planned_steps"]
    # The whole run (its final evaluation and the adapter save included) ends by the
    # deadline, give or take one step (the longest one seen: a busy machine's steps vary).
    assert len(train) >= 3, train
    one_step = max(b["time"] - a["time"] for a, b in zip(train, train[1:], strict=False))
    assert (run / "status.json").stat().st_mtime <= plans[-1]["deadline"] + one_step
    assert (
        train[-1]["step"] == summary["steps"] == summary["total_steps"] == plans[-1]["total_steps"]
    )
    # The schedule reached its end (linear decay: 0 after the last step) and the updates
    # decayed towards it; the epochs' 12000-step schedule would still be near its peak.
    total, warmup = plans[-1]["total_steps"], plans[-1]["warmup_steps"]
    assert warmup == math.ceil(0.1 * total)  # the warm-up shrank with the run
    assert summary["final_learning_rate"] == pytest.approx(0.0, abs=1e-12)
    assert train[-1]["learning_rate"] <= 0.25 * 1e-3
    assert max(m["learning_rate"] for m in train) > 0.5 * 1e-3  # the warm-up reached the peak
    assert summary["head_only"] is True


def test_classification_runs_report_accuracy_and_keep_the_best_by_it(
    tmp_path, settings, tiny_causal_dir
):
    cfg = run_config(
        tiny_causal_dir,
        tmp_path / "data",
        settings,
        trainer={
            "eval_strategy": "steps",
            "eval_steps": 4,
            "save_strategy": "steps",
            "save_steps": 4,
            "load_best_model_at_end": True,
            "metric_for_best_model": "accuracy",
        },
    )
    run = write_run(tmp_path / "run", cfg)
    status = _train(run)
    assert status["status"] == "succeeded", status
    evals = _metrics(run, "eval")
    assert len(evals) >= 3
    assert all(0.0 <= e["accuracy"] <= 1.0 for e in evals)
    assert status["summary"]["eval_accuracy"] == evals[-1]["accuracy"]
    state = json.loads(
        sorted((run / "checkpoints").glob("checkpoint-*/trainer_state.json"))[-1].read_text()
    )
    assert state["best_metric"] == pytest.approx(max(e["accuracy"] for e in evals[:-1]))
    # train.log reads as words, not the Trainer's raw dicts.
    log = (run / "train.log").read_text()
    assert "{'loss'" not in log and "{'eval_loss'" not in log
    assert re.search(r"step 4 / \d+ \([\d.]+ epochs\): loss [\d.]+ · learning rate", log)
    rows = evals[0]["accuracy_rows"]
    assert rows == 8 and "evaluation at step 4: eval loss" in log
    assert re.search(rf"accuracy [\d.]+ on {rows} rows", log) and "training done:" in log


def test_a_budget_is_the_whole_job_through_the_runner(tmp_path, store, settings, tiny_causal_dir):
    """Through the job runner, as the page starts it: from the job's start to "succeeded",
    evaluations, the final checkpoint and the adapter included, within the budget (plus the
    model load the run measured itself). Half a minute: the page's one-minute budget is
    walked in the browser (tests/e2e/test_train_run.py)."""
    import time

    from studio.jobs import JobRunner

    cfg = run_config(
        tiny_causal_dir,
        tmp_path / "data",
        settings,
        n_train=64,
        n_valid=24,
        studio={"time_budget_min": 0.5},
        trainer={
            "num_train_epochs": 5000,
            "logging_steps": 5,
            "eval_strategy": "steps",
            "eval_steps": 20,
            "save_strategy": "steps",
            "save_steps": 20,
        },
    )
    runner = JobRunner(store, settings, poll_s=0.2)
    runner.start()
    try:
        app_id = store.create_app("budget")["id"]
        job = runner.submit(app_id, None, "train", cfg)
        deadline = time.time() + 300
        while store.get_job(job["id"])["status"] in ("queued", "running"):
            assert time.time() < deadline, "the job did not end"
            time.sleep(0.2)
    finally:
        runner.stop()
    done = store.get_job(job["id"])
    assert done["status"] == "succeeded", done["reason"]
    summary = done["summary"]
    timing = summary["timing"]
    assert timing["load_s"] > 0 and timing["eval_s"] > 0 and timing["save_s"] > 0
    assert summary["steps"] < summary["time_budget"]["planned_steps"]  # the budget cut it
    took = done["finished_at"] - done["started_at"]
    assert took <= 30 + timing["load_s"], (took, timing)
    evals = _metrics(Path(done["run_dir"]), "eval")
    assert evals[-1]["step"] == summary["steps"]  # the final evaluation ran, within the budget
