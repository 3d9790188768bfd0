"""Settings that are each fine alone but not together, or not on this machine.

    problems = contradictions(template, model_type, sections, hardware)

Each Problem names the key to change (studio.configs.validate lists them with the rest).
"""

from __future__ import annotations

from typing import Any

from studio.configs.fields import check_value
from studio.configs.hardware import (
    NO_CUDA,
    Hardware,
    bf16_refusal,
    bitsandbytes_installed,
    hardware_problems,
)
from studio.configs.launch import launch_problems
from studio.configs.schemas import ARCHITECTURE
from studio.configs.table import STUDIO
from studio.errors import Problem
from studio.models.resolve import SCRATCH_PREFIX
from studio.templates import Template
from studio.vocab.models import MODEL_TYPES, TASK_TYPES


def _steps_multiple(save: Any, every: Any) -> bool:
    # TrainingArguments: both whole step counts, or both shares (< 1) of the run.
    if save >= 1 and every >= 1:
        return save % every == 0
    return save < 1 and every < 1 and round(save * 1e6) % round(every * 1e6) == 0


def best_model_problems(trainer: dict) -> list[Problem]:
    """load_best_model_at_end needs an evaluation right before every checkpoint."""
    if trainer.get("load_best_model_at_end") is not True:
        return []
    key = "trainer.load_best_model_at_end"
    eval_strategy, save_strategy = trainer["eval_strategy"], trainer["save_strategy"]
    if eval_strategy == "no" or save_strategy not in ("best", eval_strategy):
        return [
            Problem(
                key,
                "needs eval_strategy and save_strategy to be the same and not 'no' (or "
                "save_strategy 'best')",
            )
        ]
    save, every = trainer.get("save_steps", 500), trainer.get("eval_steps")
    every = every if every is not None else trainer["logging_steps"]
    numbers = all(
        isinstance(x, (int, float)) and not isinstance(x, bool) and x > 0 for x in (save, every)
    )
    if save_strategy == "steps" and numbers and not _steps_multiple(save, every):
        return [
            Problem(
                key,
                f"needs save_steps ({save:g}) to be a multiple of eval_steps ({every:g}), so "
                "every checkpoint has an evaluation; change one of them",
            )
        ]
    return []


def architecture_problems(arch: dict, tokenizer: dict, suggest) -> list[Problem]:
    """A from-scratch model's architecture: known keys, fitting values, sizes that divide."""
    problems = []
    for key, value in arch.items():
        name = f"model.architecture.{key}"
        if key not in ARCHITECTURE:
            problems.append(Problem(name, f"unknown key{suggest(key, sorted(ARCHITECTURE))}"))
        elif problem := check_value(name, ARCHITECTURE[key], value):
            problems.append(problem)
    ints = {
        k: v for k, v in arch.items() if isinstance(v, int) and not isinstance(v, bool) and v > 0
    }
    hidden, heads = ints.get("hidden_size"), ints.get("num_attention_heads")
    kv = ints.get("num_key_value_heads")
    if hidden and heads and hidden % heads:
        problems.append(
            Problem(
                "model.architecture.num_attention_heads",
                f"{heads} must divide hidden_size {hidden}",
            )
        )
    if heads and kv and heads % kv:
        problems.append(
            Problem(
                "model.architecture.num_key_value_heads",
                f"{kv} must divide num_attention_heads {heads}",
            )
        )
    positions, length = ints.get("max_position_embeddings"), tokenizer.get("max_length")
    if positions and isinstance(length, int) and length > positions:
        problems.append(
            Problem(
                "tokenizer.max_length",
                f"{length} is longer than the model's max_position_embeddings {positions}; "
                "lower it or raise the other",
            )
        )
    return problems


def _quantization_problems(quant: dict, peft: dict, scratch: bool, hw: Hardware) -> list[Problem]:
    problems = []
    quantized = quant.get("load_in_4bit") is True or quant.get("load_in_8bit") is True
    if quantized and not bitsandbytes_installed():
        bits = "4" if quant.get("load_in_4bit") is True else "8"
        problems.append(
            Problem(
                f"quantization.load_in_{bits}bit",
                f"{bits}-bit loading needs the bitsandbytes package, which is not installed — "
                "pip install bitsandbytes, or empty the quantization config for a plain LoRA run",
            )
        )
    if quant.get("load_in_4bit") is True and quant.get("load_in_8bit") is True:
        problems.append(Problem("quantization.load_in_8bit", "choose 4-bit or 8-bit, not both"))
    if quantized and not peft:
        problems.append(
            Problem(
                "peft",
                "a 4-bit/8-bit model can only be trained through a LoRA adapter; fill in the "
                "PEFT config (r, lora_alpha, target_modules) or remove the quantization",
            )
        )
    if scratch and quantized:
        problems.append(
            Problem(
                "quantization",
                "a model trained from scratch cannot be quantized; leave it empty ({})",
            )
        )
    return problems


def _trainer_problems(trainer: dict, studio: dict, hw: Hardware) -> list[Problem]:
    problems = []
    if trainer.get("bf16") is True and not hw.mixed_bf16:
        problems.append(Problem("trainer.bf16", bf16_refusal(hw)))
    if trainer.get("fp16") is True and not hw.cuda:
        problems.append(
            Problem(
                "trainer.fp16",
                f"fp16 mixed precision needs a CUDA GPU; {NO_CUDA} — choose fp32",
            )
        )
    if trainer.get("bf16") is True and trainer.get("fp16") is True:
        problems.append(Problem("trainer.fp16", "choose bf16 or fp16, not both"))
    if trainer.get("max_steps") == 0:
        problems.append(Problem("trainer.max_steps", "must be -1 (no limit) or at least 1 (got 0)"))
    eval_strategy = trainer["eval_strategy"]
    if eval_strategy != "no" and studio["valid_pct"] == 0:
        problems.append(
            Problem(
                "trainer.eval_strategy",
                f"is {eval_strategy!r} but the validation share is 0; set it to 'no' or raise "
                "the validation share",
            )
        )
    return problems + best_model_problems(trainer)


def contradictions(
    template: Template, model_type: str, d: dict[str, dict], hw: Hardware, suggest
) -> list[Problem]:
    """Every contradiction between the sections `d` (as a run reads them: the table's
    defaults filled in, studio.configs.validate.as_run_reads), or with this machine."""
    problems = []
    model, quant, peft, tok, trainer = (
        d[s] for s in ("model", "quantization", "peft", "tokenizer", "trainer")
    )
    studio = d[STUDIO]
    base = model.get("base_model", template.base_model)
    scratch = isinstance(base, str) and base.startswith(SCRATCH_PREFIX)
    if base in ("", None):
        problems.append(
            Problem(
                "model.base_model",
                "empty; type a Hugging Face model id (owner/name, or a bare name like gpt2) or "
                "a local model folder",
            )
        )
    problems += _quantization_problems(quant, peft, scratch, hw)
    if scratch and peft:
        problems.append(
            Problem(
                "peft",
                "a model trained from scratch has no adapter; leave the PEFT config empty ({})",
            )
        )
    if "architecture" in model and not scratch:
        problems.append(
            Problem("model.architecture", "only for models built from scratch; remove it")
        )
    if scratch and isinstance(model.get("architecture", {}), dict):
        problems += architecture_problems(model.get("architecture", {}), tok, suggest)
    task = peft.get("task_type")
    if peft and isinstance(task, str) and task != TASK_TYPES.get(model_type, task):
        problems.append(
            Problem(
                "peft.task_type",
                f"must be {TASK_TYPES[model_type]!r} for a {MODEL_TYPES[model_type]} model "
                f"(got {task!r})",
            )
        )
    problems += _trainer_problems(trainer, studio, hw)
    problems += hardware_problems(model, quant, trainer, hw)
    problems += launch_problems(studio, trainer, hw)
    return problems
