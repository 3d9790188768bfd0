"""The Evaluate / Export tab's handlers: plain functions of (ctx, *values), wired in
tab.py with common.bind. They start, follow, show and cancel evaluations, list the
app's trained models, and export or import adapters. No torch here: the evaluation and export
code loads models only when a handler runs.
"""

from __future__ import annotations

import shutil

import gradio as gr

from studio.actions.export import export_model, push_model
from studio.actions.import_adapter import import_adapter
from studio.actions.start_evaluation import start_evaluation
from studio.configs import CPU_ONLY, SETTINGS
from studio.errors import StudioError
from studio.export.paths import exports_dir
from studio.jobs.run_folder import RunFolder
from studio.jobs.trained import latest_evaluation, trained_models, trained_version_id
from studio.store.job_states import ACTIVE_STATUSES, EVALUATE, RUNNING, SUCCEEDED
from studio.ui.common import bump, choices_update, plot_value, user_errors
from studio.ui.context import UIContext
from studio.ui.evaluate.progress import eval_progress, metrics_for_task, progress_lines
from studio.ui.evaluate.report import (
    batch_frame,
    confusion_html,
    evaluations_frame,
    per_label_frame,
    roc_frame,
    summary_markdown,
)
from studio.ui.uploads import trusted_upload


@user_errors
def start(ctx: UIContext, app_id, job_id, version_id, prompts_path, chosen, n, new_tokens):
    ctx.check_storage()
    ev = start_evaluation(
        ctx.store,
        ctx.settings,
        ctx.runner,
        ctx.caller(),
        app_id,
        job_id,
        dataset_version_id=version_id or None,
        metrics=list(chosen or []),
        prompts_file=trusted_upload(prompts_path) if prompts_path else None,
        max_examples=int(n or SETTINGS["max_examples"].page_default(CPU_ONLY)),
        max_new_tokens=int(new_tokens or SETTINGS["max_new_tokens"].default),
    )
    gr.Info(f"Evaluation job {ev['id']} queued.")
    return ev["id"], bump()


def _export(ctx: UIContext, app_id: str, job_id: str, kind: str, qtype: str = "Q8_0") -> str:
    ctx.check_storage()
    return str(export_model(ctx.store, ctx.settings, ctx.caller(), app_id, job_id, kind, qtype))


@user_errors
def export_adapter(ctx: UIContext, app_id: str, job_id: str):
    return _export(ctx, app_id, job_id, "adapter")


@user_errors
def export_merged(ctx: UIContext, app_id: str, job_id: str):
    return _export(ctx, app_id, job_id, "merged")


@user_errors
def export_gguf(ctx: UIContext, app_id: str, job_id: str, qtype: str):
    return _export(ctx, app_id, job_id, "gguf", qtype)


@user_errors
def push_hub(ctx: UIContext, app_id: str, job_id: str, repo: str, tok: str, merged: bool):
    url = push_model(ctx.store, ctx.settings, ctx.caller(), app_id, job_id, repo, tok, merged)
    return f"Pushed to [{url}]({url}).", ""  # the token box is emptied after use


@user_errors
def import_zip(ctx: UIContext, app_id: str, path: str | None, base: str):
    zip_path = trusted_upload(path) if path else None
    job = import_adapter(ctx.store, ctx.settings, ctx.caller(), app_id, zip_path, base or None)
    return f"Imported as job {job['id']}; pick it in **Trained model** or in Generate.", bump()


def model_choices(ctx: UIContext, app_id: str) -> list[tuple[str, str]]:
    """(label, job id) for the app's trained (and imported) models."""
    store = ctx.store
    if not ctx.current_app(app_id):
        return []
    names = {m["id"]: f"{m['name']} v{m['version']}" for m in store.list_models(app_id)}
    out = []
    for job in (m.job for m in trained_models(store, app_id)):
        name = names.get(job["model_id"]) or f"imported {job['params'].get('source', '')}"
        out.append((f"{name} · job {job['id'][:8]}", job["id"]))
    return out


def refresh_lists(ctx: UIContext, app_id: str, current: str | None, shown: tuple | None):
    """Both lists, each sent only when it differs from what the page shows."""
    choices = model_choices(ctx, app_id)
    ids = [c[1] for c in choices]
    value = current if current in ids else (ids[0] if ids else None)
    versions = []
    if ctx.current_app(app_id):
        versions = [
            (f"{v['dataset_name']} v{v['version']}", v["id"])
            for v in ctx.store.list_dataset_versions(app_id)
        ]
    last_models, last_versions = shown or (None, None)
    same = last_versions is not None and list(last_versions) == versions
    return (
        choices_update(choices, value, current, last_models),
        gr.skip() if same else gr.Dropdown(choices=versions),
        (choices, versions),
    )


def on_model(ctx: UIContext, app_id: str, job_id: str):
    """Default the version to the one the model was trained on; list its evaluations and
    re-attach to its live (else latest) evaluation, so a reload shows the progress."""
    if not job_id or not ctx.current_app(app_id):
        return gr.skip(), evaluations_frame([]), gr.skip(), ""
    store = ctx.store
    job = ctx.job(job_id)
    ev = latest_evaluation(store, app_id, job_id)
    version_id = trained_version_id(store, job)
    task = None
    if version_id:
        try:
            task = (store.get_dataset_version(version_id).get("stats") or {}).get("task")
        except StudioError:
            task = None
    # The evaluation id stays the last output (API callers unpack it so).
    return (
        gr.Dropdown(value=version_id),
        past(ctx, app_id, job_id),
        metrics_for_task(task),
        ev["id"] if ev else "",
    )


def past(ctx: UIContext, app_id: str, job_id: str):
    """The evaluations of this trained model (the history table)."""
    if not job_id or not ctx.current_app(app_id):
        return evaluations_frame([])
    evs = [
        e
        for e in ctx.store.list_evaluations(app_id)
        if (e.get("results") or {}).get("train_job_id") == job_id
    ]
    return evaluations_frame(evs)


def tick(ctx: UIContext, ev_id: str, already: str, showing: str | None):
    """The status line (only when it changed) and the job whose results to draw."""
    text, results = _tick(ctx, ev_id, already)
    return gr.skip() if text == showing else text, results


def _tick(ctx: UIContext, ev_id: str, already: str):
    if not ev_id:  # clear results drawn for another model
        return (
            "No evaluation yet: choose a model and press **Evaluate**.",
            "" if already else gr.skip(),
        )
    try:
        job = ctx.job(ev_id)
    except StudioError:
        return "That evaluation no longer exists.", gr.skip()
    if job["status"] in ACTIVE_STATUSES:
        where = eval_progress(progress_lines(job["run_dir"])) if job["run_dir"] else ""
        return f"Evaluation **{job['status']}** — {where}", gr.skip()
    text = f"Evaluation **{job['status']}**: {job.get('reason') or ''}"
    return text, (ev_id if job["status"] == SUCCEEDED and already != ev_id else gr.skip())


def show(ctx: UIContext, ev_id: str, app_id: str):
    """The drawn results of evaluation `ev_id` (summary, tables, plot, batch CSV)."""
    try:
        job = ctx.job(ev_id) if ev_id else None
    except StudioError:
        job = None
    results = RunFolder(job["run_dir"]).results() if job else None
    if not results:
        return "", None, "", None, None, None
    csv_out = None
    src = RunFolder(job["run_dir"]).batch_csv
    if src.is_file() and ctx.current_app(app_id):
        csv_out = exports_dir(ctx.settings, job["app_id"]) / f"batch-{job['id']}.csv"
        shutil.copyfile(src, csv_out)  # served from the exports folder only
    return (
        summary_markdown(results),
        per_label_frame(results),
        confusion_html(results),
        plot_value(roc_frame(results)),
        batch_frame(results),
        str(csv_out) if csv_out else None,
    )


@user_errors
def cancel_eval(ctx: UIContext, ev_id: str):
    """Stop the shown evaluation (queued: cancelled at once)."""
    if not ev_id:
        raise StudioError("No evaluation to cancel: start one with Evaluate.")
    job = ctx.cancel(ev_id, EVALUATE, "evaluation")
    gr.Info("Stopping the evaluation." if job["status"] == RUNNING else "Cancelled.")


def pick_history(ctx: UIContext, evt: gr.SelectData, table):
    """The evaluation id of the clicked history row."""
    row = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
    return str(table.iloc[row, 0]) if table is not None and len(table) > row else gr.skip()
