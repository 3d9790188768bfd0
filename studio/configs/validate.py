"""validate(): every problem in a model's settings at once, each naming its key.

    problems = validate(template, hyper, dicts, hardware)   # [] when all is well
    check(template, hyper, dicts, hardware)                  # raises ConfigError(problems)

The form's values are checked first against HYPER_FIELDS (a linked field under the dict
key the trainer will read, e.g. batch_size as trainer.per_device_train_batch_size); only the
valid ones are written into the dicts (apply_hyperparameters), which are checked next. So a
bad value is reported once, and one of the wrong type never hides the other problems.
"""

from __future__ import annotations

import difflib
import logging
from typing import Any

from studio.configs.construct import (
    lora_problems,
    scheduler_problems,
    training_arguments_problems,
)
from studio.configs.fields import check_value
from studio.configs.hardware import (
    NO_CUDA,
    Hardware,
    bf16_refusal,
    bitsandbytes_installed,
    detect_hardware,
    hardware_problems,
)
from studio.configs.hyper import HYPER_FIELDS, LINKS, apply_hyperparameters
from studio.configs.launch import launch_problems
from studio.configs.schemas import (
    ARCHITECTURE,
    REFUSED,
    SCHEMAS,
    SECTIONS,
    STUDIO_KEYS,
    library_keys,
    refused,
)
from studio.errors import ConfigError
from studio.models.resolve import SCRATCH_PREFIX
from studio.settings import Settings
from studio.templates import Template
from studio.vocab.models import MODEL_TYPES, TASK_TYPES

log = logging.getLogger(__name__)

_LIBRARY = {
    "trainer": "TrainingArguments (transformers)",
    "peft": "LoraConfig (peft)",
    "quantization": "BitsAndBytesConfig (transformers)",
    "model": "from_pretrained (transformers)",
    "tokenizer": "the tokenizer",
}
_LINKED = {link.hyper: link for link in LINKS}


def _suggest(key: str, known: list[str]) -> str:
    close = difflib.get_close_matches(key, known, n=3, cutoff=0.6)
    return f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""


def _signature_keys() -> dict[str, frozenset[str]] | None:
    try:
        return library_keys()
    except Exception:  # a missing optional library must not block validation itself
        log.warning("could not read library signatures; checking the allowlist only", exc_info=True)
        return None


def _check_keys(section: str, values: dict, lib: dict | None) -> list[str]:
    problems = []
    schema = SCHEMAS[section]
    for key, value in values.items():
        name = f"{section}.{key}"
        if key in REFUSED:
            problems += refused(section, {key: value})
        elif key not in schema:
            if lib is not None and key in lib[section]:
                problems.append(
                    f"{name}: the studio does not let you set this {_LIBRARY[section]} "
                    "option (the studio manages it, or it is unsafe); remove it."
                )
            else:
                problems.append(f"{name}: unknown key{_suggest(key, sorted(schema))}")
        elif (
            lib is not None and key not in STUDIO_KEYS.get(section, ()) and key not in lib[section]
        ):
            problems.append(
                f"{name}: the installed {_LIBRARY[section]} does not accept this key; remove it."
            )
        else:
            problem = check_value(name, schema[key], value)
            if problem:
                problems.append(problem)
    return problems


def _check_hyper(hyper: dict[str, Any], has_adapter: bool) -> tuple[list[str], dict[str, Any]]:
    """(problems, the form values fit to be written into the dicts)."""
    problems, usable = [], {}
    for key, value in hyper.items():
        link = _LINKED.get(key)
        if key not in HYPER_FIELDS:
            problems.append(f"hyper.{key}: unknown setting{_suggest(key, sorted(HYPER_FIELDS))}")
            continue
        if link is not None and link.adapter_only and not has_adapter:
            continue  # never written: a model without LoRA has no adapter to configure
        name = f"{link.section}.{link.key}" if link else f"hyper.{key}"
        problem = check_value(name, HYPER_FIELDS[key], value)
        if problem:
            problems.append(problem)
        else:
            usable[key] = value
    return problems, usable


def _steps_multiple(save: Any, every: Any) -> bool:
    # TrainingArguments: both whole step counts, or both shares (< 1) of the run.
    if save >= 1 and every >= 1:
        return save % every == 0
    return save < 1 and every < 1 and round(save * 1e6) % round(every * 1e6) == 0


def _best_model_problems(trainer: dict) -> list[str]:
    """load_best_model_at_end needs an evaluation right before every checkpoint."""
    if trainer.get("load_best_model_at_end") is not True:
        return []
    eval_strategy = trainer.get("eval_strategy", "no")
    save_strategy = trainer.get("save_strategy", "steps")
    if eval_strategy == "no" or save_strategy not in ("best", eval_strategy):
        return [
            "trainer.load_best_model_at_end: needs eval_strategy and save_strategy to be the "
            "same and not 'no' (or save_strategy 'best')"
        ]
    save, every = trainer.get("save_steps", 500), trainer.get("eval_steps")
    every = every if every is not None else trainer.get("logging_steps", 500)
    numbers = all(
        isinstance(x, (int, float)) and not isinstance(x, bool) and x > 0 for x in (save, every)
    )
    if save_strategy == "steps" and numbers and not _steps_multiple(save, every):
        return [
            f"trainer.load_best_model_at_end: needs save_steps ({save:g}) to be a multiple of "
            f"eval_steps ({every:g}), so every checkpoint has an evaluation; change one of them"
        ]
    return []


def _check_architecture(arch: dict, tokenizer: dict) -> list[str]:
    problems = []
    for key, value in arch.items():
        name = f"model.architecture.{key}"
        if key not in ARCHITECTURE:
            problems.append(f"{name}: unknown key{_suggest(key, sorted(ARCHITECTURE))}")
        elif problem := check_value(name, ARCHITECTURE[key], value):
            problems.append(problem)
    ints = {
        k: v for k, v in arch.items() if isinstance(v, int) and not isinstance(v, bool) and v > 0
    }
    hidden, heads = ints.get("hidden_size"), ints.get("num_attention_heads")
    kv = ints.get("num_key_value_heads")
    if hidden and heads and hidden % heads:
        problems.append(
            f"model.architecture.num_attention_heads: {heads} must divide hidden_size {hidden}"
        )
    if heads and kv and heads % kv:
        problems.append(
            f"model.architecture.num_key_value_heads: {kv} must divide num_attention_heads {heads}"
        )
    positions, length = ints.get("max_position_embeddings"), tokenizer.get("max_length")
    if positions and isinstance(length, int) and length > positions:
        problems.append(
            f"tokenizer.max_length: {length} is longer than the model's "
            f"max_position_embeddings {positions}; lower it or raise the other"
        )
    return problems


def _contradictions(
    template: Template, model_type: str, hyper: dict, d: dict[str, dict], hw: Hardware
) -> list[str]:
    problems = []
    model, quant, peft, tok, trainer = (d[s] for s in SECTIONS)
    base = model.get("base_model", template.base_model)
    scratch = isinstance(base, str) and base.startswith(SCRATCH_PREFIX)
    if base in ("", None):
        problems.append(
            "model.base_model: empty; type a Hugging Face model id (owner/name, or a bare name like gpt2) or a local "
            "model folder"
        )
    quantized = quant.get("load_in_4bit") is True or quant.get("load_in_8bit") is True
    if quantized and not bitsandbytes_installed():
        bits = "4" if quant.get("load_in_4bit") is True else "8"
        problems.append(
            f"quantization.load_in_{bits}bit: {bits}-bit loading needs the bitsandbytes "
            "package, which is not installed — pip install bitsandbytes, or empty the "
            "quantization config for a plain LoRA run"
        )
    if quant.get("load_in_4bit") is True and quant.get("load_in_8bit") is True:
        problems.append("quantization.load_in_8bit: choose 4-bit or 8-bit, not both")
    if quantized and not peft:
        problems.append(
            "peft: a 4-bit/8-bit model can only be trained through a LoRA adapter; fill in the "
            "PEFT config (r, lora_alpha, target_modules) or remove the quantization"
        )
    if scratch and peft:
        problems.append(
            "peft: a model trained from scratch has no adapter; leave the PEFT config empty ({})"
        )
    if scratch and quantized:
        problems.append(
            "quantization: a model trained from scratch cannot be quantized; leave it empty ({})"
        )
    if "architecture" in model and not scratch:
        problems.append("model.architecture: only for models built from scratch; remove it")
    if scratch and isinstance(model.get("architecture", {}), dict):
        problems += _check_architecture(model.get("architecture", {}), tok)
    task = peft.get("task_type")
    if peft and isinstance(task, str) and task != TASK_TYPES.get(model_type, task):
        problems.append(
            f"peft.task_type: must be {TASK_TYPES[model_type]!r} for a "
            f"{MODEL_TYPES[model_type]} model (got {task!r})"
        )
    if trainer.get("bf16") is True and not hw.mixed_bf16:
        problems.append(f"trainer.bf16: {bf16_refusal(hw)}")
    if trainer.get("fp16") is True and not hw.cuda:
        problems.append(
            f"trainer.fp16: fp16 mixed precision needs a CUDA GPU; {NO_CUDA} — choose fp32"
        )
    if trainer.get("bf16") is True and trainer.get("fp16") is True:
        problems.append("trainer.fp16: choose bf16 or fp16, not both")
    if trainer.get("max_steps") == 0:
        problems.append("trainer.max_steps: must be -1 (no limit) or at least 1 (got 0)")
    eval_strategy = trainer.get("eval_strategy", "no")
    if eval_strategy != "no" and hyper.get("valid_pct") == 0:
        problems.append(
            f"trainer.eval_strategy: is {eval_strategy!r} but the validation share is 0; "
            "set it to 'no' or raise the validation share"
        )
    problems += _best_model_problems(trainer)
    problems += hardware_problems(model, quant, trainer, hw)
    problems += launch_problems(trainer, hw)
    return problems


def _construction(
    template: Template,
    model_type: str,
    d: dict[str, dict],
    problems: list[str],
    settings: Settings | None,
    has_eval: bool,
) -> list[str]:
    """Build what training builds, for the sections whose keys passed the checks above."""
    out: list[str] = []
    clean = {s for s in SECTIONS if not any(p.startswith((s + ".", s + ":")) for p in problems)}
    try:
        if "trainer" in clean:
            out += training_arguments_problems(d["trainer"], has_eval)
            out += scheduler_problems(d["trainer"])
        base = d["model"].get("base_model") or template.base_model
        if (
            {"peft", "model"} <= clean
            and isinstance(base, str)
            and base
            and not (base.startswith(SCRATCH_PREFIX))
        ):
            out += lora_problems(
                d["peft"],
                base,
                model_type,
                settings or Settings.from_env(),
                template.architecture if base == template.base_model else "",
            )
    except ImportError:  # a missing optional library must not block validation itself
        log.warning("could not construct the scheduler / adapter at Validate", exc_info=True)
    return out


def validate(
    template: Template,
    hyper: dict[str, Any],
    dicts: dict[str, Any],
    hardware: Hardware | None = None,
    model_type: str | None = None,
    settings: Settings | None = None,
) -> list[str]:
    """Every problem in these settings, each naming its key, each once; [] when they are fine.

    When the keys themselves are fine, the scheduler and the LoRA adapter are constructed
    (studio.configs.construct), so what would fail at train start fails here."""
    hw = hardware or detect_hardware()
    model_type = model_type or template.model_type
    problems: list[str] = []
    if model_type not in template.allowed_types:
        problems.append(
            f"model_type: the template {template.title!r} builds {template.type_title} models, "
            f"not {MODEL_TYPES.get(model_type, model_type)}; pick another template"
        )
        model_type = template.model_type
    unknown = [k for k in dicts if k not in SECTIONS]
    for key in unknown:
        problems.append(f"{key}: unknown config; the five are {', '.join(SECTIONS)}")
    clean: dict[str, dict] = {}
    for section in SECTIONS:
        value = dicts.get(section, {})
        if not isinstance(value, dict):
            problems.append(
                f"{section}: must be a JSON object {{...}} (got {type(value).__name__})"
            )
            value = {}
        clean[section] = value
    hyper_problems, usable = _check_hyper(hyper or {}, has_adapter=bool(clean["peft"]))
    problems += hyper_problems
    effective = apply_hyperparameters(clean, usable)
    lib = _signature_keys()
    for section in SECTIONS:
        problems += _check_keys(section, effective[section], lib)
    problems += _contradictions(template, model_type, hyper or {}, effective, hw)
    valid_pct = (hyper or {}).get("valid_pct", 10)
    has_eval = not isinstance(valid_pct, int | float) or valid_pct > 0
    problems += _construction(template, model_type, effective, problems, settings, has_eval)
    return list(dict.fromkeys(problems))  # one problem reached two ways is listed once


def check(
    template: Template,
    hyper: dict[str, Any],
    dicts: dict[str, Any],
    hardware: Hardware | None = None,
    model_type: str | None = None,
    settings: Settings | None = None,
) -> None:
    """Raise ConfigError listing every problem, or return when the settings are valid."""
    problems = validate(template, hyper, dicts, hardware, model_type, settings)
    if problems:
        raise ConfigError(problems)
