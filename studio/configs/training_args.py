"""How a run's trainer dict becomes transformers' TrainingArguments, in one place.

The training process builds its arguments here, and Validate builds the same ones in the
page's process so that a setting the trainer would refuse fails at Validate, naming the key.
transformers and torch are imported inside the function only.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from studio.configs.schemas import TRAINER_ALIASES
from studio.vocab.models import ADAPTER_METHODS

log = logging.getLogger("studio.train")
KEEP_CHECKPOINTS = 2


def world_size() -> int:
    """Processes training together (WORLD_SIZE, set by accelerate launch / torchrun)."""
    return max(1, int(os.environ.get("WORLD_SIZE", "1") or 1))


def named_as_installed(trainer: dict[str, Any], allowed: set[str]) -> dict[str, Any]:
    """The trainer dict with each aliased key (schemas.TRAINER_ALIASES) under the name the
    installed TrainingArguments takes; when both names are set, the new one wins."""
    out = dict(trainer)
    for old, new in TRAINER_ALIASES.items():
        if new in allowed and old in out:
            value = out.pop(old)
            out[new] = value if out.get(new) is None else out[new]
        elif new not in allowed and old in allowed and new in out:
            value = out.pop(new)
            out[old] = value
    return out


def training_arguments(trainer: dict[str, Any], method: str, output_dir: Path, has_eval: bool):
    """TrainingArguments from a run's trainer dict (its defaults filled in, TrainRun), with
    what the studio relies on forced; checkpoints go to `output_dir` (RUN_DIR/checkpoints in a
    run); `method` is the run's training method (an adapter trains every weight it has)."""
    import inspect

    import torch
    from transformers import TrainingArguments

    allowed = set(inspect.signature(TrainingArguments).parameters)
    trainer = named_as_installed(trainer, allowed)
    kwargs = {k: v for k, v in trainer.items() if k in allowed}
    dropped = sorted(set(trainer) - allowed)
    if dropped:
        log.warning("ignoring trainer keys this transformers version does not know: %s", dropped)
    if not torch.cuda.is_available() and kwargs.get("fp16"):
        log.warning("fp16 needs CUDA; training in fp32 on this machine")
        kwargs["fp16"] = False
    if not torch.cuda.is_available() and kwargs.get("bf16"):
        # bf16 on a CPU is autocast (weights stay fp32): TrainingArguments refuses bf16 without
        # a bf16 GPU unless told it runs on the CPU; accelerate then wraps the model's forward
        # in torch.autocast("cpu", bfloat16). Validate refuses it on a CPU that would emulate it.
        kwargs["use_cpu"] = True
    if not torch.cuda.is_available() and world_size() > 1:
        # Without CUDA accelerate only builds a CPU process group (gloo) when told it runs on
        # the CPU; otherwise each rank would train alone on the same batches.
        kwargs["use_cpu"], kwargs["ddp_backend"] = True, "gloo"
    if world_size() > 1 and method in ADAPTER_METHODS:
        # Every adapter weight takes part in each forward: skip DDP's search for unused ones
        # (the Trainer turns it on for any model that is not a plain PreTrainedModel).
        kwargs["ddp_find_unused_parameters"] = False
    if not has_eval:
        kwargs["eval_strategy"] = "no"
        kwargs.pop("load_best_model_at_end", None)
    kwargs.setdefault("save_total_limit", KEEP_CHECKPOINTS)  # the user's value wins (null: all)
    kwargs.update(
        output_dir=str(output_dir),
        report_to="none",
        logging_nan_inf_filter=False,  # a NaN must reach the callback, not be averaged away
        include_num_input_tokens_seen="non_padding",
        disable_tqdm=True,  # train.log is read by people: no progress-bar carriage returns
        remove_unused_columns=False,
        dataloader_pin_memory=torch.cuda.is_available(),
    )
    return TrainingArguments(**kwargs)
