"""The Train tab: pick a saved model configuration, press Train, watch the job live.

The job runs in its own process (studio.jobs); this tab only reads the store and the run
folder's files on a gr.Timer tick, so a reload, a second browser or a server restart shows
the same live job. The chosen job id lives in a gr.BrowserState (survives reloads); without
one the tab shows the app's running (else queued, else newest) job. The timer ticks only
while the tab is shown (layout.poll_only_shown_tab). A tick costs a few store reads and two
stat() calls and answers into a gr.State, so a quiet tick costs the page nothing; only when
the job, its files or the jobs table changed does `refresh` run and send what differs (a
finished job's display never is re-sent).
"""

from __future__ import annotations

import gradio as gr

from studio.ui.common import bind
from studio.ui.context import UIContext
from studio.ui.train import handlers as h
from studio.ui.train.handlers import LOG_LINES
from studio.ui.train.views import JOB_HEADERS

TICK_S = 1.5
TRAIN_TAB = "train"  # the tab's id: a reload during a run opens on it (studio.ui.layout)


def build_train_tab(ctx: UIContext) -> None:
    """The Train tab: its layout, and its events wired to its handlers (handlers.py)."""
    with gr.Tab("Train", id=TRAIN_TAB) as tab:
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
        # axis to whole numbers. No fixed height: the page then cuts the legend off.
        chart = gr.LinePlot(
            None,
            x="step",
            y="value",
            color="series",
            label="Loss and validation accuracy by step",
            elem_id="train-chart",
            y_title="loss / accuracy",
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
        timer = ctx.polls[TRAIN_TAB] = gr.Timer(TICK_S, active=False)
        # (display stamp, job table rows, display values) last sent to this page
        shown = gr.State(None)
        news = gr.State("")  # a new token each time the poll finds the page out of date

    live_outputs = [status, progress, chart, log_box, jobs, cancel, resume, shown]
    for component, kind in ((model, "model"), (job_id, "job"), (saved_job, "job")):
        ctx.carries(component, kind)
    ctx.carries(jobs, "job_table")
    # One bound handler per function: Gradio queues calls of the same function in one
    # concurrency group, so its answers arrive in the order they were asked.
    refresh_models = bind(ctx, h.refresh_models)
    for trigger in (ctx.app_id.change, ctx.models_changed.change):
        trigger(refresh_models, [ctx.app_id, model], [model])

    show_plan = bind(ctx, h.show_plan)
    model.change(
        show_plan, [ctx.app_id, model], [plan], show_progress="hidden", api_name="show_plan"
    )
    ctx.app_id.change(bind(ctx, h.pick_job), [ctx.app_id, saved_job], [job_id], api_name="pick_job")
    start.click(
        bind(ctx, h.start_training),
        [ctx.app_id, model],
        [job_id, ctx.jobs_changed],
        api_name="start_training",
        show_progress_on=[status],
    )
    # Choosing a job must feel instant: remembering it happens in the browser, and the server
    # calls skip the queue (a few store reads).
    job_id.change(None, [job_id], [saved_job], js="(j) => j")
    polled = [job_id, ctx.app_id, shown, status, jobs]
    refresh = bind(ctx, h.refresh)
    job_id.change(
        refresh, polled, live_outputs, queue=False, show_progress="hidden", api_name="refresh"
    )
    news.change(
        refresh, polled, live_outputs, queue=False, show_progress="hidden", api_name="refresh"
    )
    poll = bind(ctx, h.poll)
    for trigger in (timer.tick, tab.select):
        trigger(
            poll,
            polled,
            [news],
            show_progress="hidden",
            concurrency_limit=None,
            api_visibility="private",
        )
    # The plan's clock and its estimate move on: drawn again when the tab is opened and when
    # a job's state changes (a finished run is the next plan's measure).
    for trigger in (tab.select, news.change):
        trigger(
            show_plan,
            [ctx.app_id, model],
            [plan],
            queue=False,
            show_progress="hidden",
            api_visibility="private",
            api_name="redraw_plan",
        )
    cancel.click(bind(ctx, h.cancel_job), [job_id], None, api_name="cancel_training")
    resume.click(bind(ctx, h.resume_job), [job_id], [ctx.jobs_changed], api_name="resume_training")
    # Selecting a row answers with the job's status line, progress and buttons, quick to
    # draw; the job_id.change refresh that follows sends its chart and log. Every click
    # runs ("multiple"): by default a click while the previous one is still answering is
    # dropped, and on a busy machine a user picks the next row that fast. ("always_last"
    # would run the first click's row again, not the last one's.) Two answers can still
    # arrive out of order, rarely; the page then shows the job clicked first, whole.
    jobs.select(
        bind(ctx, h.select_job),
        [jobs, ctx.app_id, shown, status],
        [job_id, status, progress, cancel, resume, shown],
        queue=False,
        show_progress="hidden",
        trigger_mode="multiple",
        api_name="select_job",
    )
    export.click(bind(ctx, h.export_job), [job_id], [export_box], api_name="launch_commands")
