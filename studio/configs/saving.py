"""Save a model configuration to the store (validated first) and read it back.

A saved model's `config` column holds the five dicts plus the form's values:
{"model": {...}, "quantization": {...}, "peft": {...}, "tokenizer": {...}, "trainer": {...},
 "hyper": {...}}. The form's values are already written into the dicts when saved.
"""

from __future__ import annotations

import copy
from typing import Any

from studio.configs.hardware import Hardware
from studio.configs.hyper import apply_hyperparameters
from studio.configs.schemas import SECTIONS
from studio.configs.validate import check
from studio.errors import StudioError
from studio.store import Store
from studio.templates import get_template


def model_config(dicts: dict[str, dict], hyper: dict[str, Any]) -> dict[str, Any]:
    """The config stored with a model: the dicts with the form written in, plus the form."""
    config = apply_hyperparameters({s: dicts.get(s) or {} for s in SECTIONS}, hyper)
    config["hyper"] = copy.deepcopy(hyper)
    return config


def split_config(config: dict[str, Any]) -> tuple[dict[str, dict], dict[str, Any]]:
    """(dicts, hyper) from a stored config."""
    dicts = {s: copy.deepcopy(config.get(s) or {}) for s in SECTIONS}
    return dicts, copy.deepcopy(config.get("hyper") or {})


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
