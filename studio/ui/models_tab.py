"""The Models tab: Add Model -> model type -> template -> training settings -> save.

A saved model is a named, versioned configuration (the five config dicts + the form's
values) bound to a dataset version. Saving validates first and shows every problem at once.
Saved models can be cloned into the form or deleted. Nothing heavy is imported when the tab
is built; the first Validate reads the libraries' signatures (a few seconds, once).
Widgets live in models_widgets; the pure decisions (which fields apply, version summary) in
studio/ui/views/models.py.
"""

from __future__ import annotations

import gradio as gr

from studio.configs import SECTIONS, validate
from studio.configs.defaults import default_dicts, default_hyper
from studio.configs.saving import save_model, split_config
from studio.errors import ConfigError
from studio.templates import DEFAULT_TEMPLATE, get_template
from studio.ui.common import NO_APP, bump, user_errors
from studio.ui.context import UIContext
from studio.ui.models_problems import VERSION_PROBLEM, form_problems, mark_fields, problems_text
from studio.ui.models_sync import gather, wire_form_sync
from studio.ui.models_widgets import (
    build_arch_widget,
    build_widget,
    delete_saved_model,
    template_state,
)
from studio.ui.views.config_form import (
    FORM_ORDER,
    MACHINE_KEYS,
    SECTION_TITLES,
    dicts_to_texts,
    hyper_to_form,
)
from studio.ui.views.models import (
    ARCH_FORM,
    SAVED_HEADERS,
    arch_to_form,
    form_layout,
    model_dict_from_text,
    saved_table,
    template_card,
    template_choices,
    version_summary,
)
from studio.vocab.models import MODEL_TYPES

TYPE_CHOICES = [(title, key) for key, title in MODEL_TYPES.items()]
LORA_KEYS = ("lora_r", "lora_alpha", "lora_dropout", "target_modules")
# The form's rows (LoRA keys and the several-machines keys have their own); every other
# FORM_ORDER key but base_model once.
FORM_ROWS = (
    ("epochs", "learning_rate", "lr_scheduler", "warmup_steps"),
    ("batch_size", "grad_accum", "max_length", "max_steps"),
    ("valid_pct", "eval_every", "seed", "precision"),
    ("invalid_tolerance_pct", "response_only", "processes", "time_budget_min"),
)


def build_models_tab(ctx: UIContext) -> None:

    def own(app_id: str) -> str:
        """The app id if the current user may see the app, else "" (nothing to show)."""
        return app_id if ctx.current_app(app_id) else ""

    settings, store = ctx.settings, ctx.store
    with gr.Tab("Models", id="models"):
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
            # Only Custom lets you type a model; the others show their template's model.
            form["base_model"] = build_widget("base_model", start["base_model"], interactive=False)
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
        with gr.Accordion("Several machines (multi-node training)", open=False):
            gr.Markdown(
                "Train on several machines that share the run folder: the Train tab "
                "starts machine 0 and shows the command each other machine runs."
            )
            with gr.Row():
                for key in MACHINE_KEYS:
                    form[key] = build_widget(key, start[key])
        with gr.Accordion(
            "Config dicts (JSON): loading, quantization, PEFT, tokenizer, trainer", open=False
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
                for s, text in zip(SECTIONS, texts, strict=True)
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
        model_code, peft_code = codes[SECTIONS.index("model")], codes[SECTIONS.index("peft")]

        def on_layout(key: str, base: str, model_text: str):
            shown = form_layout(key, base)
            model_dict = model_dict_from_text(model_text)
            values = arch_to_form(model_dict) if model_dict is not None else [gr.skip()] * len(arch)
            return [
                gr.update(visible=shown.adapter),
                gr.update(value=shown.note, visible=not shown.adapter),
                gr.update(visible=shown.adapter),
                gr.update(visible=shown.architecture),
                *values,
            ]

        layout_io = dict(
            fn=on_layout,
            inputs=[template, form["base_model"], model_code],
            outputs=[lora_row, lora_note, peft_code, arch_row, *arch],
            show_progress="hidden",
            queue=False,
        )

        @user_errors
        def on_type(kind: str, app_id: str, version_id: str):
            choices = template_choices(settings, kind)
            key = DEFAULT_TEMPLATE if kind == "causal" else choices[0][1]
            return [
                gr.update(choices=choices, value=key),
                *template_state(settings, store, key, kind, own(app_id), version_id),
                "",
                key,
                _reset_note(key),
            ]

        def _reset_note(key: str) -> str:
            return (
                f"Template changed to **{get_template(key).title}**: the training settings "
                "and config dicts were reset to its defaults."
            )

        @user_errors
        def on_template(key: str, kind: str, app_id: str, version_id: str, before: str):
            if not key or key == before:  # opened and closed without a new choice
                return gr.skip()
            state = template_state(settings, store, key, kind, own(app_id), version_id)
            return [*state, "", key, _reset_note(key)]

        model_type.input(
            on_type,
            [model_type, ctx.app_id, version],
            [template, *template_outputs, parent, shown_template, problems],
            show_progress_on=[card],
        ).then(**layout_io)
        template.input(
            on_template,
            [template, model_type, ctx.app_id, version, shown_template],
            [*template_outputs, parent, shown_template, problems],
            show_progress_on=[card],
        ).then(**layout_io)

        wire_form_sync(fields, codes, arch, model_code)

        @user_errors
        def on_base(key: str, base: str):
            return template_card(settings, key, (base or "").strip())

        form["base_model"].blur(on_base, [template, form["base_model"]], [card]).then(**layout_io)

        flagged = gr.State([])  # the form fields the last Validate / Save named
        marked = gr.State([])  # the form fields the page shows marked
        marking = dict(
            fn=mark_fields,
            inputs=[flagged, marked],
            outputs=[*fields, marked],
            queue=False,
            show_progress="hidden",
        )

        @user_errors
        def on_validate(key, kind, model_name, *values):
            hyper, dicts, bad = gather(values)
            found = bad + validate(get_template(key), hyper, dicts, None, kind, settings)
            lines, marked = form_problems(found, model_name)
            return problems_text(lines), marked

        validate_btn.click(
            on_validate,
            [template, model_type, name, *fields, *codes],
            [problems, flagged],
            show_progress_on=[problems],
        ).then(**marking)

        def saved_rows(app_id: str):
            if not ctx.current_app(app_id):
                return [], gr.update(choices=[], value=None)
            rows, choices = saved_table(store, app_id)
            return rows, gr.update(choices=choices, value=choices[0][1] if choices else None)

        @user_errors
        def on_save(app_id, kind, key, version_id, model_name, parent_id, *values):
            if not ctx.current_app(app_id):
                raise gr.Error(NO_APP)
            hyper, dicts, bad = gather(values)
            ctx.refuse_server_folder(hyper.get("base_model"))
            # Missing name or version: listed with the settings' problems, not as an error.
            found = bad + ([] if version_id else [VERSION_PROBLEM])
            if not bad and (found or not (model_name or "").strip()):
                found += validate(get_template(key), hyper, dicts, None, kind, settings)
            elif not bad:
                try:
                    model = save_model(
                        store,
                        app_id,
                        model_name,
                        key,
                        kind,
                        version_id,
                        hyper,
                        dicts,
                        parent_id=parent_id or None,
                    )
                except ConfigError as exc:  # shown in place, every problem at once
                    found = exc.problems
            lines, marked = form_problems(found, model_name)
            if lines:
                return problems_text(lines), *saved_rows(app_id), gr.skip(), parent_id, marked
            note = f"Saved **{model['name']} v{model['version']}**."
            return note, *saved_rows(app_id), bump(), "", []

        save_btn.click(
            on_save,
            [ctx.app_id, model_type, template, version, name, parent, *fields, *codes],
            [problems, saved, pick, ctx.models_changed, parent, flagged],
            api_name="save_model",
            show_progress_on=[problems],
        ).then(**marking)

        @user_errors
        def on_delete(app_id: str, model_id: str, confirmed: bool, parent_id: str):
            if not ctx.current_app(app_id):
                raise gr.Error(NO_APP)
            row = delete_saved_model(store, app_id, model_id, bool(confirmed))
            runs = row["runs_removed"]
            note = f"Deleted **{row['name']} v{row['version']}**" + (
                f" and the run folders of its {runs} job(s)." if runs else "."
            )
            # A form cloned from the deleted model saves as a fresh model, not a child of it.
            parent_id = "" if parent_id == model_id else parent_id
            return note, *saved_rows(app_id), bump(), False, parent_id

        delete_btn.click(
            on_delete,
            [ctx.app_id, pick, confirm, parent],
            [problems, saved, pick, ctx.models_changed, confirm, parent],
            api_name="delete_model",
            show_progress_on=[problems],
        )

        @user_errors
        def on_clone(model_id: str):
            if not model_id:
                raise gr.Error("Choose a saved model to clone first.")
            row = ctx.model(model_id)
            dicts, hyper = split_config(row["config"])
            t = get_template(row["template"])
            hyper = {**default_hyper(t), **hyper}
            base = gr.update(value=hyper["base_model"], interactive=not t.base_model)
            return [
                row["model_type"],
                gr.update(choices=template_choices(settings, row["model_type"]), value=t.key),
                template_card(settings, t.key, hyper["base_model"]),
                base,
                *hyper_to_form(hyper)[1:],
                *dicts_to_texts(dicts),
                row["dataset_version_id"],
                row["name"],
                row["id"],
                f"Loaded **{row['name']} v{row['version']}**: edit and save (same name = new version).",
                t.key,
            ]

        def on_version_summary(app_id: str, version_id: str) -> str:
            row = store.app_version(own(app_id), version_id)
            return version_summary(row) if row else ""

        clone_btn.click(
            on_clone,
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
        ).then(**layout_io).then(on_version_summary, [ctx.app_id, version], [summary], queue=False)

        @user_errors
        def on_version(app_id: str, version_id: str):
            """Summary of the picked version, and its validation share into the form."""
            row = store.app_version(own(app_id), version_id)
            if row is None:
                return "", gr.skip()
            return version_summary(row), float(row["valid_pct"])

        version.input(
            on_version,
            [ctx.app_id, version],
            [summary, form["valid_pct"]],
            show_progress_on=[summary],
        )

        def versions(app_id: str):
            if not ctx.current_app(app_id):
                return gr.update(choices=[], value=None), "", gr.skip()
            rows = store.list_dataset_versions(app_id)
            choices = [
                (f"{v['dataset_name']} v{v['version']} ({v['n_accepted']} rows)", v["id"])
                for v in rows
            ]
            if not rows:
                return gr.update(choices=[], value=None), "", gr.skip()
            newest = rows[0]
            return (
                gr.update(choices=choices, value=newest["id"]),
                version_summary(newest),
                float(newest["valid_pct"]),
            )

        for trigger in (ctx.app_id, ctx.data_changed):
            trigger.change(versions, [ctx.app_id], [version, summary, form["valid_pct"]])
        for trigger in (ctx.app_id, ctx.models_changed):
            trigger.change(saved_rows, [ctx.app_id], [saved, pick])
