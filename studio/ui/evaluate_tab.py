"""The Evaluate / Export tab: score a trained model against its base, and take it away.

Evaluations run as jobs (`python -m studio.evaluate RUN_DIR`, submitted through ctx.runner);
a gr.Timer reads the job row and its progress line, and when it has succeeded the results
(results.json) are drawn. Exports are written under settings.home/exports/<app_id>/, the
only folder the page serves files from. Nothing here imports torch: the evaluation and
export code loads models only when a handler runs.
"""

from __future__ import annotations

import shutil

import gradio as gr

from studio.errors import StudioError
from studio.evaluate import build_eval_config
from studio.evaluate.build import DEFAULT_METRICS
from studio.export import (
    export_adapter_zip,
    export_merged_zip,
    import_adapter_zip,
    push_to_hub,
)
from studio.export.gguf import export_gguf_zip
from studio.export.paths import exports_dir
from studio.jobs.run_folder import RunFolder
from studio.jobs.trained import latest_evaluation, trained_models, trained_version_id
from studio.store.job_states import ACTIVE_STATUSES, RUNNING, SUCCEEDED
from studio.ui.common import NO_APP, bind, bump, choices_update, plot_value, user_errors
from studio.ui.context import UIContext
from studio.ui.uploads import trusted_upload
from studio.ui.views.evaluate_progress import eval_progress, metrics_for_task, progress_lines
from studio.ui.views.evaluate_report import (
    batch_frame,
    confusion_html,
    evaluations_frame,
    per_label_frame,
    roc_frame,
    summary_markdown,
)

TICK_S = 2.0
METRIC_LABELS = [
    ("Perplexity / cross-entropy", "perplexity"),
    ("Classification", "classification"),
    ("ROUGE / BLEU / exact match", "text"),
    ("Batch comparison", "batch"),
]


def _app(ctx: UIContext, app_id: str) -> str:
    """The app id, or StudioError when no (own) app is chosen."""
    if not ctx.current_app(app_id):
        raise StudioError(NO_APP)
    return app_id


def _job(ctx: UIContext, app_id: str, job_id: str) -> dict:
    """The chosen trained model's job row, checked to be this app's."""
    if not job_id:
        raise StudioError("Choose a trained model first (train one in the Train tab).")
    job = ctx.job(job_id)
    if not ctx.store.belongs_to_app("jobs", job_id, app_id):
        raise StudioError("That model belongs to another app; pick one from the list.")
    return job


@user_errors
def start(ctx: UIContext, app_id, job_id, version_id, prompts_path, chosen, n, new_tokens):
    store, settings = ctx.store, ctx.settings
    job = _job(ctx, _app(ctx, app_id), job_id)
    prompts_file = trusted_upload(prompts_path) if prompts_path else None
    cfg = build_eval_config(
        store,
        settings,
        job["id"],
        dataset_version_id=version_id or None,
        metrics=list(chosen or []),
        prompts_file=prompts_file,
        max_examples=int(n or 100),
        max_new_tokens=int(new_tokens or 32),
    )
    ev = ctx.runner.submit(
        app_id, job.get("model_id"), "evaluate", cfg, params={"train_job_id": job["id"]}
    )
    gr.Info(f"Evaluation job {ev['id']} queued.")
    return ev["id"], bump()


@user_errors
def export_adapter(ctx: UIContext, app_id: str, job_id: str):
    store, settings = ctx.store, ctx.settings
    path = export_adapter_zip(store, settings, _job(ctx, _app(ctx, app_id), job_id)["id"])
    ctx.audit(app_id, "exported", f"adapter of job {job_id}")
    return str(path)


@user_errors
def export_merged(ctx: UIContext, app_id: str, job_id: str):
    store, settings = ctx.store, ctx.settings
    path = export_merged_zip(store, settings, _job(ctx, _app(ctx, app_id), job_id)["id"])
    ctx.audit(app_id, "exported", f"merged model of job {job_id}")
    return str(path)


@user_errors
def export_gguf(ctx: UIContext, app_id: str, job_id: str, qtype: str):
    store, settings = ctx.store, ctx.settings
    return str(export_gguf_zip(store, settings, _job(ctx, _app(ctx, app_id), job_id)["id"], qtype))


@user_errors
def push_hub(ctx: UIContext, app_id: str, job_id: str, repo: str, tok: str, merged: bool):
    store, settings = ctx.store, ctx.settings
    url = push_to_hub(
        store, settings, _job(ctx, _app(ctx, app_id), job_id)["id"], repo, tok, merged
    )
    ctx.audit(app_id, "exported", f"job {job_id} pushed to {url}")
    return f"Pushed to [{url}]({url}).", ""  # the token box is emptied after use


@user_errors
def import_zip(ctx: UIContext, app_id: str, path: str | None, base: str):
    store, settings = ctx.store, ctx.settings
    if not path:
        raise StudioError("Choose an adapter .zip to import.")
    ctx.check_storage()
    ctx.refuse_server_folder(base)
    job = import_adapter_zip(store, settings, _app(ctx, app_id), trusted_upload(path), base or None)
    ctx.audit(app_id, "imported", f"adapter as job {job['id']}")
    return f"Imported as job {job['id']}; pick it in **Trained model** or in Generate.", bump()


def build_evaluate_tab(ctx: UIContext) -> None:
    store, settings = ctx.store, ctx.settings
    with gr.Tab("Evaluate / Export", id="evaluate") as tab:
        gr.Markdown(
            "## Evaluate / Export\nScore a trained model against its base, then "
            "download it, push it to the Hub, or import an adapter made elsewhere."
        )
        with gr.Row():
            model = gr.Dropdown(
                label="Trained model",
                choices=[],
                elem_id="eval-model",
                scale=2,
                allow_custom_value=True,
            )  # checked against the app in handlers
            version = gr.Dropdown(
                label="Dataset version (validation split)",
                choices=[],
                elem_id="eval-version",
                scale=2,
                allow_custom_value=True,
            )
            prompts = gr.File(
                label="…or a prompts file (.txt / .csv / .jsonl)",
                file_types=[".txt", ".csv", ".jsonl"],
                elem_id="eval-prompts",
            )
        with gr.Row():
            metrics = gr.CheckboxGroup(
                METRIC_LABELS,
                value=list(DEFAULT_METRICS),
                label="Metrics",
                elem_id="eval-metrics",
                scale=3,
            )
            max_examples = gr.Number(100, label="Max examples", precision=0, minimum=1)
            max_new = gr.Number(32, label="Max new tokens", precision=0, minimum=1, maximum=512)
        with gr.Row():
            run = gr.Button("Evaluate", variant="primary", elem_id="eval-run", scale=3)
            cancel = gr.Button("Cancel evaluation", variant="stop", elem_id="eval-cancel", scale=1)
        eval_job = gr.Textbox(visible="hidden", elem_id="eval-job-id")
        shown = gr.Textbox(visible="hidden")  # the job whose results are drawn
        status = gr.Markdown(elem_id="eval-status")
        results_md = gr.Markdown(elem_id="eval-results")
        with gr.Row():
            per_label = gr.Dataframe(
                per_label_frame({}),
                label="Per label (tuned)",
                interactive=False,
                elem_id="eval-per-label",
            )
            confusion = gr.HTML()
        roc = gr.LinePlot(
            None,
            x="fpr",
            y="tpr",
            color="curve",
            label="ROC curves",
            x_title="false positive rate",
            y_title="true positive rate",
            height=300,
            elem_id="eval-roc",
        )
        # prompt, expected, base output, tuned output, metric, base score, tuned score
        batch = gr.Dataframe(
            batch_frame({}),
            label="Batch comparison",
            interactive=False,
            wrap=True,
            column_widths=["34%", "10%", "19%", "19%", "8%", "5%", "5%"],
            elem_id="eval-batch-table",
        )
        batch_file = gr.File(
            label="Batch comparison (CSV)", interactive=False, elem_id="eval-batch-file"
        )
        history = gr.Dataframe(
            label="Past evaluations of this model (click a row to show it)",
            interactive=False,
            elem_id="eval-history",
        )
        timer = gr.Timer(TICK_S)
        listed = gr.State(None)  # (model choices, version choices) last sent to this page

        gr.Markdown("### Export")
        with gr.Row():
            adapter_btn = gr.Button("Download adapter (.zip)", elem_id="export-adapter")
            merged_btn = gr.Button("Merge and download full model", elem_id="export-merged")
        with gr.Row():
            gguf_type = gr.Dropdown(
                [
                    ("Q8_0 (8-bit, close to the original)", "Q8_0"),
                    ("F16 (exact)", "F16"),
                    ("Q4_1 (4-bit, smallest; nearest to Q4_K_M)", "Q4_1"),
                ],
                value="Q8_0",
                label="GGUF type (llama.cpp, Ollama, LM Studio)",
                elem_id="export-gguf-type",
            )
            gguf_btn = gr.Button("Merge and download GGUF", elem_id="export-gguf")
            gguf_file = gr.File(
                label="GGUF zip (model, Modelfile, card)",
                interactive=False,
                elem_id="export-gguf-file",
            )
        with gr.Row():
            adapter_file = gr.File(
                label="Adapter zip", interactive=False, elem_id="export-adapter-file"
            )
            merged_file = gr.File(
                label="Merged model zip", interactive=False, elem_id="export-merged-file"
            )
        with gr.Accordion("Push to the Hugging Face Hub", open=False):
            with gr.Row():
                repo_id = gr.Textbox(
                    label="Repo id", placeholder="username/model-name", elem_id="hub-repo"
                )
                token = gr.Textbox(
                    label="Write token (used once, never stored)",
                    type="password",
                    elem_id="hub-token",
                )
                push_merged = gr.Checkbox(label="Push the merged model", value=False)
            push = gr.Button("Push", elem_id="hub-push")
            push_msg = gr.Markdown()
        with gr.Accordion("Import an adapter zip", open=False):
            import_file = gr.File(
                label="Adapter zip", file_types=[".zip"], elem_id="import-adapter"
            )
            import_base = gr.Textbox(
                label="Base model (only if the adapter's base is not one "
                "of the studio's: a folder or Hub id on this machine)"
            )
            import_btn = gr.Button("Import", elem_id="import-adapter-run")
            import_msg = gr.Markdown()

    def model_choices(app_id: str) -> list[tuple[str, str]]:
        if not ctx.current_app(app_id):
            return []
        names = {m["id"]: f"{m['name']} v{m['version']}" for m in store.list_models(app_id)}
        out = []
        for job in (m.job for m in trained_models(store, app_id)):
            name = names.get(job["model_id"]) or f"imported {job['params'].get('source', '')}"
            out.append((f"{name} · job {job['id'][:8]}", job["id"]))
        return out

    def refresh_lists(app_id: str, current: str | None, shown: tuple | None):
        """Both lists, each sent only when it differs from what the page shows."""
        choices = model_choices(app_id)
        ids = [c[1] for c in choices]
        value = current if current in ids else (ids[0] if ids else None)
        versions = []
        if ctx.current_app(app_id):
            versions = [
                (f"{v['dataset_name']} v{v['version']}", v["id"])
                for v in store.list_dataset_versions(app_id)
            ]
        last_models, last_versions = shown or (None, None)
        same = last_versions is not None and list(last_versions) == versions
        return (
            choices_update(choices, value, current, last_models),
            gr.skip() if same else gr.Dropdown(choices=versions),
            (choices, versions),
        )

    def on_model(app_id: str, job_id: str):
        """Default the version to the one the model was trained on; list its evaluations and
        re-attach to its live (else latest) evaluation, so a reload shows the progress."""
        if not job_id or not ctx.current_app(app_id):
            return gr.skip(), evaluations_frame([]), gr.skip(), ""
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
            past(app_id, job_id),
            metrics_for_task(task),
            ev["id"] if ev else "",
        )

    def past(app_id: str, job_id: str):
        if not job_id or not ctx.current_app(app_id):
            return evaluations_frame([])
        evs = [
            e
            for e in store.list_evaluations(app_id)
            if (e.get("results") or {}).get("train_job_id") == job_id
        ]
        return evaluations_frame(evs)

    def tick(ev_id: str, already: str, showing: str | None):
        """The status line (only when it changed) and the job whose results to draw."""
        text, results = _tick(ev_id, already)
        return gr.skip() if text == showing else text, results

    def _tick(ev_id: str, already: str):
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

    def show(ev_id: str, app_id: str):
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
            csv_out = exports_dir(settings, job["app_id"]) / f"batch-{job['id']}.csv"
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
    def cancel_eval(ev_id: str):
        if not ev_id:
            raise StudioError("No evaluation to cancel: start one with Evaluate.")
        job = ctx.runner.cancel(ev_id)
        gr.Info("Stopping the evaluation." if job["status"] == RUNNING else "Cancelled.")

    def pick_history(evt: gr.SelectData, table):
        row = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
        return str(table.iloc[row, 0]) if table is not None and len(table) > row else gr.skip()

    outs = [results_md, per_label, confusion, roc, batch, batch_file]
    # A job that finished while the page was elsewhere appears when the tab is opened.
    for trigger in (ctx.app_id.change, ctx.jobs_changed.change, tab.select):
        trigger(refresh_lists, [ctx.app_id, model, listed], [model, version, listed])
    model.change(
        on_model,
        [ctx.app_id, model],
        [version, history, metrics, eval_job],
        show_progress_on=[status],
    )
    run.click(
        bind(ctx, start),
        [ctx.app_id, model, version, prompts, metrics, max_examples, max_new],
        [eval_job, ctx.jobs_changed],
        api_name="evaluate",
    )
    timer.tick(
        tick,
        [eval_job, shown, status],
        [status, shown],
        show_progress="hidden",
        concurrency_limit=None,
        api_visibility="private",
    )
    shown.change(show, [shown, ctx.app_id], outs).then(past, [ctx.app_id, model], [history])
    history.select(pick_history, [history], [eval_job])
    cancel.click(cancel_eval, [eval_job], None, api_name="cancel_evaluation")
    adapter_btn.click(
        bind(ctx, export_adapter), [ctx.app_id, model], [adapter_file], api_name="export_adapter"
    )
    merged_btn.click(
        bind(ctx, export_merged), [ctx.app_id, model], [merged_file], api_name="export_merged"
    )
    gguf_btn.click(
        bind(ctx, export_gguf), [ctx.app_id, model, gguf_type], [gguf_file], api_name="export_gguf"
    )
    push.click(
        bind(ctx, push_hub),
        [ctx.app_id, model, repo_id, token, push_merged],
        [push_msg, token],
        api_name="push_to_hub",
        show_progress_on=[push_msg],
    )
    import_btn.click(
        bind(ctx, import_zip),
        [ctx.app_id, import_file, import_base],
        [import_msg, ctx.jobs_changed],
        api_name="import_adapter",
    )
