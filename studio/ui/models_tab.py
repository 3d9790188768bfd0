"""The Models tab: Add Model -> model type -> template -> training settings -> save.

A saved model is a named, versioned configuration (the five config dicts + the form's
values) bound to a dataset version. Saving validates first and shows every problem at once.
Nothing heavy is imported when the tab is built; the first Validate reads the libraries'
signatures (a few seconds, once).
"""

from __future__ import annotations

import time

import gradio as gr

from studio.configs import HYPER_FIELDS, SECTIONS, detect_hardware, validate
from studio.configs.form import (
    FORM_ORDER,
    LABELS,
    SECTION_TITLES,
    dicts_to_texts,
    form_to_hyper,
    hyper_to_form,
    texts_to_dicts,
)
from studio.configs.hyper import apply_hyperparameters, hyperparameters_from_dicts
from studio.configs.saving import save_model, split_config
from studio.errors import ConfigError
from studio.templates import (
    DEFAULT_TEMPLATE,
    METHODS,
    MODEL_TYPES,
    TEMPLATES,
    get_template,
    templates_for_type,
)
from studio.ui.common import NO_APP, bump, user_errors
from studio.ui.context import UIContext

TYPE_CHOICES = [(title, key) for key, title in MODEL_TYPES.items()]
ELEM_IDS = {"learning_rate": "models-lr"}
SAVED_HEADERS = ["Name", "Version", "Template", "Type", "Dataset version", "Created"]


def _widget(key: str, value, **extra) -> gr.components.Component:
    """A form widget built from the field's FieldSpec."""
    spec = HYPER_FIELDS[key]
    common = dict(value=value, label=LABELS[key], info=spec.help, **extra,
                  elem_id=ELEM_IDS.get(key, "models-" + key.replace("_", "-")))  # fmt: skip
    if spec.kind == "bool":
        return gr.Checkbox(**common)
    if spec.kind == "choice":
        return gr.Dropdown(choices=list(spec.choices), **common)
    if spec.kind in ("int", "float"):
        # No minimum/maximum here: validate() reports every out-of-range value at once.
        return gr.Number(precision=0 if spec.kind == "int" else None, **common)
    return gr.Textbox(**common)


def _template_choices(settings, model_type: str) -> list[tuple[str, str]]:
    hardware = detect_hardware()
    choices = []
    for t in templates_for_type(model_type):
        ok, _ = t.availability(settings, hardware) if t.base_model else (True, "")
        note = "" if ok else (" (needs a CUDA GPU)" if t.needs_cuda and not hardware.cuda
                              else " (weights not on this machine)")  # fmt: skip
        choices.append((t.title + note, t.key))
    return choices


def _card(settings, key: str, base_model: str = "") -> str:
    t = get_template(key)
    base = base_model or t.base_model
    ok, reason = t.availability(settings, detect_hardware(), base_model=base) if base else (
        False, "Type a Hugging Face model id (owner/name) or a local model folder below.")  # fmt: skip
    mark = "Available" if ok else "Not available yet"
    return (
        f"### {t.title}\n{t.description}\n\n"
        f"- **Base model:** `{base or '(you choose)'}`\n"
        f"- **Type:** {t.type_title}  ·  **Method:** {t.method} ({METHODS[t.method]})\n"
        f"- **Hardware:** {t.memory_note}; this machine: {detect_hardware().describe()}\n\n"
        f"**{mark}:** {reason}"
    )


def _template_state(settings, key: str, model_type: str) -> list:
    """Card, base-model box, form values and JSON texts for a freshly chosen template."""
    t = get_template(key)
    hyper = t.default_hyper()
    base_box = gr.update(value=hyper["base_model"], interactive=not t.base_model)
    form = hyper_to_form(hyper)[1:]  # base_model has its own update above
    return [_card(settings, key), base_box, *form, *dicts_to_texts(t.default_dicts(model_type))]


def _title(key: str) -> str:
    return TEMPLATES[key].title if key in TEMPLATES else key


def _problems_md(problems: list[str]) -> str:
    if not problems:
        return "No problems: these settings can be saved."
    return f"**{len(problems)} problem(s):**\n" + "\n".join(f"- {p}" for p in problems)


def _gather(values: tuple) -> tuple[dict, dict, list[str]]:
    """(hyper, dicts, json problems) from the form values + the five JSON texts.

    The form wins for the keys it maps (apply_hyperparameters writes it over the dicts); the
    two stay in step anyway because each edit of one rewrites the other at once.
    """
    n = len(FORM_ORDER)
    dicts, problems = texts_to_dicts(list(values[n : n + len(SECTIONS)]))
    return form_to_hyper(values[:n]), dicts, problems


def build_models_tab(ctx: UIContext) -> None:
    settings, store = ctx.settings, ctx.store
    with gr.Tab("Models", id="models"):
        gr.Markdown("## Models\nAdd a model: pick a model type and a template, adjust the "
                    "training settings, bind a dataset version and save.")  # fmt: skip
        with gr.Row():
            model_type = gr.Radio(TYPE_CHOICES, value="causal", label="Model type",
                                  elem_id="models-type")  # fmt: skip
            template = gr.Dropdown(_template_choices(settings, "causal"), value=DEFAULT_TEMPLATE,
                                   label="Template", elem_id="models-template")  # fmt: skip
        card = gr.Markdown(_card(settings, DEFAULT_TEMPLATE), elem_id="models-card")
        with gr.Row():
            # Custom values allowed: choices change per app; save_model checks the version.
            version = gr.Dropdown([], label="Dataset version", elem_id="models-dataset",
                                  allow_custom_value=True)  # fmt: skip
            name = gr.Textbox(label="Model name", placeholder="e.g. support-bot",
                              elem_id="models-name")  # fmt: skip
        start = dict(zip(FORM_ORDER, hyper_to_form(get_template(DEFAULT_TEMPLATE).default_hyper()),
                         strict=True))  # fmt: skip
        form: dict[str, gr.components.Component] = {}
        with gr.Accordion("Training settings", open=True):
            # Only Custom lets you type a model; the others show their template's model.
            form["base_model"] = _widget("base_model", start["base_model"], interactive=False)
            for row in (FORM_ORDER[1:5], FORM_ORDER[5:9], FORM_ORDER[9:13], FORM_ORDER[13:]):
                with gr.Row():
                    for key in row:
                        form[key] = _widget(key, start[key])
        with gr.Accordion("Config dicts (JSON): loading, quantization, PEFT, tokenizer, trainer",
                          open=False):  # fmt: skip
            texts = dicts_to_texts(get_template(DEFAULT_TEMPLATE).default_dicts())
            codes = [gr.Code(text, language="json", label=SECTION_TITLES[s], lines=6,
                             max_lines=30, elem_id=f"models-json-{s}")
                     for s, text in zip(SECTIONS, texts, strict=True)]  # fmt: skip
        with gr.Row():
            validate_btn = gr.Button("Validate", elem_id="models-validate")
            save_btn = gr.Button("Save model", variant="primary", elem_id="models-save")
        problems = gr.Markdown(elem_id="models-problems")
        parent = gr.State("")
        gr.Markdown("### Saved models")
        saved = gr.Dataframe(headers=SAVED_HEADERS, interactive=False, elem_id="models-saved")
        with gr.Row():
            pick = gr.Dropdown([], label="Saved model", elem_id="models-pick",
                               allow_custom_value=True)  # fmt: skip
            clone_btn = gr.Button("Clone into the form", elem_id="models-clone")

        fields = [form[k] for k in FORM_ORDER]
        template_outputs = [card, *fields, *codes]

        @user_errors
        def on_type(kind: str):
            choices = _template_choices(settings, kind)
            key = DEFAULT_TEMPLATE if kind == "causal" else choices[0][1]
            return [
                gr.update(choices=choices, value=key),
                *_template_state(settings, key, kind),
                "",
            ]

        @user_errors
        def on_template(key: str, kind: str):
            return [*_template_state(settings, key, kind), ""]

        model_type.input(on_type, [model_type], [template, *template_outputs, parent])
        template.input(on_template, [template, model_type], [*template_outputs, parent])

        def form_to_json(*values):
            n = len(FORM_ORDER)
            dicts, bad = texts_to_dicts(list(values[n:]))
            if bad:  # keep the user's half-typed JSON; Validate will point at it
                return [gr.skip()] * len(SECTIONS)
            return dicts_to_texts(apply_hyperparameters(dicts, form_to_hyper(values[:n])))

        def json_to_form(*values):
            hyper, dicts, bad = _gather(values)
            if bad:  # half-typed JSON: leave the form as it is
                return [gr.skip()] * len(fields)
            return hyper_to_form(hyperparameters_from_dicts(dicts, hyper))

        gr.on([f.input for f in fields], form_to_json, [*fields, *codes], codes,
              show_progress="hidden", queue=False)  # fmt: skip
        gr.on([c.input for c in codes], json_to_form, [*fields, *codes], fields,
              show_progress="hidden", queue=False)  # fmt: skip

        @user_errors
        def on_base(key: str, base: str):
            return _card(settings, key, (base or "").strip())

        form["base_model"].blur(on_base, [template, form["base_model"]], [card])

        @user_errors
        def on_validate(key, kind, *values):
            hyper, dicts, bad = _gather(values)
            return _problems_md(bad + validate(get_template(key), hyper, dicts, None, kind))

        validate_btn.click(on_validate, [template, model_type, *fields, *codes], [problems])

        def saved_rows(app_id: str):
            if not ctx.current_app(app_id):
                return [], gr.update(choices=[], value=None)
            labels = {v["id"]: f"{v['dataset_name']} v{v['version']}"
                      for v in store.list_dataset_versions(app_id)}  # fmt: skip
            models = store.list_models(app_id)
            rows = [[m["name"], m["version"], _title(m["template"]),
                     MODEL_TYPES.get(m["model_type"], m["model_type"]),
                     labels.get(m["dataset_version_id"], "—"),
                     time.strftime("%Y-%m-%d %H:%M", time.localtime(m["created_at"]))]
                    for m in models]  # fmt: skip
            choices = [(f"{m['name']} v{m['version']}", m["id"]) for m in models]
            return rows, gr.update(choices=choices, value=choices[0][1] if choices else None)

        @user_errors
        def on_save(app_id, kind, key, version_id, model_name, parent_id, *values):
            if not ctx.current_app(app_id):
                raise gr.Error(NO_APP)
            hyper, dicts, bad = _gather(values)
            if bad:
                return _problems_md(bad), *saved_rows(app_id), gr.skip(), parent_id
            try:
                model = save_model(store, app_id, model_name, key, kind, version_id, hyper, dicts,
                                   parent_id=parent_id or None)  # fmt: skip
            except ConfigError as exc:  # shown in place, every problem at once
                return _problems_md(exc.problems), *saved_rows(app_id), gr.skip(), parent_id
            note = f"Saved **{model['name']} v{model['version']}** (id `{model['id']}`)."
            return note, *saved_rows(app_id), bump(), ""

        save_btn.click(
            on_save, [ctx.app_id, model_type, template, version, name, parent, *fields, *codes],
            [problems, saved, pick, ctx.models_changed, parent], api_name="save_model",
        )  # fmt: skip

        @user_errors
        def on_clone(model_id: str):
            if not model_id:
                raise gr.Error("Choose a saved model to clone first.")
            row = store.get_model(model_id)
            dicts, hyper = split_config(row["config"])
            t = get_template(row["template"])
            hyper = {**t.default_hyper(), **hyper}
            base = gr.update(value=hyper["base_model"], interactive=not t.base_model)
            return [
                row["model_type"],
                gr.update(choices=_template_choices(settings, row["model_type"]), value=t.key),
                _card(settings, t.key, hyper["base_model"]), base, *hyper_to_form(hyper)[1:],
                *dicts_to_texts(dicts), row["dataset_version_id"], row["name"], row["id"],
                f"Loaded **{row['name']} v{row['version']}**: edit and save (same name = new version).",
            ]  # fmt: skip

        clone_btn.click(on_clone, [pick], [model_type, template, *template_outputs, version, name,
                                           parent, problems])  # fmt: skip

        def versions(app_id: str):
            if not ctx.current_app(app_id):
                return gr.update(choices=[], value=None)
            rows = store.list_dataset_versions(app_id)
            choices = [(f"{v['dataset_name']} v{v['version']} ({v['n_accepted']} rows)", v["id"])
                       for v in rows]  # fmt: skip
            return gr.update(choices=choices, value=choices[0][1] if choices else None)

        for trigger in (ctx.app_id, ctx.data_changed):
            trigger.change(versions, [ctx.app_id], [version])
        for trigger in (ctx.app_id, ctx.models_changed):
            trigger.change(saved_rows, [ctx.app_id], [saved, pick])
