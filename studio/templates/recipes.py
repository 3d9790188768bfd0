"""The settings templates share: LoRA shapes, the CPU and GPU trainer settings, NF4, and the
two builders (a LoRA template that trains on a CPU, a LoRA/QLoRA template sized for a GPU).

CPU templates train in fp32 with the CPU trainer settings; GPU templates keep the base in
bf16 (studio.configs.defaults starts them in fp16 on a GPU without bf16 and in fp32 on a CPU).
"""

from __future__ import annotations

from studio.templates.base import Template
from studio.templates.families import ALL_LINEAR, tokenizer_dict

# A template states each value once: a form setting (r, lora_alpha, lora_dropout, max_length,
# ...) in `hyper`, over the settings table's default (r 8, alpha 16); its dicts hold only the
# other keys.
LORA = {"bias": "none"}
LORA_16_HYPER = {"lora_r": 16, "lora_alpha": 32}
# CPU-friendly Trainer defaults: log every step so the Train tab's chart moves (a CPU step
# takes seconds; a JSON line per step costs nothing next to it).
TRAINER_CPU = {
    "logging_steps": 1,
    "eval_strategy": "steps",
    "eval_steps": 0.2,
    "save_strategy": "epoch",
    "save_total_limit": 2,
    "weight_decay": 0.0,
    "optim": "adamw_torch",
    "report_to": "none",
    "activation_checkpointing": False,
}
TRAINER_GPU = {**TRAINER_CPU, "logging_steps": 10, "activation_checkpointing": True}
NF4 = {"load_in_4bit": True, "bnb_4bit_quant_type": "nf4", "bnb_4bit_use_double_quant": True}
_GPU_HYPER = {
    "batch_size": 4,
    "grad_accum": 4,
    "max_length": 512,
    **LORA_16_HYPER,
    "epochs": 2.0,
    "precision": "bf16",
    "target_modules": list(ALL_LINEAR),
}
# Chosen by bench/bench_recipe.py (held-out FPB accuracy within the time budget).
SMOLLM2_HYPER = {
    "target_modules": list(ALL_LINEAR),
    "learning_rate": 5e-4,
    **LORA_16_HYPER,
    "warmup_steps": 10,
    "lr_scheduler": "linear",
}


def cpu_lora(key, title, base, params_b, license, description, tokens=None, **extra):
    """A LoRA template that trains on a CPU in fp32 (the SmolLM2 recipe)."""
    return Template(
        key=key,
        title=title,
        model_type=extra.pop("model_type", "causal"),
        method="lora",
        base_model=base,
        params_b=params_b,
        license=license,
        description=description,
        hyper=extra.pop("hyper", dict(SMOLLM2_HYPER)),
        model={"dtype": "float32"},
        peft=dict(LORA),
        tokenizer=tokenizer_dict(**(tokens or {})),
        trainer=dict(TRAINER_CPU),
        **extra,
    )


def gpu_template(
    key, title, base, params_b, license, description, method="lora", tokens=None, **extra
):
    """A LoRA or QLoRA template sized for a GPU: bf16 base (4-bit NF4 for QLoRA)."""
    return Template(
        key=key,
        title=title,
        model_type="causal",
        method=method,
        base_model=base,
        params_b=params_b,
        license=license,
        description=description,
        hyper={**_GPU_HYPER, **extra.pop("hyper", {})},
        model={"dtype": "bfloat16"},
        quantization={**NF4, "bnb_4bit_compute_dtype": "bfloat16"} if method == "qlora" else {},
        peft=dict(LORA),
        tokenizer=tokenizer_dict(**(tokens or {})),
        trainer=dict(TRAINER_GPU),
        **extra,
    )
