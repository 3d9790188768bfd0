"""What the Train tab shows for a job: status line, progress bar, loss chart data, the jobs
table, and the stamp that says whether anything changed since the last tick. Plain
functions (no Gradio), so they are tested without a page."""

from __future__ import annotations

import html
import math
import os
import time
from pathlib import Path

import pandas as pd

from studio.jobs.run_folder import RunFolder
from studio.store.job_states import QUEUED, RUNNING

JOB_HEADERS = [
    "job",
    "model",
    "status",
    "step",
    "train loss",
    "eval loss",
    "perplexity",
    "created",
    "duration",
]


def _fmt(x, digits: int = 4) -> str:
    if x is None:
        return "–"
    if isinstance(x, float) and math.isinf(x):
        return "∞"
    return f"{x:.{digits}g}" if isinstance(x, float) else str(x)


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    seconds = int(max(0, seconds))
    h, rest = divmod(seconds, 3600)
    return f"{h}h{rest // 60:02d}m" if h else f"{rest // 60}m{rest % 60:02d}s"


def progress_html(p: dict) -> str:
    """A progress bar with step/total and the estimated time left."""
    pct = round(100 * p["fraction"], 1)
    eta = "" if p["status"] != RUNNING else f" · about {_duration(p['eta_s'])} left"
    label = f"step {p['step']} / {p['total_steps'] or '?'} ({pct}%){eta}"
    if p["status"] == RUNNING and p["total_steps"] and p["step"] >= p["total_steps"]:
        # The last step is done; the final evaluation and the adapter save still run.
        label = f"step {p['step']} / {p['total_steps']} · evaluating and saving the adapter…"
    return (
        '<div class="train-bar" style="background:#e5e7eb;border-radius:6px;height:18px">'
        f'<div style="width:{pct}%;background:#6366f1;height:18px;border-radius:6px"></div></div>'
        f'<div class="train-bar-label">{html.escape(label)}</div>'
    )


def status_markdown(job: dict | None, p: dict | None) -> str:
    """Status line, the reason if any, and the live numbers."""
    if not job:
        return "No training job selected: choose a model configuration and press **Train**."
    mem = p["memory_mb"]
    mem_text = (
        f"{mem:.0f} MiB ({'GPU' if p['memory_kind'] == 'gpu' else 'process'})" if mem else "–"
    )
    accuracy = ""
    if p.get("accuracy") is not None:
        rows = p.get("accuracy_rows")
        # A sample of the validation rows (at most 100): say how many it stands on.
        accuracy = f" · validation accuracy {p['accuracy']:.3f}" + (
            f" on {rows} rows" if rows else ""
        )
    lines = [
        f"**Job {job['id']}** — **{job['status']}**"
        + (f": {job['reason']}" if job["reason"] else ""),
        f"loss {_fmt(p['loss'])} · eval loss {_fmt(p['eval_loss'])} · perplexity "
        f"{_fmt(p['perplexity'])}{accuracy} · {_fmt(p['tokens_per_s'])} tokens/s · memory {mem_text}",
    ]
    if p.get("budget"):
        lines.append(budget_text(p["budget"], running=job["status"] == RUNNING))
    return "\n\n".join(lines)


def budget_text(plan: dict, running: bool, now: float | None = None) -> str:
    """The time budget's plan: chosen steps, the examples and epochs they cover, time left."""
    minutes = float(plan.get("budget_s") or 0) / 60
    text = (
        f"Time budget {minutes:g} min: {plan['total_steps']} steps chosen (of "
        f"{plan.get('planned_steps') or '?'} planned), covering {plan.get('examples', 0)} "
        f"examples = {_fmt(plan.get('epochs'), 3)} epochs"
    )
    if running and plan.get("deadline"):
        text += f" · {_duration(plan['deadline'] - (now or time.time()))} left"
    return text


CHART_SERIES = (
    ("loss", "train loss"),
    ("eval_loss", "eval loss"),
    ("accuracy", "validation accuracy"),
)


def chart_frame(metrics: list[dict]) -> pd.DataFrame:
    """Long-format (step, value, series) rows for the loss / eval-loss / accuracy chart."""
    rows = [
        {"step": m["step"], "value": m[key], "series": name}
        for m in metrics
        for key, name in CHART_SERIES
        if key in m and isinstance(m[key], (int, float)) and math.isfinite(m[key])
    ]
    # The page fixes its series (colors, legend) at the first data it draws: a series with
    # no point yet gets an invisible NaN placeholder so it appears when its points come.
    present = {r["series"] for r in rows}
    # Accuracy is charted for classification data only (the start record says it will come).
    accuracy = any(m.get("reports_accuracy") or "accuracy" in m for m in metrics)
    wanted = [name for key, name in CHART_SERIES if key != "accuracy" or accuracy]
    if rows:
        rows += [
            {"step": rows[0]["step"], "value": math.nan, "series": name}
            for name in wanted
            if name not in present
        ]
    # Typed columns even when empty: the page keeps the axis types of the first value it
    # gets, and an untyped empty frame would make the loss axis categorical for good.
    frame = pd.DataFrame(rows, columns=["step", "value", "series"])
    return frame.astype({"step": "int64", "value": "float64", "series": "str"})


def job_duration(job: dict, now: float | None = None) -> float | None:
    """Seconds the job has run, over all its starts (a resume does not reset it)."""
    end = job.get("finished_at") or ((now or time.time()) if job["status"] == RUNNING else None)
    earlier = float((job.get("params") or {}).get("earlier_run_s") or 0)
    if end and job.get("started_at"):
        return earlier + max(0.0, end - job["started_at"])
    return earlier or None


def jobs_rows(
    jobs: list[dict], model_names: dict[str, str], live: dict[str, dict] | None = None
) -> list[list]:
    """One row per train job of the app, newest first; `live` holds job_progress() of the
    running jobs, whose summary is written only at the end (a resumed job's row may still
    hold its stopped part's)."""
    rows = []
    for job in jobs:
        s = job.get("summary") or {}
        p = (live or {}).get(job["id"])
        if p:
            step = f"{p['step']}/{p['total_steps'] or '–'}"
            numbers = (_fmt(p["loss"]), _fmt(p["eval_loss"]), _fmt(p["perplexity"]))
        else:
            step = f"{s.get('steps', '–')}/{s.get('total_steps', '–')}" if s else "–"
            numbers = (
                _fmt(s.get("train_loss")),
                _fmt(s.get("eval_loss")),
                _fmt(s.get("perplexity")),
            )
        rows.append(
            [
                job["id"],
                model_names.get(job.get("model_id") or "", "–"),
                job["status"],
                step,
                *numbers,
                time.strftime("%Y-%m-%d %H:%M", time.localtime(job["created_at"])),
                _duration(job_duration(job)),
            ]
        )
    return rows


def pick_job_id(train_jobs: list[dict], saved: str) -> str:
    """The job to show: the one this browser watched, else a running, queued or newest job."""
    if saved and saved in {j["id"] for j in train_jobs}:
        return saved
    for status in (RUNNING, QUEUED):
        live = [j for j in train_jobs if j["status"] == status]
        if live:
            return live[0]["id"]
    return train_jobs[0]["id"] if train_jobs else ""


def _stat(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


def display_stamp(job: dict | None) -> tuple:
    """What the job's display depends on: its row's state and its run files' size and time."""
    if job is None:
        return ("no job",)
    run = RunFolder(job["run_dir"] or ".")
    return (
        job["id"],
        job["status"],
        job["reason"],
        job.get("started_at"),
        job.get("finished_at"),
        _stat(run.metrics_path),
        _stat(run.log_path),
    )


def page_shows(last: tuple | None, status: str | None, table: pd.DataFrame | None) -> bool:
    """Whether the page still shows what `last` (display stamp, table rows, display values)
    says was sent: its status line and jobs table. Answers to a poll and to a click travel on
    different connections and may arrive in either order; when they crossed, the caller sends
    everything again rather than skip outputs the page does not show."""
    if not last or last[2] is None:
        return False
    rows, sent_status = last[1], last[2][0]
    same_status = (status or "").strip() == (sent_status or "").strip()
    if table is None or rows is None:
        return same_status
    shown_rows = [[str(v) for v in row] for row in table.values.tolist()] if len(table) else []
    return same_status and (shown_rows == [[str(v) for v in row] for row in rows] or not rows)
