"""The Train tab: pick a saved model configuration, press Train, watch the job live.

The job runs in its own process (studio.jobs); this tab only reads the store and the run
folder's files on a gr.Timer tick, so a reload, a second browser or a server restart shows
the same live job. The chosen job id lives in a gr.BrowserState (survives reloads); without
one the tab shows the app's running (else queued, else newest) job. A tick costs a few store
reads and two stat() calls: the run files are read, and the page updated, only when the job
or its files changed (a finished job's display never is re-sent).
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
    JOB_HEADERS,
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
TICK_S = 1.5
LOG_LINES = 12  # as many as the box shows, so the newest line is in view without scrolling


def build_train_tab(ctx: UIContext) -> None:
    store, settings = ctx.store, ctx.settings
    with gr.Tab("Train", id="train"):
        gr.Markdown(
            "## Train\nChoose a saved model configuration and press **Train**. The job "
            "runs in its own process: reload the page or close it, it keeps training."
        )
        with gr.Row():
            # Custom values allowed: the choices change per app; start_training checks the id.
            model = gr.Dropdown(
                [],
                label="Model configuration",
                elem_id="train-model",
                scale=3,
                allow_custom_value=True,
            )
            start = gr.Button("Train", variant="primary", elem_id="train-start", scale=1)
        plan = gr.Markdown(elem_id="train-plan")
        job_id = gr.Textbox(visible="hidden", elem_id="train-job-id")
        saved_job = gr.BrowserState("", storage_key="textgen-studio-train-job")
        status = gr.Markdown(elem_id="train-status")
        progress = gr.HTML(elem_id="train-progress")
        with gr.Row():
            cancel = gr.Button("Cancel", variant="stop", elem_id="train-cancel", interactive=False)
            resume = gr.Button("Resume", elem_id="train-resume", interactive=False)
        # A fixed color per series gives a legend from the first point; "d" keeps the step
        # axis to whole numbers.
        chart = gr.LinePlot(
            None,
            x="step",
            y="value",
            color="series",
            height=260,
            label="Loss: train (blue), eval (orange); accuracy (green)",
            elem_id="train-chart",
            y_title="loss",
            color_title="series",
            x_axis_format="d",
            color_map={
                "train loss": "#6366f1",
                "eval loss": "#f59e0b",
                "validation accuracy": "#10b981",
            },
        )
        log_box = gr.Textbox(
            label=f"train.log (last {LOG_LINES} lines)",
            lines=LOG_LINES,
            max_lines=LOG_LINES,
            autoscroll=True,
            interactive=False,
            elem_id="train-log",
        )
        with gr.Accordion("Launch commands (several GPUs or machines)", open=False):
            export = gr.Button(
                "Show this job's accelerate config and commands", elem_id="train-export"
            )
            export_box = gr.Code(language="shell", interactive=False, elem_id="train-commands")
        jobs = gr.Dataframe(
            headers=JOB_HEADERS,
            interactive=False,
            elem_id="train-jobs",
            label="Training jobs of this app (click a row to show it)",
        )
        timer = gr.Timer(TICK_S)
        # (display stamp, job table rows, display values) last sent to this page
        shown = gr.State(None)

    def model_choices(app_id: str) -> list[tuple[str, str]]:
        if not ctx.current_app(app_id):
            return []
        return [
            (f"{m['name']} v{m['version']} ({template_title(m['template'])})", m["id"])
            for m in store.list_models(app_id)
        ]

    def refresh_models(app_id: str, current: str | None):
        choices = model_choices(app_id)
        ids = [c[1] for c in choices]
        return gr.Dropdown(
            choices=choices, value=current if current in ids else (ids[0] if ids else None)
        )

    def pick_job(app_id: str, saved: str) -> str:
        # A reload keeps the job the browser was watching, if it belongs to this app.
        train_jobs = store.list_jobs(app_id, kind=TRAIN) if ctx.current_app(app_id) else []
        return pick_job_id(train_jobs, saved)

    @user_errors
    def start_training(app_id: str, model_id: str):
        if not ctx.current_app(app_id):
            raise StudioError(NO_APP)
        if not model_id:
            raise StudioError("Choose a model configuration to train (save one in the Models tab).")
        ctx.model(model_id)  # someone else's model is "not found"
        if not store.belongs_to_app("models", model_id, app_id):
            raise StudioError(
                "That model configuration belongs to another app; pick one from the list."
            )

        config = check_trainable(store, settings, model_id)
        ctx.check_storage()
        job = ctx.runner.submit(app_id, model_id, "train", config)
        ctx.audit(app_id, "trained", f"job {job['id']} of model {model_id}")
        gr.Info(f"Training job {job['id']} queued.")
        return job["id"], bump()

    def refresh(
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
        app = ctx.current_app(app_id)
        names = (
            {m["id"]: f"{m['name']} v{m['version']}" for m in store.list_models(app_id)}
            if app
            else {}
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
            gr.Button(interactive=v) if c else gr.skip()
            for v, c in zip(sent[4:], new[4:], strict=True)
        ]
        return (*shows, table, *buttons, (stamp, rows, sent))

    def select_job(
        evt: gr.SelectData,
        table: pd.DataFrame,
        app_id: str,
        last: tuple | None,
        showing: str | None,
    ):
        """The clicked job, and its display in the same answer (one round trip)."""
        row = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
        if table is None or len(table) <= row:
            return gr.skip(), *[gr.skip()] * len(live_outputs)
        job = str(table.iloc[row, 0])
        return job, *refresh(job, app_id, last, showing, table)

    @user_errors
    def cancel_job(current: str):
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

        return launch_export(store.get_job(current)["run_dir"])

    live_outputs = [status, progress, chart, log_box, jobs, cancel, resume, shown]
    for trigger in (ctx.app_id.change, ctx.models_changed.change):
        trigger(refresh_models, [ctx.app_id, model], [model])

    def show_plan(app_id: str, model_id: str | None, request: gr.Request = None) -> str:
        if not ctx.current_app(app_id, request):
            return ""
        return plan_markdown(store, model_id, store.list_jobs(app_id, kind=TRAIN))

    model.change(show_plan, [ctx.app_id, model], [plan], show_progress="hidden")
    ctx.app_id.change(pick_job, [ctx.app_id, saved_job], [job_id])
    start.click(
        start_training,
        [ctx.app_id, model],
        [job_id, ctx.jobs_changed],
        api_name="start_training",
        show_progress_on=[status],
    )
    # Choosing a job must feel instant: remembering it happens in the browser, and the server
    # calls skip the queue (a few store reads).
    job_id.change(None, [job_id], [saved_job], js="(j) => j")
    polled = [job_id, ctx.app_id, shown, status, jobs]
    job_id.change(refresh, polled, live_outputs, queue=False, show_progress="hidden")
    timer.tick(
        refresh,
        polled,
        live_outputs,
        show_progress="hidden",
        concurrency_limit=None,
        api_visibility="private",
    )
    cancel.click(cancel_job, [job_id], None, api_name="cancel_training")
    resume.click(resume_job, [job_id], [ctx.jobs_changed], api_name="resume_training")
    # Selecting a row sends the job and its display at once; the job_id.change refresh that
    # follows finds nothing changed and sends nothing.
    jobs.select(
        select_job,
        [jobs, ctx.app_id, shown, status],
        [job_id, *live_outputs],
        queue=False,
        show_progress="hidden",
    )
    export.click(export_job, [job_id], [export_box], api_name="launch_commands")
