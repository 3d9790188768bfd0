"""Build at Validate what training will build, so a setting that would crash the job at start
fails here instead, naming its key.

- TrainingArguments, with the same function training uses (studio.train.training), so its own
  cross-checks (strategies, steps, precision) run here;
- the learning-rate scheduler, with lr_scheduler_kwargs, on a one-parameter optimizer, stepped
  a few times (a schedule's options are only read when it steps);
- the LoRA adapter on the base model's architecture built on the meta device from its
  config.json alone (no weights are read or allocated): target_modules must name modules
  the model has, layers_to_transform must name layers it has.

The base model's config.json must be on this machine (the packaged model, a local folder, or
the Hub cache); when it is not, the LoRA check is skipped, as training would first download
the model anyway. transformers / peft / torch are imported here, only when validating.

Building the adapter takes about a second, the arguments and the scheduler a little less: each
answer is remembered (a small LRU, studio.configs.memo) under everything it depends on, the
settings themselves and the base's config.json content included, so pressing Validate again
after an unrelated change costs nothing, and a changed setting or base is built afresh.
"""

from __future__ import annotations

import logging
from typing import Any

from studio.configs.memo import Memo, fingerprint
from studio.configs.table import run_defaults
from studio.configs.training_args import training_arguments, world_size
from studio.errors import Problem, first_line
from studio.models.architecture import base_config, layer_count, meta_model
from studio.models.hf import hf_ready
from studio.settings import Settings
from studio.vocab.models import task_type

log = logging.getLogger(__name__)
_SCHEDULE_STEPS = 20  # a short run: enough for every schedule to read all of its options
# One entry per distinct settings: a user tries a few at a time, each entry is a short list.
_ARGS, _SCHEDULES, _ADAPTERS = Memo(32), Memo(32), Memo(16)
_ARCHITECTURES = Memo(2)  # meta models (module objects, no weights): the bases in use
_SCHEDULE_KEYS = ("lr_scheduler_type", "warmup_steps", "lr_scheduler_kwargs")


def training_arguments_problems(trainer: dict[str, Any], has_eval: bool) -> list[Problem]:
    """Build TrainingArguments as the training process will (lazily imported: validation
    runs in the page's process, which never imports the trainer at module level)."""
    key = (fingerprint(trainer), has_eval, world_size())  # the build also reads WORLD_SIZE
    return list(_ARGS.get(key, lambda: _training_arguments_problems(trainer, has_eval)))


def _training_arguments_problems(trainer: dict[str, Any], has_eval: bool) -> tuple[Problem, ...]:
    import tempfile
    from pathlib import Path

    # Precision depends on the machine that will train, which Validate checks against the
    # chosen hardware (hardware_problems); TrainingArguments would check this machine instead.
    hardware_keys = ("bf16", "fp16", "tf32")
    full = {**run_defaults("trainer"), **trainer}
    kwargs = {k: v for k, v in full.items() if k not in hardware_keys}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            training_arguments(kwargs, "", Path(tmp), has_eval)
    except Exception as exc:  # ValueError from TrainingArguments' own cross-checks
        message = first_line(exc).replace("--", "")
        named = next((k for k in sorted(trainer, key=len, reverse=True) if k in message), None)
        key = f"trainer.{named}" if named else "trainer"
        return (Problem(key, f"the trainer refuses these settings ({message})"),)
    return ()


def scheduler_problems(trainer: dict[str, Any]) -> list[Problem]:
    """Construct (and step) the scheduler the trainer will build from these settings (a key
    they leave out has the settings table's default, as in a run)."""
    trainer = {**run_defaults("trainer"), **trainer}
    # The schedule reads these three keys only.
    key = fingerprint({k: trainer.get(k) for k in _SCHEDULE_KEYS})
    return list(_SCHEDULES.get(key, lambda: tuple(_scheduler_problems(trainer))))


def _scheduler_problems(trainer: dict[str, Any]) -> list[Problem]:
    kwargs = trainer.get("lr_scheduler_kwargs") or {}
    hf_ready()
    import torch
    from transformers import get_scheduler

    name = trainer["lr_scheduler_type"]
    warmup = trainer["warmup_steps"]
    warmup = int(warmup * _SCHEDULE_STEPS) if isinstance(warmup, float) and warmup < 1 else warmup
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1e-3)
    try:
        scheduler = get_scheduler(
            name,
            optimizer,
            num_warmup_steps=int(warmup or 0),
            num_training_steps=_SCHEDULE_STEPS,
            scheduler_specific_kwargs=dict(kwargs),
        )
        for _ in range(_SCHEDULE_STEPS):
            optimizer.step()
            scheduler.step()
        lrs = scheduler.get_last_lr()
    except Exception as exc:  # TypeError / ValueError / ZeroDivisionError from the schedule
        if not kwargs:  # the schedule needs options it was not given
            return [
                Problem(
                    "trainer.lr_scheduler_type",
                    f"the {name!r} schedule needs options in trainer.lr_scheduler_kwargs "
                    f"({first_line(exc)})",
                )
            ]
        return [
            Problem(
                "trainer.lr_scheduler_kwargs",
                f"the {name!r} schedule does not accept these options ({first_line(exc)}); "
                "remove or fix them",
            )
        ]
    if not all(isinstance(lr, float) and lr == lr and abs(lr) != float("inf") for lr in lrs):
        return [
            Problem(
                "trainer.lr_scheduler_kwargs",
                f"the {name!r} schedule gives a learning rate that is not a finite number "
                "with these options; fix them",
            )
        ]
    return []


def lora_problems(
    peft: dict[str, Any], base: str, model_type: str, settings: Settings, architecture: str = ""
) -> list[Problem]:
    """Construct the LoRA adapter on the base's architecture (meta device, no weights).

    Without the base's config.json on this machine (a Hub model not downloaded yet), a
    template's `architecture` (its transformers model_type) stands in: the module names are
    the architecture's whatever its size, so wrong targets fail before the download."""
    if not peft:
        return []
    cfg = base_config(base, settings)  # read each time: a changed config.json is a new key
    if (cfg is None or not isinstance(cfg.get("model_type"), str)) and architecture:
        cfg = {"model_type": architecture}
    if cfg is None or not isinstance(cfg.get("model_type"), str):
        log.info("no config.json for %s here; LoRA targets not checked at Validate", base)
        return []
    key = (base, fingerprint(cfg), fingerprint(peft), model_type)
    return list(_ADAPTERS.get(key, lambda: tuple(_lora_problems(peft, base, model_type, cfg))))


def _lora_problems(
    peft: dict[str, Any], base: str, model_type: str, cfg: dict[str, Any]
) -> list[Problem]:
    problems = []
    layers = peft.get("layers_to_transform")
    n_layers = layer_count(cfg)
    if isinstance(layers, list) and n_layers:
        bad = [i for i in layers if isinstance(i, int) and not 0 <= i < n_layers]
        if bad:
            problems.append(
                Problem(
                    "peft.layers_to_transform",
                    f"layer {bad[0]} does not exist; {base} has layers 0 to {n_layers - 1}",
                )
            )
    if problems:
        return problems
    # The meta model is kept per architecture; the adapter is built on a copy of it (building
    # it changes the model in place), which is a few times cheaper than building it again.
    architecture = _ARCHITECTURES.get(
        (fingerprint(cfg), model_type), lambda: meta_model(cfg, model_type)
    )
    if architecture is None:
        return []
    import copy

    import torch
    from peft import LoraConfig, get_peft_model

    missing = _missing_targets(peft.get("target_modules"), architecture)
    if missing:
        modules = _linear_names(architecture)
        return [
            Problem(
                "peft.target_modules",
                f"{', '.join(repr(m) for m in missing)} names no module of {base}; its "
                f"linear modules are {', '.join(modules[:12])}",
            )
        ]
    model = copy.deepcopy(architecture)
    kwargs = dict(peft)
    kwargs.setdefault("task_type", task_type(model_type))
    try:
        with torch.device("meta"):
            get_peft_model(model, LoraConfig(**kwargs))
    except Exception as exc:  # peft says which target is missing, in its own words
        key = "target_modules" if "target" in str(exc).lower() else "lora"
        modules = _linear_names(model)
        hint = f"; its linear modules are {', '.join(modules[:12])}" if modules else ""
        name = f"peft.{key}" if key != "lora" else "peft"
        problems.append(
            Problem(name, f"the adapter cannot be built on {base} ({first_line(exc)}){hint}")
        )
    return problems


def _linear_names(model: Any) -> list[str]:
    """The distinct last names of the model's linear layers ("q_proj", "down_proj", ...)."""
    import torch

    return sorted(
        {n.rsplit(".", 1)[-1] for n, m in model.named_modules() if isinstance(m, torch.nn.Linear)}
    )


def _missing_targets(targets: Any, model: Any) -> list[str]:
    """The names in a target_modules list that match no module of `model` (peft adapts the
    ones that do and says nothing of the others, so a misspelt name would train less)."""
    if not isinstance(targets, list):
        return []  # "all-linear", or a type problem reported by the schema
    names = [n for n, _ in model.named_modules() if n]
    return [
        t
        for t in targets
        if isinstance(t, str) and not any(n == t or n.endswith("." + t) for n in names)
    ]
