"""The hyperparameter form and how each field maps onto the five config dicts.

One table (`LINKS`) says where each form field lives in the dicts, so the form and the JSON
editors always agree: `apply_hyperparameters` writes form values into the dicts and
`hyperparameters_from_dicts` reads them back after a JSON edit. Form fields with no place in
the dicts (validation share, invalid-data tolerance, response-only loss, time budget) stay in
`hyper` and go to the run config outside the dicts.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from studio.configs.fields import FieldSpec as F
from studio.configs.schemas import SCHEMAS

PRECISIONS = ("fp32", "bf16", "fp16")


def _dict_key(section: str, key: str, help: str | None = None) -> F:
    """The spec of the dict key a form field is written to (studio.configs.schemas), so the
    two never disagree on type or range; `help` words it for the form where it differs."""
    spec = SCHEMAS[section][key]
    return spec if help is None else replace(spec, help=help)


# The form's fields. A field written into a dict key takes that key's spec from the schema
# table; only fields the dicts lack, or that mean something else in the form (max_steps:
# 0 = no limit; warmup_steps: whole steps only), are declared here.
HYPER_FIELDS: dict[str, F] = {
    "base_model": _dict_key(
        "model",
        "base_model",
        "Hugging Face model id (owner/name, or a bare name like gpt2) or a local folder",
    ),
    "epochs": _dict_key("trainer", "num_train_epochs"),
    "learning_rate": _dict_key("trainer", "learning_rate"),
    "lr_scheduler": _dict_key("trainer", "lr_scheduler_type"),
    "warmup_steps": F("int", "steps of linear warm-up", min=0),
    "batch_size": _dict_key("trainer", "per_device_train_batch_size"),
    "grad_accum": _dict_key("trainer", "gradient_accumulation_steps"),
    "max_length": _dict_key("tokenizer", "max_length", "longest example in tokens"),
    "lora_r": _dict_key("peft", "r"),
    "lora_alpha": _dict_key("peft", "lora_alpha", "LoRA alpha"),
    "lora_dropout": _dict_key("peft", "lora_dropout", "LoRA dropout"),
    "target_modules": _dict_key("peft", "target_modules"),
    "valid_pct": F("float", "share of rows held out for validation (%)", min=0, max=50),
    "seed": _dict_key("trainer", "seed"),
    "precision": F("choice", "training precision", choices=PRECISIONS),
    "invalid_tolerance_pct": F(
        "float", "stop when more than this % of rows were rejected", min=0, max=100
    ),
    "max_steps": F("int", "stop after this many steps (0 = no limit)", min=0),
    "time_budget_min": F(
        "float",
        "train for at most this many minutes: steps and learning-rate schedule are fitted to "
        "it (0 = no limit)",
        min=0,
        max=7 * 24 * 60,
    ),
    "response_only": F("bool", "learn from the response only (off: the whole text)"),
    "processes": _dict_key(
        "trainer", "processes", "training processes on each machine, one per GPU"
    ),
    "num_machines": _dict_key(
        "trainer", "num_machines", "machines training together (1: this one only)"
    ),
    "machine_rank": _dict_key(
        "trainer", "machine_rank", "this machine's number (0: the main machine)"
    ),
    "main_address": _dict_key(
        "trainer", "main_address", "host name or IP of machine 0 (several machines only)"
    ),
    "main_port": _dict_key(
        "trainer", "main_port", "free TCP port on machine 0 where the processes meet"
    ),
    "eval_every": F("int", "on the validation split; 0 = five times per run", min=0),
}

DEFAULT_HYPER: dict[str, Any] = {
    "base_model": "",
    "epochs": 3.0,
    "learning_rate": 2e-4,
    "lr_scheduler": "linear",
    "warmup_steps": 0,
    "batch_size": 8,
    "grad_accum": 1,
    "max_length": 256,
    "lora_r": 8,
    "lora_alpha": 16,
    "lora_dropout": 0.05,
    "target_modules": ["q_proj", "v_proj"],
    "valid_pct": 10.0,
    "seed": 42,
    "precision": "fp32",
    "invalid_tolerance_pct": 10.0,
    "max_steps": 0,
    "time_budget_min": 10.0,  # on a GPU the default is 0 (studio.configs.defaults)
    "response_only": True,
    "processes": 1,  # configs.defaults.default_hyper: the visible GPUs
    "num_machines": 1,
    "machine_rank": 0,
    "main_address": "",
    "main_port": 29500,
    "eval_every": 0,
}
# eval_every 0: this share of the run's steps between evaluations (Trainer reads an
# eval_steps below 1 as a ratio), so even a run shorter than an epoch draws an eval curve.
EVAL_RATIO = 0.2

_MISSING = object()


@dataclass(frozen=True)
class Link:
    """Form field `hyper` <-> dicts[section][key]; `adapter_only` skips models without LoRA."""

    hyper: str
    section: str
    key: str
    to_dict: Callable[[Any], Any] = lambda v: v
    from_dict: Callable[[Any], Any] = lambda v: v
    adapter_only: bool = False


LINKS: tuple[Link, ...] = (
    Link("base_model", "model", "base_model"),
    Link("epochs", "trainer", "num_train_epochs"),
    Link("learning_rate", "trainer", "learning_rate"),
    Link("lr_scheduler", "trainer", "lr_scheduler_type"),
    Link("warmup_steps", "trainer", "warmup_steps"),
    Link("batch_size", "trainer", "per_device_train_batch_size"),
    Link("grad_accum", "trainer", "gradient_accumulation_steps"),
    Link("seed", "trainer", "seed"),
    # The form says 0 = no limit; TrainingArguments says -1. Anything else passes through
    # unchanged, so validation reports a bad value instead of it silently meaning "no limit".
    Link(
        "max_steps",
        "trainer",
        "max_steps",
        lambda v: -1 if v == 0 else v,
        lambda v: 0 if v == -1 else v,
    ),
    Link("max_length", "tokenizer", "max_length"),
    # Launch settings: read by the job runner (studio.configs.launch), not TrainingArguments.
    Link("processes", "trainer", "processes"),
    Link("num_machines", "trainer", "num_machines"),
    Link("machine_rank", "trainer", "machine_rank"),
    Link("main_address", "trainer", "main_address"),
    Link("main_port", "trainer", "main_port"),
    Link("lora_r", "peft", "r", adapter_only=True),
    Link("lora_alpha", "peft", "lora_alpha", adapter_only=True),
    Link("lora_dropout", "peft", "lora_dropout", adapter_only=True),
    Link("target_modules", "peft", "target_modules", adapter_only=True),
)


def _write_precision(trainer: dict, precision: Any) -> None:
    trainer["bf16"] = precision == "bf16"
    trainer["fp16"] = precision == "fp16"


def _read_precision(trainer: dict) -> str:
    if trainer.get("bf16") is True:
        return "bf16"
    return "fp16" if trainer.get("fp16") is True else "fp32"


def apply_hyperparameters(dicts: dict[str, dict], hyper: dict[str, Any]) -> dict[str, dict]:
    """New dicts with the form's values written in (the inputs are not changed).

    Only fields present in `hyper` are written; LoRA fields are skipped when the PEFT dict
    is empty (a full or from-scratch model has no adapter to configure).
    """
    out = copy.deepcopy(dicts)
    for section in ("model", "quantization", "peft", "tokenizer", "trainer"):
        out.setdefault(section, {})
    for link in LINKS:
        if link.hyper not in hyper:
            continue
        if link.adapter_only and not out["peft"]:
            continue
        if link.hyper == "base_model" and not hyper[link.hyper]:
            continue  # an empty form box keeps the template's model
        out[link.section][link.key] = link.to_dict(copy.deepcopy(hyper[link.hyper]))
    if "precision" in hyper:
        _write_precision(out["trainer"], hyper["precision"])
    if "eval_every" in hyper:
        _write_eval_every(out["trainer"], hyper["eval_every"])
    return out


def _write_eval_every(trainer: dict, every: Any) -> None:
    """N > 0: evaluate every N steps. 0: a few times per run when evaluating by steps (a
    trainer dict set to evaluate by epoch, or never, keeps that)."""
    if isinstance(every, (int, float)) and not isinstance(every, bool) and every > 0:
        trainer["eval_strategy"], trainer["eval_steps"] = "steps", every
    elif every == 0 and trainer.get("eval_strategy") == "steps":
        trainer["eval_steps"] = EVAL_RATIO
    elif every not in (0, None):  # a bad value: let validation name it
        trainer["eval_steps"] = every


def _read_eval_every(trainer: dict) -> Any:
    steps = trainer.get("eval_steps")
    if trainer.get("eval_strategy") == "steps" and isinstance(steps, (int, float)) and steps >= 1:
        return int(steps) if float(steps).is_integer() else steps
    return 0


def hyperparameters_from_dicts(dicts: dict[str, dict], hyper: dict[str, Any]) -> dict[str, Any]:
    """`hyper` updated with the values the dicts hold (after a JSON edit)."""
    out = dict(hyper)
    for link in LINKS:
        value = (dicts.get(link.section) or {}).get(link.key, _MISSING)
        if value is not _MISSING:
            out[link.hyper] = link.from_dict(copy.deepcopy(value))
    out["precision"] = _read_precision(dicts.get("trainer") or {})
    out["eval_every"] = _read_eval_every(dicts.get("trainer") or {})
    return out


def parse_target_modules(text: str | list) -> list[str] | str:
    """Form text "q_proj, v_proj" -> ["q_proj", "v_proj"]; "all-linear" stays a string."""
    if isinstance(text, list):
        return [str(x).strip() for x in text if str(x).strip()]
    parts = [p.strip() for p in (text or "").replace("\n", ",").split(",") if p.strip()]
    return parts[0] if parts == ["all-linear"] else parts
