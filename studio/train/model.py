"""The model a run trains: a LoRA/QLoRA adapter on a base, a full fine-tune, or a fresh model.

Loading goes through studio.models.loading (safetensors only, no remote code), so the base
a run trains on is the one generation later loads under the same ref.
"""

from __future__ import annotations

import logging
from typing import Any

from studio.configs.runs import TrainRun
from studio.configs.schemas import activation_checkpointing
from studio.models.loading import load_model, load_tokenizer
from studio.models.resolve import SCRATCH_PREFIX, resolve_model_path
from studio.settings import Settings
from studio.vocab.models import task_type

log = logging.getLogger("studio.train")


def build_tokenizer(run: TrainRun, settings: Settings):
    """The tokenizer for the run (pad token set, padding side as configured)."""
    return load_tokenizer(run.base_model, settings, run.tokenizer)


def _fresh_model(run: TrainRun, settings: Settings, tokenizer: Any):
    """Random weights with the architecture of the base (method "scratch")."""
    seed = int(run.trainer["seed"])
    if run.base_model.startswith(SCRATCH_PREFIX):
        model_cfg = {**run.model, "seed": seed}
        return load_model(
            run.base_model, settings, run.model_type, model_cfg, device="cpu", tokenizer=tokenizer
        )
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoModelForSeq2SeqLM

    config = AutoConfig.from_pretrained(resolve_model_path(run.base_model, settings))
    auto = AutoModelForSeq2SeqLM if run.model_type == "seq2seq" else AutoModelForCausalLM
    torch.manual_seed(seed)
    return auto.from_config(config, dtype=torch.float32)


def build_model(run: TrainRun, settings: Settings, tokenizer: Any):
    """The trainable model for the run's method; raises ModelUnavailableError for missing
    weights (and for 4-bit loading without CUDA)."""
    method = run.method
    gradient_checkpointing = activation_checkpointing(run.trainer)  # either name
    if method == "scratch":
        return _fresh_model(run, settings, tokenizer)
    # load_model refuses 4-bit loading without CUDA with a message saying what to pick instead.
    quant = run.quantization if method == "qlora" else None
    model = load_model(run.base_model, settings, run.model_type, run.model, quant)
    if method == "full":
        return model
    from peft import LoraConfig, get_peft_model, prepare_model_for_kbit_training

    if method == "qlora":
        model = prepare_model_for_kbit_training(model, gradient_checkpointing)
    elif gradient_checkpointing:
        # The frozen embeddings give no grad to checkpointed blocks without this.
        model.enable_input_require_grads()
    peft_cfg = dict(run.peft)
    peft_cfg.setdefault("task_type", task_type(run.model_type))
    return get_peft_model(model, LoraConfig(**peft_cfg))


def count_parameters(model: Any) -> tuple[int, int]:
    """(trainable, total) parameter counts."""
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return trainable, sum(p.numel() for p in model.parameters())
