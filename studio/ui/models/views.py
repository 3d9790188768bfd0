"""What the Models tab shows and decides, as plain values: which fields apply to a template
(`form_layout`), field help and the architecture fields, the template card, the dataset
version summary, the saved-models table. The widgets themselves are built in
studio/ui/models/widgets.py.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from studio import jsonsafe
from studio.configs import SETTINGS, detect_hardware
from studio.configs.defaults import template_availability, trained_method, trains_adapter
from studio.configs.tolerance import rejected_share
from studio.templates import TEMPLATES, get_template, templates_for_type
from studio.vocab.models import METHODS, MODEL_TYPES

ELEM_IDS = {"learning_rate": "models-lr"}


def field_help(key: str) -> str:
    """The help under a form field (the settings table's); Precision's says what this machine
    supports."""
    if key == "precision":
        return detect_hardware().precision_note()
    return SETTINGS[key].form_help


SAVED_HEADERS = ["Name", "Version", "Template", "Type", "Dataset version", "Created"]
# The model.architecture keys shown as form fields for a model built from scratch.
ARCH_FORM: tuple[str, ...] = (
    "hidden_size",
    "intermediate_size",
    "num_hidden_layers",
    "num_attention_heads",
    "num_key_value_heads",
    "max_position_embeddings",
)
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
    rejected = int(version.get("n_rejected") or 0)
    # The share the invalid-data tolerance is checked against (one rule, in configs).
    percent, total = rejected_share(
        version.get("n_rows") or 0, rejected, version.get("n_accepted") or 0
    )
    share = f" ({percent:.0f}%)" if total else ""
    parts = [
        f"**{name}:** {total} rows, {version.get('n_accepted', 0)} accepted, "
        f"{rejected} rejected{share}"
    ]
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
    labels = {
        v["id"]: f"{v['dataset_name']} v{v['version']}" for v in store.list_dataset_versions(app_id)
    }
    models = store.list_models(app_id)
    rows = [
        [
            m["name"],
            m["version"],
            title(m["template"]),
            MODEL_TYPES.get(m["model_type"], m["model_type"]),
            labels.get(m["dataset_version_id"], "—"),
            time.strftime("%Y-%m-%d %H:%M", time.localtime(m["created_at"])),
        ]
        for m in models
    ]
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
        note = (
            ""
            if ok
            else (
                " (needs a CUDA GPU)"
                if t.needs_cuda and not hardware.cuda
                else " (weights not on this machine)"
            )
        )
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
    ok, reason = (
        template_availability(t, settings, detect_hardware(), base)
        if base
        else (
            False,
            "Type a Hugging Face model id (owner/name, or a bare name like gpt2) or a local model folder below.",
        )
    )
    mark = "Available" if ok else "Not available yet"
    return (
        f"### {t.title}\n{t.description}\n\n"
        f"- **Base model:** {_base_name(base) if base else '(you choose)'}\n"
        f"- **Type:** {t.type_title}  ·  **Method:** {t.method} ({METHODS[t.method]})\n"
        + "".join(f"- {line}\n" for line in template_facts(t))
        + f"- **This machine:** {detect_hardware().describe()}\n\n**{mark}:** {reason}"
    )


def template_facts(t) -> list[str]:
    """The card's lines on size, licence, memory and the hardware a template fits."""
    lines = []
    if t.params_b:
        size = f"{t.params_b:g}B" if t.params_b >= 1 else f"{t.params_b * 1000:.0f}M"
        access = f", gated: accept it at {t.access_page}" if t.gated else ", not gated"
        lines.append(f"**Size:** {size} parameters  ·  **Licence:** {t.license}{access}")
    if t.memory:
        m = t.memory
        lines.append(
            f"**Memory to fine-tune:** LoRA ≈ {m.lora_gb:g} GB, QLoRA ≈ {m.qlora_gb:g} GB on a "
            f"GPU; LoRA ≈ {m.cpu_gb:g} GB on a CPU (fp32)"
        )
    fits = ", ".join(t.fits) or "—"
    note = f" ({t.hardware_note})" if t.hardware_note else ""
    lines.append(f"**Fits:** {fits}{note}")
    return lines


def model_dict_from_text(text: str) -> dict[str, Any] | None:
    """The model config editor's dict, or None while its JSON is half-typed."""
    try:
        value = jsonsafe.loads(text) if (text or "").strip() else {}
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
