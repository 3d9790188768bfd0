"""What the runner records when a job's process has exited: read from its run folder.

Child processes never write the database (a child may outlive its studio, run on another
machine or against a copy): they leave status.json and their outputs in RUN_DIR, and the
runner - the one writer of job rows - copies them into the store.

    fields = job_outcome(store, job, status)   # status: RunFolder.status()
"""

from __future__ import annotations

import logging
from typing import Any

from studio.jobs.run_folder import RunFolder
from studio.store.job_states import EVALUATE, SUCCEEDED

log = logging.getLogger("studio.jobs")


def record_evaluation(store, job: dict[str, Any]) -> None:
    """Add a succeeded evaluation's results.json to the store (listed per model in the page);
    the batch rows stay in the run folder."""
    run = RunFolder(job["run_dir"])
    cfg, results = run.config(), run.results()
    if not results or not cfg.get("app_id"):
        return
    results = {k: v for k, v in results.items() if k != "batch"}
    results["run_dir"] = job["run_dir"]
    results["train_job_id"] = cfg.get("train_job_id")
    store.add_evaluation(cfg["app_id"], cfg.get("model_id"), EVALUATE, results, job_id=job["id"])


def job_outcome(store, job: dict[str, Any], status: dict[str, Any]) -> dict[str, Any]:
    """(status, reason, summary) of a job whose child wrote status.json, after recording what
    the job produced; a failure to record is noted in the summary, the job still succeeds
    (its results stay in the run folder for the page)."""
    summary = dict(status.get("summary") or {})
    if job.get("kind") == EVALUATE and status["status"] == SUCCEEDED:
        try:
            record_evaluation(store, job)
        except Exception as exc:  # noqa: BLE001 - results.json is still there for the page
            log.exception("could not record evaluation %s in the store", job["id"])
            summary["store_error"] = str(exc)[:200]
    return {"status": status["status"], "reason": status.get("reason", ""), "summary": summary}
