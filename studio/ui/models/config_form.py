"""Plain helpers for editing a model configuration in a form (no Gradio here).

The form shows the fields in `FORM_ORDER` and the six stored sections as JSON text; these
functions convert between what the widgets hold and the `hyper` / `dicts` the validator and
the store use.
"""

from __future__ import annotations

import json
from typing import Any

from studio import jsonsafe
from studio.configs.hyper import parse_target_modules
from studio.configs.table import FORM, FORM_ORDER, HYPER_FIELDS, STORED_SECTIONS
from studio.errors import Problem

# The form's fields (their order is the handlers' input order), labels and the several
# machines section all come from the settings table.
MACHINE_KEYS = tuple(f.name for f in FORM if f.group == "machines")
LABELS = {f.name: f.label for f in FORM}
SECTION_TITLES = {
    "model": "Model config",
    "quantization": "Quantization config (BitsAndBytesConfig)",
    "peft": "PEFT config (LoraConfig)",
    "tokenizer": "Tokenizer config",
    "trainer": "Trainer config (TrainingArguments)",
    "studio": "Studio settings (data split, time budget, processes, packing, ...)",
}


def form_to_hyper(values: list[Any] | tuple[Any, ...]) -> dict[str, Any]:
    """Widget values in FORM_ORDER -> hyper dict."""
    hyper = dict(zip(FORM_ORDER, values, strict=True))
    hyper["target_modules"] = parse_target_modules(hyper["target_modules"] or "")
    hyper["base_model"] = (hyper["base_model"] or "").strip()
    for key, spec in HYPER_FIELDS.items():
        # gr.Number gives floats; whole-number fields stay ints so messages and JSON read well.
        if spec.kind == "int" and isinstance(hyper.get(key), float) and hyper[key].is_integer():
            hyper[key] = int(hyper[key])
    return hyper


def hyper_to_form(hyper: dict[str, Any]) -> list[Any]:
    """hyper dict -> widget values in FORM_ORDER."""
    values = []
    for key in FORM_ORDER:
        value = hyper.get(key)
        if key == "target_modules":
            value = value if isinstance(value, str) else ", ".join(value or [])
        values.append(value)
    return values


def dicts_to_texts(dicts: dict[str, dict]) -> list[str]:
    """The six stored sections as pretty JSON, in STORED_SECTIONS order."""
    return [json.dumps(dicts.get(s) or {}, indent=2) for s in STORED_SECTIONS]


def texts_to_dicts(texts: list[str] | tuple[str, ...]) -> tuple[dict[str, Any], list[Problem]]:
    """(sections, problems) from the six JSON editors; a broken one is reported, not raised."""
    dicts: dict[str, Any] = {}
    problems = []
    for section, text in zip(STORED_SECTIONS, texts, strict=True):
        try:
            dicts[section] = jsonsafe.loads(text) if (text or "").strip() else {}
        except ValueError as exc:  # syntax, nesting, Infinity / NaN: said in words
            problems.append(Problem(section, f"not valid JSON ({exc})"))
            dicts[section] = {}
    return dicts, problems
