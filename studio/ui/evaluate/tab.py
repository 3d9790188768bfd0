"""The Evaluate / Export tab: score a trained model against its base, and take it away.

Evaluations run as jobs (`python -m studio.evaluate RUN_DIR`, submitted through ctx.runner);
a gr.Timer reads the job row and its progress line, and when it has succeeded the results
(results.json) are drawn. Exports are written under settings.home/exports/<app_id>/, the
only folder the page serves files from. Nothing here imports torch: the evaluation and
export code loads models only when a handler runs.
"""

from __future__ import annotations

import gradio as gr

from studio.actions.start_evaluation import DEFAULT_METRICS
from studio.configs import CPU_ONLY, SETTINGS, Setting
from studio.ui.common import bind, hidden_until_file
from studio.ui.context import UIContext
from studio.ui.evaluate.handlers import (
    cancel_eval,
    export_adapter,
    export_gguf,
    export_merged,
    import_zip,
    on_model,
    past,
    pick_history,
    push_hub,
    refresh_lists,
    show,
    start,
    tick,
)
from studio.ui.evaluate.report import batch_frame, per_label_frame

TICK_S = 2.0
METRIC_LABELS = [
    ("Perplexity / cross-entropy", "perplexity"),
    ("Classification", "classification"),
    ("ROUGE / BLEU / exact match", "text"),
    ("Batch comparison", "batch"),
]


def _limit(setting: Setting) -> gr.Number:
    """A whole-number field for an evaluation limit, as the settings table gives it."""
    return gr.Number(
        setting.page_default(CPU_ONLY),
        label=setting.label,
        precision=0,
        minimum=setting.spec.min,
        maximum=setting.spec.max,
    )


def build_evaluate_tab(ctx: UIContext) -> None:
    """The tab's layout and its wiring to its handlers (handlers.py)."""
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
            max_examples, max_new = (
                _limit(SETTINGS[k]) for k in ("max_examples", "max_new_tokens")
            )
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
        # No fixed height: with one, the page cuts the legend (which curve is which) off.
        roc = gr.LinePlot(
            None,
            x="fpr",
            y="tpr",
            color="curve",
            label="ROC curves (tuned), one per label",
            x_title="false positive rate",
            y_title="true positive rate",
            color_title="label (AUC)",
            elem_id="eval-roc",
        )
        # prompt, expected, base output, tuned output, metric, base score, tuned score
        batch = gr.Dataframe(
            batch_frame({}),
            label="Batch comparison",
            interactive=False,
            wrap=True,
            column_widths=["30%", "10%", "19%", "19%", "8%", "7%", "7%"],
            elem_id="eval-batch-table",
        )
        batch_file = hidden_until_file(
            gr.File(
                label="Batch comparison (CSV)",
                interactive=False,
                elem_id="eval-batch-file",
                visible=False,  # until an evaluation has one
            )
        )
        history = gr.Dataframe(
            label="Past evaluations of this model (click a row to show it)",
            interactive=False,
            elem_id="eval-history",
        )
        # Ticks only while this tab is shown (layout.poll_only_shown_tab).
        timer = ctx.polls["evaluate"] = gr.Timer(TICK_S, active=False)
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
            gguf_file = hidden_until_file(
                gr.File(
                    label="GGUF zip (model, Modelfile, card)",
                    interactive=False,
                    elem_id="export-gguf-file",
                    visible=False,  # until an export made one
                )
            )
        with gr.Row():
            adapter_file = hidden_until_file(
                gr.File(
                    label="Adapter zip",
                    interactive=False,
                    elem_id="export-adapter-file",
                    visible=False,
                )
            )
            merged_file = hidden_until_file(
                gr.File(
                    label="Merged model zip",
                    interactive=False,
                    elem_id="export-merged-file",
                    visible=False,
                )
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

    for component, kind in (
        (model, "job"),
        (version, "version"),
        (eval_job, "job"),
        (shown, "job"),
        (history, "job_table"),
        (prompts, "upload"),
        (import_file, "upload"),
    ):
        ctx.carries(component, kind)
    outs = [results_md, per_label, confusion, roc, batch, batch_file]
    # A job that finished while the page was elsewhere appears when the tab is opened.
    lists = bind(ctx, refresh_lists)  # one listener function: one concurrency group
    for trigger in (ctx.app_id.change, ctx.jobs_changed.change, tab.select):
        trigger(lists, [ctx.app_id, model, listed], [model, version, listed])
    model.change(
        bind(ctx, on_model),
        [ctx.app_id, model],
        [version, history, metrics, eval_job],
        show_progress_on=[status],
        api_name="on_model",
    )
    run.click(
        bind(ctx, start),
        [ctx.app_id, model, version, prompts, metrics, max_examples, max_new],
        [eval_job, ctx.jobs_changed],
        api_name="evaluate",
    )
    # Showing the tab ticks at once: its timer was paused while the tab was hidden.
    ticked = bind(ctx, tick)
    for trigger in (timer.tick, tab.select):
        trigger(
            ticked,
            [eval_job, shown, status],
            [status, shown],
            show_progress="hidden",
            concurrency_limit=None,
            api_visibility="private",
        )
    shown.change(bind(ctx, show), [shown, ctx.app_id], outs, api_name="show").then(
        bind(ctx, past),
        [ctx.app_id, model],
        [history],
        api_name="past",
    )
    history.select(bind(ctx, pick_history), [history], [eval_job], api_name="pick_history")
    cancel.click(bind(ctx, cancel_eval), [eval_job], None, api_name="cancel_evaluation")
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
