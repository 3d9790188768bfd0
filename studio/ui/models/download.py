"""The Models tab's Download row: fetch a template's (or a typed) Hub model into the models
folder as a job, with its progress shown under the template card and a Cancel button.

The signed-in user's Hugging Face token (the OAuth token on a Space) goes to the download
job; without one the server's HF_TOKEN is used. Offline, Download says so at once.
"""

from __future__ import annotations

import gradio as gr

from studio.download import download_progress, queue_download
from studio.errors import StudioError
from studio.models.hub import user_token
from studio.models.resolve import PACKAGED_REF, SCRATCH_PREFIX
from studio.templates import get_template
from studio.ui.common import NO_APP, bind, user_errors
from studio.ui.context import UIContext
from studio.ui.models.download_view import download_text, finished
from studio.ui.models.views import template_card

POLL_S = 1.0


def _repo(key: str, base: str) -> str:
    return (base or "").strip() or get_template(key).base_model


@user_errors
def on_download(
    ctx: UIContext, app_id: str, key: str, base: str, oauth_token: gr.OAuthToken | None = None
):
    """Queue the download of the form's base model: (status line, job id, timer)."""
    repo = _repo(key, base)
    if repo == PACKAGED_REF or repo.startswith(SCRATCH_PREFIX):
        return "This model ships with the studio: nothing to download.", "", gr.Timer(active=False)
    if not ctx.current_app(app_id):
        raise gr.Error(NO_APP)
    ctx.refuse_server_folder(repo)
    token = user_token(oauth_token.token if oauth_token else None)
    try:
        job = queue_download(ctx.runner, ctx.store, ctx.settings, app_id, repo, token)
    except StudioError as exc:  # offline, a local folder, already here: said in place
        return str(exc), "", gr.Timer(active=False)
    return download_text(repo, download_progress(job)), job["id"], gr.Timer(active=True)


@user_errors
def on_download_tick(ctx: UIContext, job_id: str, key: str, base: str):
    """The download's progress; when it ends, the timer stops and the card is refreshed."""
    if not job_id:
        return gr.skip(), gr.Timer(active=False), gr.skip()
    job = ctx.job(job_id)
    progress = download_progress(job)
    text = download_text(job["params"].get("repo_id", ""), progress)
    if not finished(progress):
        return text, gr.skip(), gr.skip()
    return text, gr.Timer(active=False), template_card(ctx.settings, key, (base or "").strip())


@user_errors
def on_download_cancel(ctx: UIContext, job_id: str):
    """Stop the download (its files stay: Download continues from them)."""
    if not job_id:
        return "No download is running."
    job = ctx.job(job_id)
    if job["status"] in ("queued", "running"):
        ctx.runner.cancel(job_id)
        return f"Stopping the download of **{job['params'].get('repo_id', '')}**…"
    return gr.skip()


def build_download_row() -> dict:
    """The Download / Cancel buttons and the progress line (placed under the card)."""
    with gr.Row():
        start = gr.Button("Download base model", size="sm", elem_id="models-download")
        stop = gr.Button("Cancel download", size="sm", elem_id="models-download-cancel")
    status = gr.Markdown(elem_id="models-download-status")
    return {
        "start": start,
        "stop": stop,
        "status": status,
        "job_id": gr.State(""),
        "timer": gr.Timer(POLL_S, active=False),
    }


def wire_download_row(ctx: UIContext, row: dict, template, base, card) -> None:
    """Wire the row to the handlers above (the base model field is built after the row)."""
    status, job_id, timer = row["status"], row["job_id"], row["timer"]
    ctx.carries(job_id, "job")
    row["start"].click(
        bind(ctx, on_download),
        [ctx.app_id, template, base],
        [status, job_id, timer],
        api_name="download_model",
        show_progress_on=[status],
    )
    timer.tick(
        bind(ctx, on_download_tick),
        [job_id, template, base],
        [status, timer, card],
        show_progress="hidden",
        api_name="download_progress",
    )
    row["stop"].click(
        bind(ctx, on_download_cancel),
        [job_id],
        [status],
        show_progress="hidden",
        api_name="cancel_download",
    )
