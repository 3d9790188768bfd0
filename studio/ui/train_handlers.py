"""The Train tab's handlers: plain functions of (ctx, *values) that build_train_tab wires
with `bind`, so a test calls them with values and reads the values back, without a page.

Their names are the listeners' names, and with them the API endpoints: renaming one renames
its endpoint. `refresh` is the poll: it reads the run files only when the job or its files
changed, and sends each output only when it differs from what the page shows.
"""

from __future__ import annotations

import gradio as gr
import pandas as pd

from studio.configs import check_trainable
from studio.errors import StudioError
from studio.jobs import job_progress, read_metrics, tail_log
from studio.jobs.launch import launch_export
from studio.jobs.scheduler import can_resume
from studio.store.job_states import ACTIVE_STATUSES, RUNNING, TRAIN
from studio.ui.common import NO_APP, bump, changed, plot_value, user_errors
from studio.ui.context import UIContext
from studio.ui.views.models import title as template_title
from studio.ui.views.train import (
    chart_frame,
    display_stamp,
    jobs_rows,
    page_shows,
    pick_job_id,
    progress_html,
    status_markdown,
)
from studio.ui.views.train_plan import plan_markdown

LIVE = ACTIVE_STATUSES
LOG_LINES = 12  # as many as the box shows, so the newest line is in view without scrolling
# What `refresh` answers: status, progress, chart, log, jobs table, cancel, resume, and the
# state of what was sent (the tab's live outputs, in this order).
N_LIVE_OUTPUTS = 8


def model_choices(ctx: UIContext, app_id: str) -> list[tuple[str, str]]:
    """(label, id) of the app's saved model configurations."""
    if not ctx.current_app(app_id):
        return []
    return [
        (f"{m['name']} v{m['version']} ({template_title(m['template'])})", m["id"])
        for m in ctx.store.list_models(app_id)
    ]


def refresh_models(ctx: UIContext, app_id: str, current: str | None):
    """The model dropdown, keeping its value while the app still has it."""
    choices = model_choices(ctx, app_id)
    ids = [c[1] for c in choices]
    return gr.Dropdown(
        choices=choices, value=current if current in ids else (ids[0] if ids else None)
    )


def pick_job(ctx: UIContext, app_id: str, saved: str) -> str:
    """The job to show for the app: the one the browser watched, else running/queued/newest."""
    # A reload keeps the job the browser was watching, if it belongs to this app.
    train_jobs = ctx.store.list_jobs(app_id, kind=TRAIN) if ctx.current_app(app_id) else []
    return pick_job_id(train_jobs, saved)


@user_errors
def start_training(ctx: UIContext, app_id: str, model_id: str):
    """Queue a training job of the chosen model configuration: (job id, jobs-changed bump)."""
    store = ctx.store
    if not ctx.current_app(app_id):
        raise StudioError(NO_APP)
    if not model_id:
        raise StudioError("Choose a model configuration to train (save one in the Models tab).")
    ctx.model(model_id)  # someone else's model is "not found"
    if not store.belongs_to_app("models", model_id, app_id):
        raise StudioError(
            "That model configuration belongs to another app; pick one from the list."
        )

    config = check_trainable(store, ctx.settings, model_id)
    ctx.check_storage()
    job = ctx.runner.submit(app_id, model_id, "train", config)
    ctx.audit(app_id, "trained", f"job {job['id']} of model {model_id}")
    gr.Info(f"Training job {job['id']} queued.")
    return job["id"], bump()


def refresh(
    ctx: UIContext,
    current: str,
    app_id: str,
    last: tuple | None,
    showing: str | None = None,
    table_now: pd.DataFrame | None = None,
):
    """Cheap: one store read per table and two stat() calls; the run files are read only
    when the job or its files changed since the last tick (`last`), and each output is
    sent only when it differs from what the page shows."""
    store = ctx.store
    if not page_shows(last, showing, table_now):
        last = None  # answers crossed on the way (a poll and a click): send everything
    app = ctx.current_app(app_id)
    names = (
        {m["id"]: f"{m['name']} v{m['version']}" for m in store.list_models(app_id)} if app else {}
    )
    train_jobs = store.list_jobs(app_id, kind=TRAIN) if app else []
    live = {j["id"]: job_progress(j) for j in train_jobs if j["status"] == RUNNING}
    rows = jobs_rows(train_jobs, names, live)
    try:
        job = ctx.job(current) if current else None
    except StudioError:
        job = None
    stamp = display_stamp(job)
    last_stamp, last_rows, last_sent = last or (None, None, None)
    table = gr.skip() if rows == last_rows else rows
    if stamp == last_stamp:
        return (*[gr.skip()] * 4, table, gr.skip(), gr.skip(), (stamp, rows, last_sent))
    if job is None:
        sent = (status_markdown(None, None), "", None, "", False, False)
    else:
        metrics = read_metrics(job["run_dir"])
        p = job_progress(job, metrics)
        # Resume is never offered without a checkpoint to continue from.
        sent = (
            status_markdown(job, p),
            progress_html(p),
            plot_value(chart_frame(metrics)),
            tail_log(job["run_dir"], LOG_LINES),
            job["status"] in LIVE,
            can_resume(job),
        )
    new = changed(sent, last_sent)
    shows = [v if c else gr.skip() for v, c in zip(sent[:4], new[:4], strict=True)]
    buttons = [
        gr.Button(interactive=v) if c else gr.skip() for v, c in zip(sent[4:], new[4:], strict=True)
    ]
    return (*shows, table, *buttons, (stamp, rows, sent))


def select_job(
    ctx: UIContext,
    evt: gr.SelectData,
    table: pd.DataFrame,
    app_id: str,
    last: tuple | None,
    showing: str | None,
):
    """The clicked job, and its display in the same answer (one round trip)."""
    row = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
    if table is None or len(table) <= row:
        return gr.skip(), *[gr.skip()] * N_LIVE_OUTPUTS
    job = str(table.iloc[row, 0])
    return job, *refresh(ctx, job, app_id, last, showing, table)


@user_errors
def cancel_job(ctx: UIContext, current: str):
    """Cancel the shown job (a running one saves a checkpoint and the adapter first)."""
    if not current:
        raise StudioError("No job selected to cancel.")
    ctx.job(current)  # someone else's job is "not found" (an admin may stop any)
    job = ctx.runner.cancel(current)
    gr.Info(
        "Stopping: the job saves a checkpoint and the adapter, then stops."
        if job["status"] == RUNNING
        else "Cancelled."
    )


@user_errors
def resume_job(ctx: UIContext, current: str):
    """Queue the shown job again, from its last checkpoint."""
    if not current:
        raise StudioError("No job selected to resume.")
    ctx.job(current)
    ctx.runner.resume(current)
    gr.Info("Resuming from the last checkpoint.")
    return bump()


@user_errors
def export_job(ctx: UIContext, current: str):
    """The accelerate config and launch commands of the shown job."""
    if not current:
        raise StudioError("No job selected: pick one in the table or press Train.")

    return launch_export(ctx.store.get_job(current)["run_dir"])


def show_plan(ctx: UIContext, app_id: str, model_id: str | None, request: gr.Request = None) -> str:
    """What pressing Train would do with the chosen configuration."""
    if not ctx.current_app(app_id, request):
        return ""
    return plan_markdown(ctx.store, model_id, ctx.store.list_jobs(app_id, kind=TRAIN))
