"""The Models form's values ("hyper") and the six stored sections: one derived from the other.

A saved model stores the five library dicts and the studio section (studio.configs.table);
each form field is a view of its key there, so the form and the JSON editors always agree:
`apply_hyperparameters` writes form values into the sections and
`hyperparameters_from_dicts` reads them back (after a JSON edit, or to show a saved model).
"""

from __future__ import annotations

import copy
from typing import Any

from studio.configs.table import FORM, STORED_SECTIONS


def apply_hyperparameters(dicts: dict[str, dict], hyper: dict[str, Any]) -> dict[str, dict]:
    """New sections with the form's values written in (the inputs are not changed).

    Only fields present in `hyper` are written; LoRA fields are skipped when the PEFT dict
    is empty (a full or from-scratch model has no adapter to configure).
    """
    out = copy.deepcopy(dicts)
    for section in STORED_SECTIONS:
        out.setdefault(section, {})
    for field in FORM:
        if field.name not in hyper:
            continue
        if field.adapter_only and not out["peft"]:
            continue
        if field.name == "base_model" and not hyper[field.name]:
            continue  # an empty form box keeps the template's model
        field.store(out[field.section], copy.deepcopy(hyper[field.name]))
    return out


def hyperparameters_from_dicts(dicts: dict[str, dict], hyper: dict[str, Any]) -> dict[str, Any]:
    """`hyper` updated with the values the sections hold (a field whose key a section
    lacks keeps its value in `hyper`)."""
    out = dict(hyper)
    missing = object()
    for field in FORM:
        value = field.load(dicts.get(field.section) or {}, missing)
        if value is not missing:
            out[field.name] = copy.deepcopy(value)
    return out


def parse_target_modules(text: str | list) -> list[str] | str:
    """Form text "q_proj, v_proj" -> ["q_proj", "v_proj"]; "all-linear" stays a string."""
    if isinstance(text, list):
        return [str(x).strip() for x in text if str(x).strip()]
    parts = [p.strip() for p in (text or "").replace("\n", ",").split(",") if p.strip()]
    return parts[0] if parts == ["all-linear"] else parts
