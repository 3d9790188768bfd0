"""Helpers for the Models tab: widgets, template card, which fields apply, version summary.

The plain functions here (`form_layout`, `version_summary`, `arch_to_form`, `form_to_arch`,
`saved_table`, `app_version`, `delete_saved_model`) hold the tab's decisions so they can be
tested without a browser; the `build_*` helpers create Gradio components and are only called
from `build_models_tab`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import gradio as gr

from studio import jsonsafe
from studio.configs import HYPER_FIELDS, detect_hardware
from studio.configs.defaults import (
    default_dicts,
    default_hyper,
    template_availability,
    trained_method,
    trains_adapter,
)
from studio.configs.form import LABELS, dicts_to_texts, hyper_to_form
from studio.configs.schemas import ARCHITECTURE
from studio.errors import StudioError
from studio.templates import TEMPLATES, get_template, templates_for_type
from studio.vocab.models import METHODS, MODEL_TYPES

ELEM_IDS = {"learning_rate": "models-lr"}
# Help under a field says what the label does not: what the value changes, and typical values.
HELP = {
    "epochs": "passes over the training data; Max steps, when set, stops earlier",
    "learning_rate": "size of each update: 1e-4 to 1e-3 suits LoRA; too high and the loss jumps",
    "lr_scheduler": "how the learning rate changes over the run",
    "warmup_steps": "steps during which the learning rate ramps up from 0",
    "batch_size": "examples per step: more is steadier but needs more memory",
    "grad_accum": "steps added up before each update (a larger batch without the memory)",
    "max_length": "longer examples are cut to this many tokens",
    "max_steps": "0 = run all the epochs; a number stops there, even mid-epoch",
    "lora_r": "adapter size: higher can learn more, and trains a little slower",
    "lora_alpha": "scales the adapter's updates; often twice r",
    "lora_dropout": "share of adapter inputs dropped while training, against overfitting",
    "target_modules": "which layers get an adapter",
    "valid_pct": "rows held out to measure eval loss (set by the dataset version)",
    "seed": "the same seed, data and settings give the same run",
    "precision": "fp32 on a CPU; bf16 or fp16 on a GPU",
    "invalid_tolerance_pct": "the job stops when more rows than this are rejected",
    "response_only": "off: the model also learns to write the prompt",
    "eval_every": "on the validation split; 0 = five times per run",
}
SAVED_HEADERS = ["Name", "Version", "Template", "Type", "Dataset version", "Created"]
# The model.architecture keys shown as form fields for a model built from scratch.
ARCH_FORM: tuple[str, ...] = (
    "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
    "num_key_value_heads", "max_position_embeddings",
)  # fmt: skip
ARCH_LABELS = {
    "hidden_size": "Hidden size",
    "intermediate_size": "MLP size",
    "num_hidden_layers": "Layers",
    "num_attention_heads": "Attention heads",
    "num_key_value_heads": "Key/value heads",
    "max_position_embeddings": "Longest sequence (positions)",
}


@dataclass(frozen=True)
class FormLayout:
    """Which parts of the form apply to a template + base model."""

    method: str  # "lora" | "qlora" | "scratch" | "full"
    adapter: bool  # LoRA fields and the PEFT editor apply
    architecture: bool  # the from-scratch architecture fields apply
    note: str  # shown in place of the LoRA fields when they do not apply


def form_layout(template_key: str, base_model: str = "") -> FormLayout:
    """Decide which fields to show: no LoRA/PEFT for scratch or full training."""
    template = get_template(template_key)
    base = (base_model or "").strip() or template.base_model
    # A scratch:... ref typed into Custom builds a new model too.
    method = trained_method(template.method, base)
    adapter = trains_adapter(method)
    note = ""
    if not adapter:
        note = (
            f"**{template.title}** trains {METHODS[method]}: there is no LoRA adapter, so the "
            "LoRA settings and the PEFT config do not apply."
        )
    return FormLayout(method, adapter, method == "scratch", note)


def arch_to_form(model_dict: dict[str, Any]) -> list[Any]:
    """The architecture fields' values (in ARCH_FORM order) from the model config dict."""
    arch = model_dict.get("architecture") if isinstance(model_dict, dict) else None
    arch = arch if isinstance(arch, dict) else {}
    return [arch.get(key) for key in ARCH_FORM]


def form_to_arch(model_dict: dict[str, Any], values: list[Any]) -> dict[str, Any]:
    """A new model dict with the architecture fields written into model.architecture."""
    out = dict(model_dict)
    arch = dict(out.get("architecture") or {})
    for key, value in zip(ARCH_FORM, values, strict=True):
        if value is None:
            arch.pop(key, None)  # an emptied box means "the studio's default"
        else:
            arch[key] = int(value) if isinstance(value, float) and value.is_integer() else value
    out["architecture"] = arch
    return out


def version_summary(version: dict[str, Any], dataset_name: str = "") -> str:
    """One line about a dataset version: rows accepted/rejected, task, labels, split."""
    stats = version.get("stats") or {}
    name = f"{dataset_name or version.get('dataset_name') or 'dataset'} v{version['version']}"
    total = max(int(version.get("n_rows") or 0),
                int(version.get("n_accepted") or 0) + int(version.get("n_rejected") or 0))  # fmt: skip
    rejected = int(version.get("n_rejected") or 0)
    share = f" ({100.0 * rejected / total:.0f}%)" if total else ""
    parts = [f"**{name}:** {total} rows, {version.get('n_accepted', 0)} accepted, "
             f"{rejected} rejected{share}"]  # fmt: skip
    if version.get("n_duplicates"):
        parts[0] += f", {version['n_duplicates']} duplicates"
    if stats.get("task"):
        parts.append(f"task {stats['task']}")
    labels = stats.get("labels") or []
    if labels:
        shown = ", ".join(str(label) for label in labels[:8])
        parts.append(f"labels {shown}" + (f" (+{len(labels) - 8} more)" if len(labels) > 8 else ""))
    split = f"validation {float(version.get('valid_pct', 0)):g}%"
    if "n_train" in stats and "n_valid" in stats:
        split += f" ({stats['n_train']} train / {stats['n_valid']} valid)"
    parts.append(split)
    return " · ".join(parts)


def saved_table(store, app_id: str) -> tuple[list[list], list[tuple[str, str]]]:
    """(rows for the Saved models table, (label, id) choices for the picker) of an app."""
    labels = {v["id"]: f"{v['dataset_name']} v{v['version']}"
              for v in store.list_dataset_versions(app_id)}  # fmt: skip
    models = store.list_models(app_id)
    rows = [[m["name"], m["version"], title(m["template"]),
             MODEL_TYPES.get(m["model_type"], m["model_type"]),
             labels.get(m["dataset_version_id"], "—"),
             time.strftime("%Y-%m-%d %H:%M", time.localtime(m["created_at"]))]
            for m in models]  # fmt: skip
    return rows, [(f"{m['name']} v{m['version']}", m["id"]) for m in models]


def title(key: str) -> str:
    """A template's title, or the key itself for a template no longer in the registry."""
    return TEMPLATES[key].title if key in TEMPLATES else key


def template_choices(settings, model_type: str) -> list[tuple[str, str]]:
    """(label, key) per template of this type; unavailable ones say why in a few words."""
    hardware = detect_hardware()
    choices = []
    for t in templates_for_type(model_type):
        ok, _ = template_availability(t, settings, hardware) if t.base_model else (True, "")
        note = "" if ok else (" (needs a CUDA GPU)" if t.needs_cuda and not hardware.cuda
                              else " (weights not on this machine)")  # fmt: skip
        choices.append((t.title + note, t.key))
    return choices


def _base_name(ref: str) -> str:
    """A base model as a person names it (the packaged one is not a Hub id to look up)."""
    if ref.startswith("packaged:"):
        return f"{ref.split(':', 1)[1]} (ships with the studio, works offline)"
    return f"`{ref}`"


def template_card(settings, key: str, base_model: str = "") -> str:
    """The Markdown card describing a template and whether it can train here."""
    t = get_template(key)
    base = base_model or t.base_model
    ok, reason = template_availability(t, settings, detect_hardware(), base) if base else (
        False, "Type a Hugging Face model id (owner/name, or a bare name like gpt2) or a local model folder below.")  # fmt: skip
    mark = "Available" if ok else "Not available yet"
    return (
        f"### {t.title}\n{t.description}\n\n"
        f"- **Base model:** {_base_name(base) if base else '(you choose)'}\n"
        f"- **Type:** {t.type_title}  ·  **Method:** {t.method} ({METHODS[t.method]})\n"
        f"- **Hardware:** {t.memory_note}; this machine: {detect_hardware().describe()}\n\n"
        f"**{mark}:** {reason}"
    )


def build_widget(key: str, value, **extra) -> gr.components.Component:
    """A form widget built from the hyperparameter's FieldSpec."""
    spec = HYPER_FIELDS[key]
    common = dict(value=value, label=LABELS[key], info=HELP.get(key, spec.help), **extra,
                  elem_id=ELEM_IDS.get(key, "models-" + key.replace("_", "-")))  # fmt: skip
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
    return gr.Number(value=value, precision=0, label=ARCH_LABELS[key], info=ARCHITECTURE[key].help,
                     elem_id="models-arch-" + key.replace("_", "-"))  # fmt: skip


def model_dict_from_text(text: str) -> dict[str, Any] | None:
    """The model config editor's dict, or None while its JSON is half-typed."""
    try:
        value = jsonsafe.loads(text) if (text or "").strip() else {}
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def app_version(store, app_id: str, version_id: str | None) -> dict | None:
    """The app's dataset version with this id (with dataset_name), or None."""
    if not version_id or not app_id:
        return None
    return next((v for v in store.list_dataset_versions(app_id) if v["id"] == version_id), None)


def delete_saved_model(store, app_id: str, model_id: str, confirmed: bool) -> dict:
    """Delete one of the app's saved models after the user confirmed; returns its row with
    `runs_removed`, the number of its jobs' run folders deleted along with it."""
    if not model_id:
        raise StudioError("Choose the saved model to delete first.")
    row = store.get_model(model_id)
    if row["app_id"] != app_id:
        raise StudioError("That model belongs to another app; choose one from the list.")
    if not confirmed:
        raise StudioError(
            f"Tick 'I understand' to delete {row['name']} v{row['version']} (this cannot be undone)."
        )
    # Refused (JobError, "cancel it in the Train tab") while one of its jobs is queued/running.
    return {**row, "runs_removed": store.delete_model(model_id)}


def template_state(settings, store, key: str, model_type: str, app_id: str,
                    version_id: str | None) -> list:  # fmt: skip
    """Card, base-model box, form values and JSON texts for a freshly chosen template.

    The validation share follows the chosen dataset version, so training does not re-split it.
    """
    t = get_template(key)
    hyper = default_hyper(t)
    if version := app_version(store, app_id, version_id):
        hyper["valid_pct"] = float(version["valid_pct"])
    base_box = gr.update(value=hyper["base_model"], interactive=not t.base_model)
    form = hyper_to_form(hyper)[1:]  # base_model has its own update above
    return [template_card(settings, key), base_box, *form,
            *dicts_to_texts(default_dicts(t, model_type))]  # fmt: skip
