"""A saved model's config: what is stored, and the form read back from it.

A saved model's `config` column holds each setting once, in the six sections of the settings
table (studio.configs.table): {"model": {...}, "quantization": {...}, "peft": {...},
"tokenizer": {...}, "trainer": {...}, "studio": {...}}. The form's values are written into
them when saved and derived from them when shown again (split_config). Saving one is a use
case: studio.actions.save_model.
"""

from __future__ import annotations

import copy
from typing import Any

from studio.configs.defaults import default_hyper
from studio.configs.hyper import apply_hyperparameters, hyperparameters_from_dicts
from studio.configs.table import STORED_SECTIONS
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
