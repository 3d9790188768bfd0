"""The Train tab: pick a saved model configuration, press Train, watch the job live.

The job runs in its own process (studio.jobs); this tab only reads the store and the run
folder's files on a gr.Timer tick, so a reload, a second browser or a server restart shows
the same live job. The chosen job id lives in a gr.BrowserState (survives reloads); without
one the tab shows the app's running (else queued, else newest) job. A tick costs a few store
reads and two stat() calls: the run files are read, and the page updated, only when the job
or its files changed (a finished job's display never is re-sent).
"""

from __future__ import annotations

import html
import math
import os
import time
from pathlib import Path

import gradio as gr
import pandas as pd

from studio.errors import StudioError
from studio.jobs import job_progress, read_metrics, tail_log
from studio.jobs.files import LOG_FILE, METRICS_FILE
from studio.jobs.runner import can_resume
from studio.ui.common import NO_APP, bump, plot_value, user_errors
from studio.ui.context import UIContext

JOB_HEADERS = ["job", "model", "status", "step", "train loss", "eval loss", "perplexity",
               "created", "duration"]  # fmt: skip
LIVE = ("queued", "running")
TICK_S = 1.5


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
    eta = "" if p["status"] != "running" else f" · about {_duration(p['eta_s'])} left"
    label = f"step {p['step']} / {p['total_steps'] or '?'} ({pct}%){eta}"
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
    accuracy = (
        f" · validation accuracy {p['accuracy']:.3f}" if p.get("accuracy") is not None else ""
    )
    lines = [
        f"**Job {job['id']}** — **{job['status']}**"
        + (f": {job['reason']}" if job["reason"] else ""),
        f"loss {_fmt(p['loss'])} · eval loss {_fmt(p['eval_loss'])} · perplexity "
        f"{_fmt(p['perplexity'])}{accuracy} · {_fmt(p['tokens_per_s'])} tokens/s · memory {mem_text}",
    ]
    if p.get("budget"):
        lines.append(budget_text(p["budget"], running=job["status"] == "running"))
    return "\n\n".join(lines)


def budget_text(plan: dict, running: bool, now: float | None = None) -> str:
    """The time budget's plan: chosen steps, the examples and epochs they cover, time left."""
    minutes = float(plan.get("budget_s") or 0) / 60
    text = (f"Time budget {minutes:g} min: {plan['total_steps']} steps chosen (of "
            f"{plan.get('planned_steps') or '?'} planned), covering {plan.get('examples', 0)} "
            f"examples = {_fmt(plan.get('epochs'), 3)} epochs")  # fmt: skip
    if running and plan.get("deadline"):
        text += f" · {_duration(plan['deadline'] - (now or time.time()))} left"
    return text


CHART_SERIES = (("loss", "train loss"), ("eval_loss", "eval loss"),
                ("accuracy", "validation accuracy"))  # fmt: skip


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
        rows += [{"step": rows[0]["step"], "value": math.nan, "series": name}
                 for name in wanted if name not in present]  # fmt: skip
    # Typed columns even when empty: the page keeps the axis types of the first value it
    # gets, and an untyped empty frame would make the loss axis categorical for good.
    frame = pd.DataFrame(rows, columns=["step", "value", "series"])
    return frame.astype({"step": "int64", "value": "float64", "series": "str"})


def jobs_rows(jobs: list[dict], model_names: dict[str, str]) -> list[list]:
    """One row per train job of the app, newest first."""
    rows = []
    for job in jobs:
        s = job.get("summary") or {}
        end = job.get("finished_at") or (time.time() if job["status"] == "running" else None)
        dur = end - job["started_at"] if end and job.get("started_at") else None
        rows.append([
            job["id"], model_names.get(job.get("model_id") or "", "–"), job["status"],
            f"{s.get('steps', '–')}/{s.get('total_steps', '–')}" if s else "–",
            _fmt(s.get("train_loss")), _fmt(s.get("eval_loss")), _fmt(s.get("perplexity")),
            time.strftime("%Y-%m-%d %H:%M", time.localtime(job["created_at"])), _duration(dur),
        ])  # fmt: skip
    return rows


def pick_job_id(train_jobs: list[dict], saved: str) -> str:
    """The job to show: the one this browser watched, else a running, queued or newest job."""
    if saved and saved in {j["id"] for j in train_jobs}:
        return saved
    for status in ("running", "queued"):
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
    run_dir = Path(job["run_dir"] or ".")
    return (job["id"], job["status"], job["reason"], job.get("started_at"),
            job.get("finished_at"), _stat(run_dir / METRICS_FILE),
            _stat(run_dir / LOG_FILE))  # fmt: skip


def build_train_tab(ctx: UIContext) -> None:
    store, settings = ctx.store, ctx.settings
    with gr.Tab("Train", id="train"):
        gr.Markdown("## Train\nChoose a saved model configuration and press **Train**. The job "
                    "runs in its own process: reload the page or close it, it keeps training.")  # fmt: skip
        with gr.Row():
            # Custom values allowed: the choices change per app; start_training checks the id.
            model = gr.Dropdown([], label="Model configuration", elem_id="train-model", scale=3,
                                allow_custom_value=True)  # fmt: skip
            start = gr.Button("Train", variant="primary", elem_id="train-start", scale=1)
        job_id = gr.Textbox(visible="hidden", elem_id="train-job-id")
        saved_job = gr.BrowserState("", storage_key="textgen-studio-train-job")
        status = gr.Markdown(elem_id="train-status")
        progress = gr.HTML(elem_id="train-progress")
        with gr.Row():
            cancel = gr.Button("Cancel", variant="stop", elem_id="train-cancel", interactive=False)
            resume = gr.Button("Resume", elem_id="train-resume", interactive=False)
        chart = gr.LinePlot(None, x="step", y="value", color="series", height=260,
                            label="Loss", elem_id="train-chart", y_title="loss")  # fmt: skip
        log_box = gr.Textbox(label="train.log (last lines)", lines=10, max_lines=10,
                             autoscroll=True, interactive=False, elem_id="train-log")  # fmt: skip
        with gr.Accordion("Launch commands (several GPUs or machines)", open=False):
            export = gr.Button("Show this job's accelerate config and commands",
                               elem_id="train-export")  # fmt: skip
            export_box = gr.Code(language="shell", interactive=False, elem_id="train-commands")
        jobs = gr.Dataframe(headers=JOB_HEADERS, interactive=False, elem_id="train-jobs",
                            label="Training jobs of this app (click a row to show it)")  # fmt: skip
        timer = gr.Timer(TICK_S)
        shown = gr.State(None)  # (display stamp, job table rows) last sent to this page

    def model_choices(app_id: str) -> list[tuple[str, str]]:
        if not ctx.current_app(app_id):
            return []
        return [(f"{m['name']} v{m['version']} ({m['template']})", m["id"])
                for m in store.list_models(app_id)]  # fmt: skip

    def refresh_models(app_id: str, current: str | None):
        choices = model_choices(app_id)
        ids = [c[1] for c in choices]
        return gr.Dropdown(
            choices=choices, value=current if current in ids else (ids[0] if ids else None)
        )

    def pick_job(app_id: str, saved: str) -> str:
        # A reload keeps the job the browser was watching, if it belongs to this app.
        train_jobs = store.list_jobs(app_id, kind="train") if ctx.current_app(app_id) else []
        return pick_job_id(train_jobs, saved)

    @user_errors
    def start_training(app_id: str, model_id: str):
        if not ctx.current_app(app_id):
            raise StudioError(NO_APP)
        if not model_id:
            raise StudioError("Choose a model configuration to train (save one in the Models tab).")
        if ctx.model(model_id)["app_id"] != app_id:
            raise StudioError(
                "That model configuration belongs to another app; pick one from the list."
            )
        from studio.configs import check_trainable

        config = check_trainable(store, settings, model_id)
        ctx.check_storage()
        job = ctx.runner.submit(app_id, model_id, "train", config)
        ctx.audit(app_id, "trained", f"job {job['id']} of model {model_id}")
        gr.Info(f"Training job {job['id']} queued.")
        return job["id"], bump()

    def refresh(current: str, app_id: str, last: tuple | None):
        """Cheap: one store read per table and two stat() calls; the run files are read, and
        each output sent, only when it changed since the last tick (`last`)."""
        app = ctx.current_app(app_id)
        names = (
            {m["id"]: f"{m['name']} v{m['version']}" for m in store.list_models(app_id)}
            if app
            else {}
        )
        rows = jobs_rows(store.list_jobs(app_id, kind="train"), names) if app else []
        try:
            job = ctx.job(current) if current else None
        except StudioError:
            job = None
        stamp = display_stamp(job)
        last_stamp, last_rows = last or (None, None)
        table = gr.skip() if rows == last_rows else rows
        if stamp == last_stamp:
            return (*[gr.skip()] * 4, table, gr.skip(), gr.skip(), (stamp, rows))
        if job is None:
            return (status_markdown(None, None), "", None, "", table,
                    gr.Button(interactive=False), gr.Button(interactive=False), (stamp, rows))  # fmt: skip
        metrics = read_metrics(job["run_dir"])
        p = job_progress(job, metrics)
        resumable = can_resume(job)  # never offered without a checkpoint to continue from
        return (status_markdown(job, p), progress_html(p), plot_value(chart_frame(metrics)),
                tail_log(job["run_dir"], 30), table,
                gr.Button(interactive=job["status"] in LIVE), gr.Button(interactive=resumable),
                (stamp, rows))  # fmt: skip

    @user_errors
    def cancel_job(current: str):
        if not current:
            raise StudioError("No job selected to cancel.")
        ctx.job(current)  # someone else's job is "not found" (an admin may stop any)
        job = ctx.runner.cancel(current)
        gr.Info("Stopping: the job saves a checkpoint and the adapter, then stops."
                if job["status"] == "running" else "Cancelled.")  # fmt: skip

    @user_errors
    def resume_job(current: str):
        if not current:
            raise StudioError("No job selected to resume.")
        ctx.job(current)
        ctx.runner.resume(current)
        gr.Info("Resuming from the last checkpoint.")
        return bump()

    @user_errors
    def export_job(current: str):
        if not current:
            raise StudioError("No job selected: pick one in the table or press Train.")
        from studio.jobs.launch import launch_export

        return launch_export(store.get_job(current)["run_dir"])

    def select_job(evt: gr.SelectData, table: pd.DataFrame):
        row = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
        return str(table.iloc[row, 0]) if table is not None and len(table) > row else gr.skip()

    live_outputs = [status, progress, chart, log_box, jobs, cancel, resume, shown]
    for trigger in (ctx.app_id.change, ctx.models_changed.change):
        trigger(refresh_models, [ctx.app_id, model], [model])
    ctx.app_id.change(pick_job, [ctx.app_id, saved_job], [job_id])
    start.click(start_training, [ctx.app_id, model], [job_id, ctx.jobs_changed],
                api_name="start_training")  # fmt: skip
    job_id.change(lambda j: j, [job_id], [saved_job]).then(
        refresh, [job_id, ctx.app_id, shown], live_outputs
    )
    timer.tick(refresh, [job_id, ctx.app_id, shown], live_outputs, show_progress="hidden",
               concurrency_limit=None, api_visibility="private")  # fmt: skip
    cancel.click(cancel_job, [job_id], None, api_name="cancel_training")
    resume.click(resume_job, [job_id], [ctx.jobs_changed], api_name="resume_training")
    jobs.select(select_job, [jobs], [job_id])
    export.click(export_job, [job_id], [export_box], api_name="launch_commands")
