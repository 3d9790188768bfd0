"""Cheap readers for a run folder: metrics, the log tail, the final status, checkpoints.

The page polls these every second or two while a child process writes the same files, so
each reader tolerates a half-written last line and reads only what it needs.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

METRICS_FILE, LOG_FILE, STATUS_FILE, STOP_FILE = "metrics.jsonl", "train.log", "status.json", "STOP"
CONFIG_FILE, CHECKPOINTS_DIR, ADAPTER_DIR = "config.json", "checkpoints", "adapter"


def _number(x: Any) -> Any:
    # The child writes non-finite floats as strings ("inf", "nan").
    if isinstance(x, str) and x in ("inf", "-inf", "nan"):
        return float(x)
    return x


def read_metrics(run_dir: str | Path) -> list[dict[str, Any]]:
    """metrics.jsonl records in order; a resumed run's repeated steps keep the newest record."""
    path = Path(run_dir) / METRICS_FILE
    if not path.is_file():
        return []
    records: list[dict[str, Any]] = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            continue  # the line the child is writing right now
        if isinstance(rec, dict):
            records.append({k: _number(v) for k, v in rec.items()})
    # After a resume the steps since the last checkpoint are logged again: keep the last.
    latest: dict[tuple, int] = {}
    for i, rec in enumerate(records):
        latest[(rec.get("type"), rec.get("step"))] = i
    return [rec for i, rec in enumerate(records) if latest[(rec.get("type"), rec.get("step"))] == i]


def tail_log(run_dir: str | Path, n: int = 40, max_bytes: int = 64_000) -> str:
    """The last `n` lines of train.log (reads at most `max_bytes` from the end)."""
    path = Path(run_dir) / LOG_FILE
    if not path.is_file():
        return ""
    with path.open("rb") as f:
        f.seek(0, 2)
        size = f.tell()
        f.seek(max(0, size - max_bytes))
        data = f.read().decode("utf-8", errors="replace")
    # Progress bars redraw with carriage returns: keep what the line finally showed.
    lines = [ln.rstrip("\r").rsplit("\r", 1)[-1] for ln in data.split("\n")]
    if size > max_bytes and lines:
        lines = lines[1:]  # the first line is probably cut
    if lines and lines[-1] == "":
        lines.pop()
    return "\n".join(lines[-n:])


def read_status(run_dir: str | Path) -> dict[str, Any] | None:
    """status.json as written by the child at exit, or None (still running / killed)."""
    path = Path(run_dir) / STATUS_FILE
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("status") else None


def last_checkpoint_step(run_dir: str | Path) -> int | None:
    """The step of the newest complete checkpoint (one with trainer_state.json), or None."""
    steps = [
        int(p.name.rsplit("-", 1)[1])
        for p in (Path(run_dir) / CHECKPOINTS_DIR).glob("checkpoint-*")
        if (p / "trainer_state.json").is_file() and p.name.rsplit("-", 1)[1].isdigit()
    ]
    return max(steps, default=None)


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
        "eta_s": 0.0 if job.get("status") == "succeeded" else train.get("eta_s"),
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
