"""The Apps tab: create, list, rename and delete apps, and choose the current one.

The chosen app goes into ctx.app_id (which layout.py mirrors into a gr.BrowserState, so it
survives a reload); every other tab follows ctx.app_id.change. Deleting asks for a ticked
"I understand" box; it stops the app's queued and running jobs, then removes its datasets,
models, jobs, files and exports (studio.jobs.removal.delete_app_and_stop_jobs).
"Create demo app" makes an app from one of sample_data/'s files in one click.
"""

from __future__ import annotations

import gradio as gr

from studio.data.samples import create_demo_app, sample_choices
from studio.errors import StudioError
from studio.jobs.removal import delete_app_and_stop_jobs
from studio.models.prepare import MODEL_NAME, packaged_model_ready
from studio.ui.common import bind, bump, in_background, user_errors
from studio.ui.context import UIContext
from studio.ui.views.apps import (
    ACTIVITY_HEADERS,
    TABLE_HEADERS,
    app_rows,
    current_note,
    log_rows,
)


def owned(ctx: UIContext, request: gr.Request | None) -> list[dict]:
    """The apps this request may see: an admin every app; everyone else (and `local` with
    sign-in off) their own."""
    return ctx.store.list_apps(owner=None if ctx.is_admin(request) else ctx.owner(request))


def view(ctx: UIContext, app_id: str, request: gr.Request | None):
    """(table, chooser, current note) for the current app id."""
    apps = owned(ctx, request)
    current = app_id if app_id in {a["id"] for a in apps} else None
    choices = [(a["name"], a["id"]) for a in apps]
    return (
        gr.update(value=app_rows(apps)),
        gr.update(choices=choices, value=current),
        current_note(apps, current),
    )


@user_errors
def create_app(ctx: UIContext, app_name: str, app_description: str, request: gr.Request = None):
    app = ctx.store.create_app(
        app_name, owner=ctx.owner(request), description=(app_description or "").strip()
    )
    ctx.audit(app["id"], "created", f"app {app['name']}", request)
    return (
        app["id"],
        *view(ctx, app["id"], request),
        "",
        "",
        f"Created **{app['name']}**; it is now the current app.",
    )


def demo_progress(seconds: float, first_use: bool) -> str:
    """What the note under "Create demo app" says while the app is being made."""
    if first_use:
        return (
            f"Preparing the built-in model {MODEL_NAME} for its first use (once on this "
            f"machine), then creating the demo app… {seconds:.0f} s"
        )
    return f"Creating the demo app… {seconds:.0f} s"


@user_errors
def create_demo(ctx: UIContext, key: str, request: gr.Request = None):
    """Make the demo app; meanwhile the note under the button says what the click waits
    for and for how long (the first one waits for the built-in model's conversion)."""
    owner = ctx.owner(request)
    first_use = not packaged_model_ready(ctx.settings)

    def waiting(seconds: float):  # only the note changes meanwhile
        return *[gr.skip()] * 4, demo_progress(seconds, first_use), gr.skip(), gr.skip()

    yield waiting(0)
    made = yield from in_background(
        lambda: create_demo_app(ctx.store, ctx.settings, key or "", owner=owner), waiting
    )
    app, version, model = made["app"], made["version"], made["model"]
    ctx.audit(app["id"], "created", f"demo app {app['name']} from sample {key}", request)
    note = (
        f"Created **{app['name']}** with dataset version {version['version']} "
        f"({version['n_accepted']} examples) and the model configuration "
        f"**{model['name']}**. Next: press **Train** in the Train tab."
    )
    yield app["id"], *view(ctx, app["id"], request), note, bump(), bump()


@user_errors
def choose_app(ctx: UIContext, app_id: str, request: gr.Request = None):
    if app_id and app_id not in {a["id"] for a in owned(ctx, request)}:
        raise StudioError("That app no longer exists; pick another one.")
    return app_id or "", *view(ctx, app_id, request)


@user_errors
def rename_app(ctx: UIContext, app_id: str, new: str, request: gr.Request = None):
    old = ctx.current_app(app_id, request)
    if not old:
        raise StudioError("Choose the app to rename in Current app first.")
    app = ctx.store.rename_app(app_id, new)
    ctx.audit(app_id, "renamed", f"{old['name']} → {app['name']}", request)
    return *view(ctx, app_id, request), "", f"Renamed to **{app['name']}**."


@user_errors
def delete_app(ctx: UIContext, app_id: str, understood: bool, request: gr.Request = None):
    app = ctx.current_app(app_id, request)
    if not app:
        raise StudioError("Choose the app to delete in Current app first.")
    if not understood:
        raise StudioError("Tick 'I understand' to confirm the delete, then click Delete again.")
    stopped = delete_app_and_stop_jobs(ctx.store, ctx.runner, app_id)
    ctx.audit(app_id, "deleted", f"app {app['name']}", request)
    also = f" (stopped {len(stopped)} running job(s) first)" if stopped else ""
    note = f"Deleted **{app['name']}** with its datasets, models, jobs and exports{also}."
    return "", *view(ctx, "", request), False, note


@user_errors
def refresh(ctx: UIContext, app_id: str, request: gr.Request = None):
    return view(ctx, app_id, request)


@user_errors
def activity_rows(ctx: UIContext, app_id: str, request: gr.Request = None):
    """The current app's activity log, newest first (own apps only)."""
    if not ctx.current_app(app_id, request):
        return []
    return log_rows(ctx.store.list_activity(app_id))


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

    outs = [table, chooser, current_note]
    create.click(
        bind(ctx, create_app),
        [name, description],
        [ctx.app_id, *outs, name, description, message],
        api_name="create_app",
        show_progress_on=[message],
    )
    demo.click(
        bind(ctx, create_demo),
        [sample],
        [ctx.app_id, *outs, demo_note, ctx.data_changed, ctx.models_changed],
        api_name="create_demo_app",
        show_progress_on=[demo_note],
    )
    chooser.input(
        bind(ctx, choose_app),
        [chooser],
        [ctx.app_id, *outs],
        api_name="choose_app",
        show_progress_on=[current_note],
    )
    rename.click(
        bind(ctx, rename_app),
        [ctx.app_id, new_name],
        [*outs, new_name, message],
        api_name="rename_app",
        show_progress_on=[message],
    )
    delete.click(
        bind(ctx, delete_app),
        [ctx.app_id, confirm],
        [ctx.app_id, *outs, confirm, message],
        api_name="delete_app",
        show_progress_on=[message],
    )
    ctx.app_id.change(
        bind(ctx, refresh),
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
        trigger(bind(ctx, activity_rows), [ctx.app_id], [activity_table], api_visibility="private")
    # The table must also fill on a fresh page where no app was remembered (no change event).
    root = gr.context.Context.root_block
    if root is not None:
        root.load(bind(ctx, refresh), [ctx.app_id], outs, api_visibility="private")
