"""What the page shows of a job, from its run folder (studio.jobs.run_folder.RunFolder):
metrics, the log tail, the final status, checkpoints, progress.

The page polls these every second or two while a child process writes the same files, so
each reader tolerates a half-written last line and reads only what it needs.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from studio.jobs.run_folder import (  # noqa: F401 - the file names, for older callers
    ADAPTER_DIR,
    CHECKPOINTS_DIR,
    CONFIG_FILE,
    LOG_FILE,
    METRICS_FILE,
    STATUS_FILE,
    STOP_FILE,
    RunFolder,
)
from studio.store.job_states import ACTIVE_STATUSES, SUCCEEDED


def read_metrics(run_dir: str | Path) -> list[dict[str, Any]]:
    """metrics.jsonl records in order; a resumed run's repeated steps keep the newest record."""
    return RunFolder(run_dir).metrics()


def tail_log(run_dir: str | Path, n: int = 40, max_bytes: int = 64_000) -> str:
    """The last `n` lines of train.log (reads at most `max_bytes` from the end)."""
    return RunFolder(run_dir).log_tail(n, max_bytes)


def _finite(x: Any) -> float | None:
    try:
        x = float(x)
    except (TypeError, ValueError):
        return None
    return x if not math.isnan(x) else None


def job_progress(
    job: dict[str, Any], metrics: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """What the page shows for a job: step/total, ETA, loss, eval loss, perplexity, speed, memory.

    A live job (queued or running) is read from its run's metrics alone: a resumed job's row
    still holds the summary its stopped part wrote until the resumed part ends. Speed, ETA and
    memory come from the records of the newest start only (a resume's "start" record), the
    last loss and evaluation from any part.
    """
    if metrics is None:
        metrics = read_metrics(job["run_dir"]) if job.get("run_dir") else []
    live = job.get("status") in ACTIVE_STATUSES
    started = max((i for i, m in enumerate(metrics) if m.get("type") == "start"), default=-1)
    start = metrics[started] if started >= 0 else {}
    this_part = metrics[started + 1 :]
    train = _last(metrics, "train")
    pace = _last(this_part, "train") if started >= 0 else train
    ev = _last(metrics, "eval")
    budget = _last(metrics, "budget") or None
    summary = {} if live else (job.get("summary") or {})
    newest = pace or start or train  # what the newest part of the run has reached
    total = summary.get("total_steps") or newest.get("total_steps") or train.get("total_steps") or 0
    step = summary.get("steps") or newest.get("step") or train.get("step") or 0
    eval_loss = summary.get("eval_loss", ev.get("eval_loss"))
    return {
        "status": job.get("status", ""),
        "reason": job.get("reason", ""),
        "step": int(step),
        "total_steps": int(total),
        "fraction": min(1.0, step / total) if total else 0.0,
        "epoch": train.get("epoch"),
        "eta_s": 0.0 if job.get("status") == SUCCEEDED else pace.get("eta_s"),
        "elapsed_s": pace.get("elapsed_s"),
        "loss": _finite(summary.get("train_loss", train.get("loss"))),
        "eval_loss": _finite(eval_loss),
        "perplexity": _finite(summary.get("perplexity", ev.get("perplexity"))),
        "accuracy": _finite(summary.get("eval_accuracy", ev.get("accuracy"))),
        "accuracy_rows": summary.get("accuracy_rows", ev.get("accuracy_rows")),
        "budget": budget,  # the time budget's latest plan (studio.train.budget), or None
        "tokens_per_s": pace.get("tokens_per_s"),
        "memory_mb": pace.get("memory_mb"),
        "memory_kind": pace.get("memory_kind"),
    }


def _last(metrics: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    return next((m for m in reversed(metrics) if m.get("type") == kind), {})
