"""The Evaluate tab's plain helpers: which metrics fit a task, and a running evaluation's
progress (share done, time left) read from its progress lines."""

from __future__ import annotations

from studio.jobs.run_folder import RunFolder


def metrics_for_task(task: str | None) -> list[str]:
    """The metrics that mean something for a dataset's task (the user may tick others).

    Classification answers are scored by label (accuracy, F1, baseline); BLEU / ROUGE on a
    one-word answer read as noise ("BLEU 0.00 vs 0.02") and are left out by default.
    """
    if task == "classification":
        return ["perplexity", "classification", "batch"]
    return ["perplexity", "text", "batch"]


def progress_lines(run_dir: str) -> list[dict]:
    """The evaluation's progress records (RUN_DIR/metrics.jsonl), oldest first."""
    records = RunFolder(run_dir).metrics(latest_only=False)
    return [rec for rec in records if rec.get("type", "progress") == "progress"]


def eval_progress(lines: list[dict]) -> str:
    """'classification · 45% · about 1m10s left' from the job's progress lines, with a bar.

    The work is counted in scoring passes (examples × labels × models), so the page shows a
    share and a time, not a count the user would read as examples.
    """
    if not lines:
        return "waiting to start"
    last = lines[-1]
    total, done = max(int(last.get("total") or 1), 1), int(last.get("step") or 0)
    pct = round(100 * done / total)
    text = f"{last.get('phase', '')} · {pct}%"
    # Speed from the first line after the model loaded (loading is not scoring).
    first = next((r for r in lines if r.get("phase") != "loading model" and r.get("time")), None)
    if first and last.get("time") and done > int(first.get("step") or 0):
        rate = (done - int(first.get("step") or 0)) / max(last["time"] - first["time"], 1e-6)
        left = int((total - done) / rate) if rate > 0 else None
        if left is not None:
            text += f" · about {left // 60}m{left % 60:02d}s left"
    bar = (
        f'<div style="background:#e5e7eb;border-radius:6px;height:14px">'
        f'<div style="width:{pct}%;background:#6366f1;height:14px;border-radius:6px">'
        f"</div></div>"
    )
    return f"{text}\n\n{bar}"
