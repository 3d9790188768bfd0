"""A template's starting values, whether it can train here, and the method a run really uses.

Templates (studio.templates) are data only; this module turns one into the Models form's
starting values and the six stored sections, and answers "can this run here?" cheaply
(no network; torch only when a GPU driver is present).

hyper = default_hyper(template)               # the form's starting values
dicts = default_dicts(template, "causal")      # the six sections they are stored in
ok, reason = template_availability(template, settings)
"""

from __future__ import annotations

import copy
from typing import Any

from studio.configs.hardware import Hardware, detect_hardware
from studio.configs.hyper import apply_hyperparameters
from studio.configs.table import STUDIO, form_defaults
from studio.models.resolve import SCRATCH_PREFIX, model_availability
from studio.settings import Settings
from studio.templates import Template
from studio.vocab.models import ADAPTER_METHODS, NEEDS_CUDA, TASK_TYPES, quantized


def default_hyper(template: Template, hardware: Hardware | None = None) -> dict[str, Any]:
    """The form's starting values: the settings table's (for this machine) with this
    template's overrides."""
    hardware = hardware or detect_hardware()
    hyper = form_defaults(hardware)
    hyper.update(copy.deepcopy(template.hyper))
    hyper["base_model"] = template.base_model
    hyper["precision"] = _precision_here(hyper["precision"], hardware)
    return hyper


def _precision_here(precision: str, hw: Hardware) -> str:
    """A template's training precision, as this machine can run it: bf16 where bf16 runs
    natively on a GPU, fp16 on an older GPU, fp32 on a CPU (the CPU default, bench/README)."""
    if precision == "bf16" and not hw.bf16:
        return "fp16" if hw.cuda else "fp32"
    if precision == "fp16" and not hw.cuda:
        return "fp32"
    return precision


def _dtype_here(dtype: str, hw: Hardware) -> str:
    """A 16-bit dtype as this machine holds it: bf16 on a bf16 GPU, fp16 on an older GPU,
    fp32 on a CPU (16-bit weights on a CPU are emulated and slow)."""
    if dtype not in ("bfloat16", "float16") or (dtype == "bfloat16" and hw.bf16):
        return dtype
    return "float16" if hw.cuda else "float32"


def default_dicts(
    template: Template, model_type: str | None = None, hardware: Hardware | None = None
) -> dict[str, dict]:
    """The six stored sections (five config dicts and the studio section) pre-filled for
    this template, with its form values written in (fresh copies)."""
    model_type = model_type or template.model_type
    dicts = {
        "model": {"base_model": template.base_model, **copy.deepcopy(template.model)},
        "quantization": copy.deepcopy(template.quantization),
        "peft": copy.deepcopy(template.peft),
        "tokenizer": copy.deepcopy(template.tokenizer),
        "trainer": copy.deepcopy(template.trainer),
        STUDIO: {},
    }
    if dicts["peft"]:
        dicts["peft"]["task_type"] = TASK_TYPES[model_type]
    hardware = hardware or detect_hardware()
    if isinstance(dicts["model"].get("dtype"), str):
        dicts["model"]["dtype"] = _dtype_here(dicts["model"]["dtype"], hardware)
    compute = dicts["quantization"].get("bnb_4bit_compute_dtype")
    if isinstance(compute, str):
        dicts["quantization"]["bnb_4bit_compute_dtype"] = _dtype_here(compute, hardware)
    return apply_hyperparameters(dicts, default_hyper(template, hardware))


def template_availability(
    template: Template,
    settings: Settings,
    hardware: Hardware | None = None,
    base_model: str | None = None,
) -> tuple[bool, str]:
    """(ok, reason): whether this template can train here; the reason says what to do."""
    hardware = hardware or detect_hardware()
    if template.needs_cuda and not hardware.cuda:
        return False, NEEDS_CUDA
    return model_availability(base_model or template.base_model, settings)


def trained_method(
    template_method: str, base_model: str, dicts: dict[str, dict] | None = None
) -> str:
    """The method training will really use.

    A `scratch:` ref builds a new model whatever the template says. Given the config dicts,
    they decide the rest (a user may drop the adapter or the 4 bits); without them the
    template's method stands.
    """
    if template_method == "scratch" or base_model.startswith(SCRATCH_PREFIX):
        return "scratch"
    if dicts is None:
        return template_method
    if quantized(dicts["quantization"]):
        return "qlora"
    return "lora" if dicts["peft"] else "full"


def trains_adapter(method: str) -> bool:
    """Whether a method trains a LoRA adapter (so the LoRA fields and PEFT dict apply)."""
    return method in ADAPTER_METHODS
