"""The Models tab's handlers: plain functions of (ctx, *values) that build_models_tab wires
with `bind`, so a test calls them with values and reads the values back, without a page.

Their names are the listeners' names, and with them the API endpoints (/on_clone,
/on_version, /on_template...): renaming one renames its endpoint.
"""

from __future__ import annotations

import gradio as gr

from studio.actions.ownership import server_folder_problem
from studio.actions.save_model import save_model
from studio.configs import detect_hardware, validate
from studio.configs.notes import setting_notes
from studio.configs.saving import split_config
from studio.errors import ConfigError, Problem
from studio.templates import DEFAULT_TEMPLATE, get_template
from studio.ui.common import NO_APP, bump, user_errors
from studio.ui.context import UIContext
from studio.ui.models.config_form import dicts_to_texts, hyper_to_form
from studio.ui.models.problems import (
    VERSION_PROBLEM,
    form_problems,
    mark_fields,
    problems_text,
)
from studio.ui.models.sync import gather
from studio.ui.models.views import (
    ARCH_FORM,
    arch_to_form,
    form_layout,
    model_dict_from_text,
    saved_table,
    template_card,
    template_choices,
    version_summary,
)
from studio.ui.models.widgets import delete_saved_model, template_state


def own(ctx: UIContext, app_id: str) -> str:
    """The app id if the current user may see the app, else "" (nothing to show)."""
    return app_id if ctx.current_app(app_id) else ""


RESET_NOTE_START = "Template changed to "


def reset_note(key: str) -> str:
    """The note shown when a new template (or model type) reset the form."""
    return (
        f"{RESET_NOTE_START}**{get_template(key).title}**: the training settings "
        "and config dicts were reset to its defaults."
    )


def on_layout(ctx: UIContext, key: str, base: str, model_text: str):
    """Which rows the template shows (LoRA row, its note, the PEFT dict, the architecture
    row) and the architecture fields read from the model dict (skipped when it is not JSON)."""
    shown = form_layout(key, base)
    model_dict = model_dict_from_text(model_text)
    values = arch_to_form(model_dict) if model_dict is not None else [gr.skip()] * len(ARCH_FORM)
    return [
        gr.update(visible=shown.adapter),
        gr.update(value=shown.note, visible=not shown.adapter),
        gr.update(visible=shown.adapter),
        gr.update(visible=shown.architecture),
        *values,
    ]


@user_errors
def on_type(ctx: UIContext, kind: str, app_id: str, version_id: str):
    """A new model type: its templates, the default one's form, and a fresh (parentless) form."""
    choices = template_choices(ctx.settings, kind)
    key = DEFAULT_TEMPLATE if kind == "causal" else choices[0][1]
    return [
        gr.update(choices=choices, value=key),
        *template_state(ctx.settings, ctx.store, key, kind, own(ctx, app_id), version_id),
        "",
        key,
        reset_note(key),
    ]


@user_errors
def on_template(ctx: UIContext, key: str, kind: str, app_id: str, version_id: str, before: str):
    """A newly chosen template's form; nothing when the dropdown closed on the same one."""
    if not key or key == before:  # opened and closed without a new choice
        return gr.skip()
    state = template_state(ctx.settings, ctx.store, key, kind, own(ctx, app_id), version_id)
    return [*state, "", key, reset_note(key)]


@user_errors
def on_base(ctx: UIContext, key: str, base: str):
    """The template card for the base model typed in (Custom)."""
    return template_card(ctx.settings, key, (base or "").strip())


def form_problems_of(ctx: UIContext, values: tuple) -> tuple[dict, dict, list[Problem]]:
    """(hyper, dicts, problems) of the form: the JSON editors and the base model a user may
    name (with sign-in on, a folder on the server is for administrators). Validate and Save
    both start here, so they never disagree on these."""
    hyper, dicts, bad = gather(values)
    if why := server_folder_problem(ctx.caller(), hyper.get("base_model")):
        bad = [*bad, Problem("model.base_model", why)]
    return hyper, dicts, bad


@user_errors
def on_validate(ctx: UIContext, key, kind, model_name, *values):
    """Every problem of the form at once, and the fields to mark."""
    hyper, dicts, bad = form_problems_of(ctx, values)
    found = bad + validate(get_template(key), hyper, dicts, None, kind, ctx.settings)
    lines, marked = form_problems(found, model_name)
    notes = [] if lines else setting_notes(dicts, detect_hardware())
    return problems_text(lines) + "".join(f"\n\n*Note:* {n}" for n in notes), marked


def on_validate_and_mark(ctx: UIContext, shown_marks, key, kind, model_name, *values):
    """Validate's one answer: the problems, the fields they name, and the marks that change
    on the page (one event, not a second one to mark: each event costs the page work in
    proportion to everything it has shown)."""
    text, flagged = on_validate(ctx, key, kind, model_name, *values)
    return text, flagged, *mark_fields(flagged, shown_marks)


def saved_rows(ctx: UIContext, app_id: str):
    """The Saved models table and the picker (newest chosen) of the app."""
    if not ctx.current_app(app_id):
        return [], gr.update(choices=[], value=None)
    rows, choices = saved_table(ctx.store, app_id)
    return rows, gr.update(choices=choices, value=choices[0][1] if choices else None)


@user_errors
def on_save(ctx: UIContext, app_id, kind, key, version_id, model_name, parent_id, *values):
    """Save the form as a model (a new version under the same name), or list its problems."""
    if not ctx.current_app(app_id):
        raise gr.Error(NO_APP)
    model_name = model_name or ""  # an API call may send none: "no name", not "unchecked"
    hyper, dicts, bad = form_problems_of(ctx, values)
    # Missing name or version: listed with the settings' problems, not as an error.
    found = bad + ([] if version_id else [VERSION_PROBLEM])
    if not bad and (found or not (model_name or "").strip()):
        found += validate(get_template(key), hyper, dicts, None, kind, ctx.settings)
    elif not bad:
        try:
            model = save_model(
                ctx.store,
                ctx.settings,
                ctx.caller(),
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
        return problems_text(lines), *saved_rows(ctx, app_id), gr.skip(), parent_id, marked
    note = f"Saved **{model['name']} v{model['version']}**."
    return note, *saved_rows(ctx, app_id), bump(), "", []


@user_errors
def on_delete(ctx: UIContext, app_id: str, model_id: str, confirmed: bool, parent_id: str):
    """Delete the picked saved model (after the confirm box) with its jobs' run folders."""
    if not ctx.current_app(app_id):
        raise gr.Error(NO_APP)
    row = delete_saved_model(ctx.store, ctx.caller(), app_id, model_id, bool(confirmed))
    runs = row["runs_removed"]
    note = f"Deleted **{row['name']} v{row['version']}**" + (
        f" and the run folders of its {runs} job(s)." if runs else "."
    )
    # A form cloned from the deleted model saves as a fresh model, not a child of it.
    parent_id = "" if parent_id == model_id else parent_id
    return note, *saved_rows(ctx, app_id), bump(), False, parent_id


@user_errors
def on_clone(ctx: UIContext, model_id: str):
    """A saved model's settings into the form; saving it again makes its next version."""
    if not model_id:
        raise gr.Error("Choose a saved model to clone first.")
    row = ctx.model(model_id)
    dicts, hyper = split_config(row["config"], row["template"])
    t = get_template(row["template"])
    base = gr.update(
        value=hyper["base_model"], interactive=not t.base_model, visible=not t.base_model
    )
    return [
        row["model_type"],
        gr.update(choices=template_choices(ctx.settings, row["model_type"]), value=t.key),
        template_card(ctx.settings, t.key, hyper["base_model"]),
        base,
        *hyper_to_form(hyper)[1:],
        *dicts_to_texts(dicts),
        row["dataset_version_id"],
        row["name"],
        row["id"],
        f"Loaded **{row['name']} v{row['version']}**: edit and save (same name = new version).",
        t.key,
    ]


def on_version_summary(ctx: UIContext, app_id: str, version_id: str) -> str:
    """The summary line of the chosen dataset version ("" for none)."""
    row = ctx.store.app_version(own(ctx, app_id), version_id)
    return version_summary(row) if row else ""


@user_errors
def on_version(ctx: UIContext, app_id: str, version_id: str):
    """Summary of the picked version, and its validation share into the form."""
    row = ctx.store.app_version(own(ctx, app_id), version_id)
    if row is None:
        return "", gr.skip()
    return version_summary(row), float(row["valid_pct"])


def versions(ctx: UIContext, app_id: str):
    """The app's dataset versions (newest chosen), its summary and validation share."""
    if not ctx.current_app(app_id):
        return gr.update(choices=[], value=None), "", gr.skip()
    rows = ctx.store.list_dataset_versions(app_id)
    choices = [
        (f"{v['dataset_name']} v{v['version']} ({v['n_accepted']} rows)", v["id"]) for v in rows
    ]
    if not rows:
        return gr.update(choices=[], value=None), "", gr.skip()
    newest = rows[0]
    return (
        gr.update(choices=choices, value=newest["id"]),
        version_summary(newest),
        float(newest["valid_pct"]),
    )
