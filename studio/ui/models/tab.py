"""The Models tab: Add Model -> model type -> template -> training settings -> save.

A saved model is a named, versioned configuration (the five config dicts and the studio
section; the form shows a view of them) bound to a dataset version. Saving validates first and shows every problem at once.
Saved models can be cloned into the form or deleted. Nothing heavy is imported when the tab
is built; the first Validate reads the libraries' signatures (a few seconds, once).
Widgets live in widgets.py, the handlers in handlers.py; the pure decisions (which fields
apply, version summary) in views.py, all in studio/ui/models/.
"""

from __future__ import annotations

import gradio as gr

from studio.configs import STORED_SECTIONS
from studio.configs.defaults import default_dicts, default_hyper
from studio.configs.table import FORM
from studio.templates import DEFAULT_TEMPLATE, get_template
from studio.ui.common import bind
from studio.ui.context import UIContext
from studio.ui.models import handlers as h
from studio.ui.models.config_form import (
    FORM_ORDER,
    MACHINE_KEYS,
    SECTION_TITLES,
    dicts_to_texts,
    hyper_to_form,
)
from studio.ui.models.download import build_download_row, wire_download_row
from studio.ui.models.eval_cost import EVAL_COST_KEYS, on_eval_cost
from studio.ui.models.problems import mark_fields
from studio.ui.models.sync import wire_form_sync
from studio.ui.models.views import (
    ARCH_FORM,
    SAVED_HEADERS,
    form_layout,
    template_card,
    template_choices,
)
from studio.ui.models.widgets import build_arch_widget, build_widget
from studio.vocab.models import MODEL_TYPES

TYPE_CHOICES = [(title, key) for key, title in MODEL_TYPES.items()]
# The form's layout comes from the settings table: its main rows, the LoRA row, and the
# several-machines section (base_model has a place of its own).
LORA_KEYS = tuple(f.name for f in FORM if f.group == "lora")
FORM_ROWS = tuple(
    tuple(f.name for f in FORM if f.group == "main" and f.row == row)
    for row in sorted({f.row for f in FORM if f.group == "main"})
)


def build_models_tab(ctx: UIContext) -> None:
    """The Models tab: its layout, and its events wired to its handlers (handlers.py)."""
    settings = ctx.settings
    with gr.Tab("Models", id="models") as tab:
        gr.Markdown(
            "## Models\nAdd a model: pick a model type and a template, adjust the "
            "training settings, bind a dataset version and save."
        )
        with gr.Row():
            model_type = gr.Radio(
                TYPE_CHOICES, value="causal", label="Model type", elem_id="models-type"
            )
            template = gr.Dropdown(
                template_choices(settings, "causal"),
                value=DEFAULT_TEMPLATE,
                label="Template",
                elem_id="models-template",
            )
        card = gr.Markdown(template_card(settings, DEFAULT_TEMPLATE), elem_id="models-card")
        download = build_download_row()
        with gr.Row():
            # Custom values allowed: choices change per app; save_model checks the version.
            version = gr.Dropdown(
                [], label="Dataset version", elem_id="models-dataset", allow_custom_value=True
            )
            name = gr.Textbox(
                label="Model name", placeholder="e.g. support-bot", elem_id="models-name"
            )
        summary = gr.Markdown(elem_id="models-version-summary")
        default = get_template(DEFAULT_TEMPLATE)
        start = dict(zip(FORM_ORDER, hyper_to_form(default_hyper(default)), strict=True))
        layout = form_layout(DEFAULT_TEMPLATE)
        form: dict[str, gr.components.Component] = {}
        with gr.Accordion("Training settings", open=True):
            # Only Custom lets you type a model (and shows the box); the others name their
            # template's model in the card above.
            form["base_model"] = build_widget(
                "base_model", start["base_model"], interactive=False, visible=False
            )
            for row in FORM_ROWS:
                with gr.Row():
                    for key in row:
                        form[key] = build_widget(key, start[key])
            with gr.Row(visible=layout.adapter) as lora_row:
                for key in LORA_KEYS:
                    form[key] = build_widget(key, start[key])
            lora_note = gr.Markdown(
                layout.note, visible=not layout.adapter, elem_id="models-lora-note"
            )
            with gr.Row(visible=layout.architecture) as arch_row:
                arch = [build_arch_widget(k, None) for k in ARCH_FORM]
            eval_cost = gr.Markdown(elem_id="models-eval-cost")
        with gr.Accordion("Several machines (multi-node training)", open=False):
            gr.Markdown(
                "Train on several machines that share the run folder: the Train tab "
                "starts machine 0 and shows the command each other machine runs."
            )
            with gr.Row():
                for key in MACHINE_KEYS:
                    form[key] = build_widget(key, start[key])
        with gr.Accordion(
            "Config dicts (JSON): loading, quantization, PEFT, tokenizer, trainer, studio",
            open=False,
        ):
            texts = dicts_to_texts(default_dicts(default))
            codes = [
                gr.Code(
                    text,
                    language="json",
                    label=SECTION_TITLES[s],
                    lines=6,
                    max_lines=30,
                    elem_id=f"models-json-{s}",
                    visible=layout.adapter or s != "peft",
                )
                for s, text in zip(STORED_SECTIONS, texts, strict=True)
            ]
        with gr.Row():
            validate_btn = gr.Button("Validate", elem_id="models-validate")
            save_btn = gr.Button("Save model", variant="primary", elem_id="models-save")
        problems = gr.Markdown(elem_id="models-problems")
        parent = gr.State("")
        # The template the form was last filled from: a dropdown that opens and closes without
        # a new choice still fires .input, and must not put the user's settings back.
        shown_template = gr.State(DEFAULT_TEMPLATE)
        gr.Markdown("### Saved models")
        saved = gr.Dataframe(headers=SAVED_HEADERS, interactive=False, elem_id="models-saved")
        with gr.Row():
            pick = gr.Dropdown(
                [], label="Saved model", elem_id="models-pick", allow_custom_value=True
            )
            clone_btn = gr.Button("Clone into the form", elem_id="models-clone")
        with gr.Row():
            confirm = gr.Checkbox(
                False,
                elem_id="models-delete-confirm",
                label="I understand: deleting removes the saved model and the "
                "records of its jobs and evaluations",
            )
            delete_btn = gr.Button("Delete model", variant="stop", elem_id="models-delete")

        fields = [form[k] for k in FORM_ORDER]
        template_outputs = [card, *fields, *codes]
        model_code = codes[STORED_SECTIONS.index("model")]
        peft_code = codes[STORED_SECTIONS.index("peft")]

        for component, kind in ((version, "version"), (pick, "model"), (parent, "model")):
            ctx.carries(component, kind)
        layout_io = dict(
            fn=bind(ctx, h.on_layout),
            inputs=[template, form["base_model"], model_code],
            outputs=[lora_row, lora_note, peft_code, arch_row, *arch],
            show_progress="hidden",
            queue=False,
            api_name="on_layout",
        )
        model_type.input(
            bind(ctx, h.on_type),
            [model_type, ctx.app_id, version],
            [template, *template_outputs, parent, shown_template, problems],
            show_progress_on=[card],
            api_name="on_type",
        ).then(**layout_io)
        template.input(
            bind(ctx, h.on_template),
            [template, model_type, ctx.app_id, version, shown_template],
            [*template_outputs, parent, shown_template, problems],
            show_progress_on=[card],
            api_name="on_template",
        ).then(**layout_io)

        wire_form_sync(fields, codes, arch, model_code)
        # The reset note describes the form as the template left it: the user's first edit
        # makes it stale, so it goes then (in the page, without a call to the server).
        gr.on(
            [c.input for c in [*fields, *codes, *arch]],
            None,
            [problems],
            [problems],
            js=f"(note) => (note || '').startsWith({h.RESET_NOTE_START!r}) ? '' : note",
            show_progress="hidden",
        )

        wire_download_row(ctx, download, template, form["base_model"], card)

        form["base_model"].blur(
            bind(ctx, h.on_base), [template, form["base_model"]], [card], api_name="on_base"
        ).then(**layout_io)

        flagged = gr.State([])  # the form fields the last Validate / Save named
        marked = gr.State([])  # the form fields the page shows marked
        marking = dict(
            fn=mark_fields,
            inputs=[flagged, marked],
            outputs=[*fields, marked],
            queue=False,
            show_progress="hidden",
            api_name="mark_fields",
        )
        # Outside the queue: the queue's round trip was half of Validate's time on a busy
        # machine. A repeated check is answered from a memo in about 2 ms; a new setting
        # builds once (on the meta device, 0.5-1 s) in a worker thread (the memo is
        # thread-safe).
        validate_btn.click(
            bind(ctx, h.on_validate_and_mark),
            [marked, template, model_type, name, *fields, *codes],
            [problems, flagged, *fields, marked],
            show_progress_on=[problems],
            queue=False,
            api_name="on_validate_and_mark",
        )
        save_btn.click(
            bind(ctx, h.on_save),
            [ctx.app_id, model_type, template, version, name, parent, *fields, *codes],
            [problems, saved, pick, ctx.models_changed, parent, flagged],
            api_name="save_model",
            show_progress_on=[problems],
        ).then(**marking)
        delete_btn.click(
            bind(ctx, h.on_delete),
            [ctx.app_id, pick, confirm, parent],
            [problems, saved, pick, ctx.models_changed, confirm, parent],
            api_name="delete_model",
            show_progress_on=[problems],
        )
        clone_btn.click(
            bind(ctx, h.on_clone),
            [pick],
            [
                model_type,
                template,
                *template_outputs,
                version,
                name,
                parent,
                problems,
                shown_template,
            ],
            show_progress_on=[problems],
            api_name="on_clone",
        ).then(**layout_io).then(
            bind(ctx, h.on_version_summary),
            [ctx.app_id, version],
            [summary],
            queue=False,
            api_name="on_version_summary",
        )
        version.input(
            bind(ctx, h.on_version),
            [ctx.app_id, version],
            [summary, form["valid_pct"]],
            show_progress_on=[summary],
            api_name="on_version",
        )

        # What the evaluations will cost, again whenever a setting it depends on changes (a
        # template fills every field at once: one event, its last trigger answered) and when
        # the tab is shown (a run that ended meanwhile measured the rate).
        trainer_code = codes[STORED_SECTIONS.index("trainer")]
        gr.on(
            [tab.select]
            + [w.change for w in (version, trainer_code, *(form[k] for k in EVAL_COST_KEYS))],
            bind(ctx, on_eval_cost),
            [ctx.app_id, version, trainer_code, *fields],
            [eval_cost],
            queue=False,
            show_progress="hidden",
            trigger_mode="always_last",
            api_name="on_eval_cost",
        )

        # One bound handler per function, so its calls share one concurrency group (in order).
        versions, saved_rows = bind(ctx, h.versions), bind(ctx, h.saved_rows)
        for trigger in (ctx.app_id, ctx.data_changed):
            trigger.change(
                versions, [ctx.app_id], [version, summary, form["valid_pct"]], api_name="versions"
            )
        for trigger in (ctx.app_id, ctx.models_changed):
            trigger.change(saved_rows, [ctx.app_id], [saved, pick], api_name="saved_rows")
