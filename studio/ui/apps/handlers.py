"""The Apps tab's handlers: plain functions of (ctx, *values) that build_apps_tab wires with
`bind`, so a test calls them with values and reads the values back, without a page.
"""

from __future__ import annotations

import gradio as gr

from studio.actions.demo_app import create_demo_app
from studio.errors import StudioError
from studio.jobs.removal import delete_app_and_stop_jobs
from studio.models.prepare import MODEL_NAME, packaged_model_ready
from studio.ui.apps.views import (
    app_rows,
    current_note,
    log_rows,
)
from studio.ui.common import bump, in_background, user_errors
from studio.ui.context import UIContext


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
    ctx.check_storage(request)  # a demo app holds a dataset version
    caller = ctx.caller(request)
    first_use = not packaged_model_ready(ctx.settings)

    def waiting(seconds: float):  # only the note changes meanwhile
        return *[gr.skip()] * 4, demo_progress(seconds, first_use), gr.skip(), gr.skip()

    yield waiting(0)
    made = yield from in_background(
        lambda: create_demo_app(ctx.store, ctx.settings, caller, key or ""), waiting
    )
    app, version, model = made["app"], made["version"], made["model"]
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
