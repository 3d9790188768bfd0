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
from studio.store.job_states import SUCCEEDED


def read_metrics(run_dir: str | Path) -> list[dict[str, Any]]:
    """metrics.jsonl records in order; a resumed run's repeated steps keep the newest record."""
    return RunFolder(run_dir).metrics()


def tail_log(run_dir: str | Path, n: int = 40, max_bytes: int = 64_000) -> str:
    """The last `n` lines of train.log (reads at most `max_bytes` from the end)."""
    return RunFolder(run_dir).log_tail(n, max_bytes)


def read_status(run_dir: str | Path) -> dict[str, Any] | None:
    """status.json as written by the child at exit, or None (still running / killed)."""
    return RunFolder(run_dir).status()


def last_checkpoint_step(run_dir: str | Path) -> int | None:
    """The step of the newest complete checkpoint (one with trainer_state.json), or None."""
    return RunFolder(run_dir).last_checkpoint_step()


def _finite(x: Any) -> float | None:
    try:
        x = float(x)
    except (TypeError, ValueError):
        return None
    return x if not math.isnan(x) else None


def job_progress(
    job: dict[str, Any], metrics: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """What the page shows for a job: step/total, ETA, loss, eval loss, perplexity, speed, memory."""
    if metrics is None:
        metrics = read_metrics(job["run_dir"]) if job.get("run_dir") else []
    train = next((m for m in reversed(metrics) if m.get("type") == "train"), {})
    ev = next((m for m in reversed(metrics) if m.get("type") == "eval"), {})
    start = next((m for m in reversed(metrics) if m.get("type") == "start"), {})
    budget = next((m for m in reversed(metrics) if m.get("type") == "budget"), None)
    summary = job.get("summary") or {}
    total = summary.get("total_steps") or train.get("total_steps") or start.get("total_steps") or 0
    step = summary.get("steps") or train.get("step") or start.get("step") or 0
    eval_loss = summary.get("eval_loss", ev.get("eval_loss"))
    return {
        "status": job.get("status", ""),
        "reason": job.get("reason", ""),
        "step": int(step),
        "total_steps": int(total),
        "fraction": min(1.0, step / total) if total else 0.0,
        "epoch": train.get("epoch"),
        "eta_s": 0.0 if job.get("status") == SUCCEEDED else train.get("eta_s"),
        "elapsed_s": train.get("elapsed_s"),
        "loss": _finite(summary.get("train_loss", train.get("loss"))),
        "eval_loss": _finite(eval_loss),
        "perplexity": _finite(summary.get("perplexity", ev.get("perplexity"))),
        "accuracy": _finite(summary.get("eval_accuracy", ev.get("accuracy"))),
        "budget": budget,  # the time budget's latest plan (studio.train.budget), or None
        "tokens_per_s": train.get("tokens_per_s"),
        "memory_mb": train.get("memory_mb"),
        "memory_kind": train.get("memory_kind"),
    }
