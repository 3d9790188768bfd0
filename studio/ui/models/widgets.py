"""The Models tab's widgets (built from the hyperparameters' field specs), deleting a saved
model, and the form's state for a freshly chosen template. What the tab shows and decides as
plain values lives in studio/ui/models/views.py.
"""

from __future__ import annotations

import gradio as gr

from studio.actions.ownership import Caller, owned_model
from studio.configs import HYPER_FIELDS
from studio.configs.defaults import default_dicts, default_hyper
from studio.configs.schemas import ARCHITECTURE
from studio.errors import StudioError
from studio.templates import get_template
from studio.ui.models.config_form import LABELS, dicts_to_texts, hyper_to_form
from studio.ui.models.views import ARCH_LABELS, ELEM_IDS, field_help, template_card


def build_widget(key: str, value, **extra) -> gr.components.Component:
    """A form widget built from the hyperparameter's FieldSpec."""
    spec = HYPER_FIELDS[key]
    common = dict(
        value=value,
        label=LABELS[key],
        info=field_help(key),
        **extra,
        elem_id=ELEM_IDS.get(key, "models-" + key.replace("_", "-")),
    )
    if spec.kind == "bool":
        return gr.Checkbox(**common)
    if spec.kind == "choice":
        return gr.Dropdown(choices=list(spec.choices), **common)
    if spec.kind in ("int", "float"):
        # No minimum/maximum here: validate() reports every out-of-range value at once.
        return gr.Number(precision=0 if spec.kind == "int" else None, **common)
    return gr.Textbox(**common)


def build_arch_widget(key: str, value) -> gr.Number:
    """A whole-number field for one model.architecture key."""
    return gr.Number(
        value=value,
        precision=0,
        label=ARCH_LABELS[key],
        info=ARCHITECTURE[key].help,
        elem_id="models-arch-" + key.replace("_", "-"),
    )


def delete_saved_model(store, caller: Caller, app_id: str, model_id: str, confirmed: bool) -> dict:
    """Delete one of the app's saved models after the user confirmed; returns its row with
    `runs_removed`, the number of its jobs' run folders deleted along with it."""
    row = owned_model(store, caller, app_id, model_id, "Choose the saved model to delete first.")
    if not confirmed:
        raise StudioError(
            f"Tick 'I understand' to delete {row['name']} v{row['version']} (this cannot be undone)."
        )
    # Refused (JobError, "cancel it in the Train tab") while one of its jobs is queued/running.
    removed = store.delete_model(model_id)
    detail = f"model {row['name']} v{row['version']} ({model_id})"
    store.log_activity(app_id, caller.owner, "deleted", detail)
    return {**row, "runs_removed": removed}


def template_state(
    settings, store, key: str, model_type: str, app_id: str, version_id: str | None
) -> list:
    """Card, base-model box, form values and JSON texts for a freshly chosen template.

    The validation share follows the chosen dataset version, so training does not re-split it.
    """
    t = get_template(key)
    hyper = default_hyper(t)
    if version := store.app_version(app_id, version_id):
        hyper["valid_pct"] = float(version["valid_pct"])
    # A template that fixes its base names it in its card; the box (holding the model's
    # reference, e.g. "packaged:…") is shown only where the user types one (Custom).
    base_box = gr.update(
        value=hyper["base_model"], interactive=not t.base_model, visible=not t.base_model
    )
    form = hyper_to_form(hyper)[1:]  # base_model has its own update above
    return [
        template_card(settings, key),
        base_box,
        *form,
        *dicts_to_texts(default_dicts(t, model_type)),
    ]
