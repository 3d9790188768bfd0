"""The Train tab's handlers: plain functions of (ctx, *values) that build_train_tab wires
with `bind`, so a test calls them with values and reads the values back, without a page.

Their names are the listeners' names, and with them the API endpoints: renaming one renames
its endpoint. `refresh` is the poll: it reads the run files only when the job or its files
changed, and sends each output only when it differs from what the page shows.
"""

from __future__ import annotations

import gradio as gr
import pandas as pd

from studio.actions.start_training import start_training as train_model
from studio.errors import StudioError
from studio.jobs import job_progress, read_metrics, tail_log
from studio.jobs.launch import launch_export
from studio.jobs.scheduler import can_resume
from studio.store.job_states import ACTIVE_STATUSES, RUNNING, TRAIN
from studio.ui.common import bump, changed, plot_value, user_errors
from studio.ui.context import UIContext
from studio.ui.models.views import title as template_title
from studio.ui.train.plan import plan_markdown
from studio.ui.train.views import (
    chart_frame,
    display_stamp,
    jobs_rows,
    page_shows,
    pick_job_id,
    progress_html,
    status_markdown,
)

LIVE = ACTIVE_STATUSES
LOG_LINES = 12  # as many as the box shows, so the newest line is in view without scrolling
# What `refresh` answers: status, progress, chart, log, jobs table, cancel, resume, and the
# state of what was sent (the tab's live outputs, in this order).
N_LIVE_OUTPUTS = 8
# What `select_job` answers after the job id: status, progress, cancel, resume, state.
N_SELECT_OUTPUTS = 5


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


def is_training(ctx: UIContext, app_id: str) -> bool:
    """Whether the app has a queued or running training job (a reload then shows Train)."""
    if not ctx.current_app(app_id):
        return False
    return bool(ctx.store.list_jobs(app_id, status=LIVE, kind=TRAIN))


@user_errors
def start_training(
    ctx: UIContext, app_id: str, model_id: str, oauth_token: gr.OAuthToken | None = None
):
    """Queue a training job of the chosen model configuration: (job id, jobs-changed bump).
    A base the job downloads first comes with the signed-in user's Hugging Face token."""
    ctx.check_storage()  # the uploads waiting in Gradio's cache count too
    job = train_model(
        ctx.store,
        ctx.settings,
        ctx.runner,
        ctx.caller(),
        app_id,
        model_id,
        hub_token=oauth_token.token if oauth_token else None,
    )
    active = [
        j for j in ctx.store.list_jobs(app_id, status=LIVE, kind=TRAIN) if j["id"] != job["id"]
    ]
    others = ", ".join(f"{j['id']} ({j['status']})" for j in active)
    at_once = int(ctx.settings.max_concurrent_jobs)
    gr.Info(
        f"Training job {job['id']} queued"
        + (
            f"; this app also has job {others}, and {at_once} job(s) run at a time."
            if others
            else "."
        )
    )
    return job["id"], bump()


def _table_and_job(ctx: UIContext, current: str, app_id: str) -> tuple[list, dict | None]:
    """The jobs table's rows and the shown job's row (None when it is gone or not yours)."""
    store = ctx.store
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
    return rows, job


def _same_rows(rows: list, shown: list | None) -> bool:
    """Whether the page's jobs table needs no redraw: the same rows, ignoring a running job's
    duration, which ticks every second; it is redrawn with the job's next step."""
    if shown is None or len(rows) != len(shown):
        return False
    return all(a[:-1] == b[:-1] for a, b in zip(rows, shown, strict=True))


def _display(job: dict | None, light: bool = False) -> tuple:
    """What the tab shows for a job: status, progress, chart, log, cancel?, resume?
    `light`: without the chart and the log (None), the parts that are slow to draw."""
    if job is None:
        return (status_markdown(None, None), "", None, None if light else "", False, False)
    metrics = read_metrics(job["run_dir"])
    p = job_progress(job, metrics)
    # Resume is never offered without a checkpoint to continue from.
    return (
        status_markdown(job, p),
        progress_html(p),
        None if light else plot_value(chart_frame(metrics)),
        None if light else tail_log(job["run_dir"], LOG_LINES),
        job["status"] in LIVE,
        can_resume(job),
    )


def poll(
    ctx: UIContext,
    current: str,
    app_id: str,
    last: tuple | None,
    showing: str | None = None,
    table_now: pd.DataFrame | None = None,
):
    """The timer's tick: a new token when the page is out of date (its change makes `refresh`
    draw what changed), else gr.skip(). Its only output is a gr.State, so a quiet tick costs
    the page nothing: a tick that outputs the display marks every part of it pending."""
    if not page_shows(last, showing, table_now):
        return bump()
    rows, job = _table_and_job(ctx, current, app_id)
    stale = display_stamp(job) != last[0] or not _same_rows(rows, last[1])
    return bump() if stale else gr.skip()


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
    if not page_shows(last, showing, table_now):
        last = None  # answers crossed on the way (a poll and a click): send everything
    rows, job = _table_and_job(ctx, current, app_id)
    stamp = display_stamp(job)
    last_stamp, last_rows, last_sent = last or (None, None, None)
    same_rows = _same_rows(rows, last_rows)
    table, rows = (gr.skip(), last_rows) if same_rows else (rows, rows)
    if stamp == last_stamp:
        return (*[gr.skip()] * 4, table, gr.skip(), gr.skip(), (stamp, rows, last_sent))
    sent = _display(job)
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
    """The clicked job with its status line, progress bar and buttons: the click's answer,
    light enough to be drawn at once. Its chart and log follow: the job id's change runs
    `refresh`, which finds them out of date (the stamp is cleared) and sends them."""
    row = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
    if table is None or len(table) <= row:
        return gr.skip(), *[gr.skip()] * N_SELECT_OUTPUTS
    job_id = str(table.iloc[row, 0])
    try:
        job = ctx.job(job_id)
    except StudioError:
        job = None
    status, progress, _, _, live, resumable = _display(job, light=True)
    if page_shows(last, showing, table):
        # The page still shows the chart, log and table last sent: say so, so that
        # `refresh` sends the chart and log only if this job's differ.
        _, rows, before = last
        kept = (None, rows, (status, progress, before[2], before[3], live, resumable))
    else:
        kept = None
    return (
        job_id,
        status,
        progress,
        gr.Button(interactive=live),
        gr.Button(interactive=resumable),
        kept,
    )


@user_errors
def cancel_job(ctx: UIContext, current: str):
    """Cancel the shown job (a running one saves a checkpoint and the adapter first)."""
    if not current:
        raise StudioError("No job selected to cancel.")
    job = ctx.cancel(current, TRAIN, "training")
    gr.Info(
        "Stopping: the job saves a checkpoint and the adapter, then stops."
        if job["status"] == RUNNING
        else "Cancelled."
    )


@user_errors
def resume_job(ctx: UIContext, current: str, oauth_token: gr.OAuthToken | None = None):
    """Queue the shown job again, from its last checkpoint (with the user's Hugging Face
    token, as Train gives it)."""
    if not current:
        raise StudioError("No job selected to resume.")
    app_id = ctx.job(current, kinds=(TRAIN,))["app_id"]
    token = oauth_token.token if oauth_token else None
    ctx.runner.resume(current, env={"HF_TOKEN": token} if token else None)
    ctx.audit(app_id, "resumed", f"training job {current}")
    gr.Info("Resuming from the last checkpoint.")
    return bump()


@user_errors
def export_job(ctx: UIContext, current: str):
    """The accelerate config and launch commands of the shown job."""
    if not current:
        raise StudioError("No job selected: pick one in the table or press Train.")
    return launch_export(ctx.job(current, kinds=(TRAIN,))["run_dir"])


def show_plan(ctx: UIContext, app_id: str, model_id: str | None, request: gr.Request = None) -> str:
    """What pressing Train would do with the chosen configuration."""
    if not ctx.current_app(app_id, request):
        return ""
    if model_id and not ctx.store.belongs_to_app("models", model_id, app_id):
        return ""  # another app's (or user's) model: nothing to plan, as for a missing one
    return plan_markdown(ctx.store, model_id, ctx.store.list_jobs(app_id, kind=TRAIN))
