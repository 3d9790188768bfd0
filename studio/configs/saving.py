"""Save a model configuration to the store (validated first) and read it back.

A saved model's `config` column holds each setting once, in the six sections of the settings
table (studio.configs.table): {"model": {...}, "quantization": {...}, "peft": {...},
"tokenizer": {...}, "trainer": {...}, "studio": {...}}. The form's values are written into
them when saved and derived from them when shown again (split_config).
"""

from __future__ import annotations

import copy
from typing import Any

from studio.configs.defaults import default_hyper
from studio.configs.hardware import Hardware
from studio.configs.hyper import apply_hyperparameters, hyperparameters_from_dicts
from studio.configs.table import STORED_SECTIONS
from studio.configs.validate import check
from studio.errors import StudioError
from studio.store import Store
from studio.templates import get_template


def model_config(dicts: dict[str, dict], hyper: dict[str, Any]) -> dict[str, Any]:
    """The config stored with a model: the six sections with the form's values written in."""
    return apply_hyperparameters({s: dicts.get(s) or {} for s in STORED_SECTIONS}, hyper)


def split_config(config: dict[str, Any], template_key: str) -> tuple[dict[str, dict], dict]:
    """(sections, form values) of a stored config: the form is derived from the sections,
    over the template's starting values (for a field whose key a section lacks)."""
    sections = {s: copy.deepcopy(config.get(s) or {}) for s in STORED_SECTIONS}
    hyper = hyperparameters_from_dicts(sections, default_hyper(get_template(template_key)))
    return sections, hyper


def save_model(
    store: Store,
    app_id: str,
    name: str,
    template_key: str,
    model_type: str,
    dataset_version_id: str | None,
    hyper: dict[str, Any],
    dicts: dict[str, dict],
    hardware: Hardware | None = None,
    parent_id: str | None = None,
) -> dict:
    """Validate, then create the model row (a new version when the name exists)."""
    if not app_id:
        raise StudioError("Choose or create an app in the Apps tab first.")
    if not (name or "").strip():
        raise StudioError("A model needs a name: type one in the Model name box.")
    if not dataset_version_id:
        raise StudioError(
            "Choose the dataset version to train on (add one in the Inputs tab if the list is empty)."
        )
    if not store.belongs_to_app("dataset_versions", dataset_version_id, app_id):
        raise StudioError(
            "That dataset version is not one of this app's; choose one from the list "
            "(refresh it after adding data in the Inputs tab)."
        )
    template = get_template(template_key)
    check(template, hyper, dicts, hardware, model_type)
    return store.create_model(
        app_id,
        name.strip(),
        template.key,
        model_type,
        dataset_version_id,
        model_config(dicts, hyper),
        parent_id=parent_id or None,
    )
