"""Plain helpers for editing a model configuration in a form (no Gradio here).

The form shows the hyperparameters in `FORM_ORDER` and the five dicts as JSON text; these
functions convert between what the widgets hold and the `hyper` / `dicts` the validator and
the store use.
"""

from __future__ import annotations

import json
from typing import Any

from studio import jsonsafe
from studio.configs.hyper import HYPER_FIELDS, parse_target_modules
from studio.configs.schemas import SECTIONS

FORM_ORDER: tuple[str, ...] = (
    "base_model",
    "epochs",
    "learning_rate",
    "lr_scheduler",
    "warmup_steps",
    "batch_size",
    "grad_accum",
    "max_length",
    "max_steps",
    "lora_r",
    "lora_alpha",
    "lora_dropout",
    "target_modules",
    "valid_pct",
    "seed",
    "precision",
    "invalid_tolerance_pct",
    "response_only",
    "processes",
    "num_machines",
    "machine_rank",
    "main_address",
    "main_port",
    "time_budget_min",
    "eval_every",
)
# Shown in their own "Several machines" section of the form.
MACHINE_KEYS = ("num_machines", "machine_rank", "main_address", "main_port")
LABELS = {
    "base_model": "Base model (Hugging Face id or local folder)",
    "epochs": "Epochs",
    "learning_rate": "Learning rate",
    "lr_scheduler": "Learning-rate schedule",
    "warmup_steps": "Warm-up steps",
    "batch_size": "Batch size",
    "grad_accum": "Gradient accumulation steps",
    "max_length": "Max sequence length (tokens)",
    "max_steps": "Max steps (0 = no limit)",
    "time_budget_min": "Train for at most N minutes (0 = no limit)",
    "lora_r": "LoRA r",
    "lora_alpha": "LoRA alpha",
    "lora_dropout": "LoRA dropout",
    "target_modules": "LoRA target modules (comma separated, or all-linear)",
    "valid_pct": "Validation share (%)",
    "seed": "Seed",
    "precision": "Precision",
    "invalid_tolerance_pct": "Invalid data tolerance (%)",
    "response_only": "Loss on the response only",
    "processes": "Processes / GPUs (per machine)",
    "num_machines": "Machines",
    "machine_rank": "This machine's rank",
    "main_address": "Main machine address (host or IP)",
    "main_port": "Main machine port",
    "eval_every": "Evaluate every N steps",
}
SECTION_TITLES = {
    "model": "Model config",
    "quantization": "Quantization config (BitsAndBytesConfig)",
    "peft": "PEFT config (LoraConfig)",
    "tokenizer": "Tokenizer config",
    "trainer": "Trainer config (TrainingArguments)",
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
    """The five dicts as pretty JSON, in SECTIONS order."""
    return [json.dumps(dicts.get(s) or {}, indent=2) for s in SECTIONS]


def texts_to_dicts(texts: list[str] | tuple[str, ...]) -> tuple[dict[str, Any], list[str]]:
    """(dicts, problems) from the five JSON editors; a broken one is reported, not raised."""
    dicts: dict[str, Any] = {}
    problems = []
    for section, text in zip(SECTIONS, texts, strict=True):
        try:
            dicts[section] = jsonsafe.loads(text) if (text or "").strip() else {}
        except ValueError as exc:  # syntax, nesting, Infinity / NaN: said in words
            problems.append(f"{section}: not valid JSON ({exc})")
            dicts[section] = {}
    return dicts, problems
