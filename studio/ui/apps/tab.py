"""The Apps tab: create, list, rename and delete apps, and choose the current one.

The chosen app goes into ctx.app_id (which layout.py mirrors into a gr.BrowserState, so it
survives a reload); every other tab follows ctx.app_id.change. Deleting asks for a ticked
"I understand" box; it stops the app's queued and running jobs, then removes its datasets,
models, jobs, files and exports (studio.jobs.removal.delete_app_and_stop_jobs).
"Create demo app" makes an app from one of sample_data/'s files in one click.
"""

from __future__ import annotations

import gradio as gr

from studio.data.samples import sample_choices
from studio.ui.apps import handlers as h
from studio.ui.apps.views import (
    ACTIVITY_HEADERS,
    TABLE_HEADERS,
)
from studio.ui.common import bind
from studio.ui.context import UIContext


def build_apps_tab(ctx: UIContext) -> None:
    with gr.Tab("Apps", id="apps"):
        gr.Markdown("## Apps\nAn app holds your datasets, models and training jobs.")
        current_note = gr.Markdown(elem_id="apps-current-note")
        with gr.Row():
            chooser = gr.Dropdown(
                label="Current app", choices=[], elem_id="apps-current", interactive=True, scale=3
            )
        with gr.Accordion("Start from a sample (one click)", open=True):
            gr.Markdown(
                "Makes an app with the sample's dataset version and a model "
                "configuration small enough to train on a laptop CPU in minutes."
            )
            with gr.Row(elem_id="demo-app-row"):
                sample = gr.Dropdown(
                    sample_choices(),
                    value="sentiment",
                    label="Sample",
                    elem_id="apps-sample",
                    scale=3,
                )
                demo = gr.Button("Create demo app", elem_id="apps-demo", scale=1)
            demo_note = gr.Markdown(elem_id="apps-demo-note")
        with gr.Accordion("Create an app", open=True):
            with gr.Row():
                name = gr.Textbox(label="Name", elem_id="apps-name", max_length=80)
                description = gr.Textbox(
                    value="", label="Description (optional)", elem_id="apps-description"
                )
            create = gr.Button("Create app", variant="primary", elem_id="apps-create")
        table = gr.Dataframe(
            headers=TABLE_HEADERS,
            label="Your apps",
            interactive=False,
            elem_id="apps-table",
            wrap=True,
        )
        with gr.Accordion("Rename or delete the current app", open=False):
            with gr.Row():
                new_name = gr.Textbox(
                    value="", label="New name", elem_id="apps-new-name", max_length=80
                )
                rename = gr.Button("Rename", elem_id="apps-rename")
            with gr.Row():
                confirm = gr.Checkbox(
                    label="I understand: deleting stops this app's running jobs and removes its "
                    "datasets, models, jobs and files for good.",
                    elem_id="apps-delete-confirm",
                )
                delete = gr.Button("Delete app", variant="stop", elem_id="apps-delete")
        message = gr.Markdown(elem_id="apps-message")
        with gr.Accordion("Activity of the current app", open=False):
            activity_table = gr.Dataframe(
                headers=ACTIVITY_HEADERS, interactive=False, wrap=True, elem_id="apps-activity"
            )

    ctx.carries(chooser, "app")
    outs = [table, chooser, current_note]
    create.click(
        bind(ctx, h.create_app),
        [name, description],
        [ctx.app_id, *outs, name, description, message],
        api_name="create_app",
        show_progress_on=[message],
    )
    demo.click(
        bind(ctx, h.create_demo),
        [sample],
        [ctx.app_id, *outs, demo_note, ctx.data_changed, ctx.models_changed],
        api_name="create_demo_app",
        show_progress_on=[demo_note],
    )
    chooser.input(
        bind(ctx, h.choose_app),
        [chooser],
        [ctx.app_id, *outs],
        api_name="choose_app",
        show_progress_on=[current_note],
    )
    rename.click(
        bind(ctx, h.rename_app),
        [ctx.app_id, new_name],
        [*outs, new_name, message],
        api_name="rename_app",
        show_progress_on=[message],
    )
    delete.click(
        bind(ctx, h.delete_app),
        [ctx.app_id, confirm],
        [ctx.app_id, *outs, confirm, message],
        api_name="delete_app",
        show_progress_on=[message],
    )
    ctx.app_id.change(
        bind(ctx, h.refresh),
        [ctx.app_id],
        outs,
        api_name="refresh_apps",
        show_progress_on=[current_note],
    )
    for trigger in (
        ctx.app_id.change,
        rename.click,
        ctx.data_changed.change,
        ctx.jobs_changed.change,
    ):
        trigger(
            bind(ctx, h.activity_rows), [ctx.app_id], [activity_table], api_visibility="private"
        )
    # The table must also fill on a fresh page where no app was remembered (no change event).
    root = gr.context.Context.root_block
    if root is not None:
        root.load(
            bind(ctx, h.refresh), [ctx.app_id], outs, api_visibility="private", api_name="refresh"
        )
