"""The one table of run settings: for each, its name, type and range, default, help, and
where it is stored (a key of one of the five library dicts, or of the studio's own section).

    SETTINGS["epochs"].default          # 3.0: the page's, the headless run's, the trainer's
    form_defaults(hardware)             # the Models form's starting values
    run_defaults("trainer")             # what a run config that leaves a key out gets
    StudioSettings.from_dict(section)   # the studio-only settings, typed, defaults filled

Everything that gives a run setting a default reads it here: the Models form (its fields,
labels, help and layout are generated from the rows), validation (each row's FieldSpec), the
saved model (the rows say which section a form value is stored in), the headless run and the
trainer (a run config that leaves a key out gets the row's default). Where the page's default
must differ from a headless run's, the row says so (`page`) and why (`why`), here only.

**Where a setting lives.** A setting a library reads (TrainingArguments, LoraConfig,
from_pretrained, BitsAndBytesConfig, the tokenizer) is a key of its dict. A setting only the
studio reads is a key of the `studio` section, whatever reads it (the data split, the job
runner, the training process). A new setting is a row here, its use, and a test.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

from studio.configs.fields import FieldSpec as F
from studio.configs.hardware import Hardware
from studio.configs.launch import default_processes
from studio.configs.schemas import LAUNCH, SCHEMAS, SECTIONS
from studio.configs.setting import (
    PRECISIONS,
    Setting,
    coerce,
    copy_value,
    read_eval_every,
    read_precision,
    setting,
    write_eval_every,
    write_precision,
)
from studio.vocab.models import TOKENIZER_DEFAULTS

STUDIO = "studio"  # the section of the studio-only settings
STORED_SECTIONS = (*SECTIONS, STUDIO)  # what a saved model keeps
EVALUATE = "evaluate"  # an evaluation's settings (an EvalRun; not stored with a model)

_BUDGET_WHY = (
    "the page starts a CPU user with a run that ends in 10 minutes (a GPU run is fast: no "
    "budget there); a hand-written run config trains the epochs it says, however long"
)
_PROCESSES_WHY = (
    "the page trains on every GPU it sees; a run config that names no number is one process "
    "(accelerate launch decides for a headless run)"
)
_PORT_WHY = (
    "the several-machines form shows the port machine 0 listens on; a run config without one "
    "lets a one-machine run pick a free port"
)
_MAIN, _LORA, _MACHINES = dict(group="main"), dict(group="lora", adapter_only=True), "machines"

_ROWS: tuple[Setting, ...] = (
    # -- the Models form, in the order its handlers receive the values (their API order) --
    setting(
        "base_model",
        "model.base_model",
        "",
        "Hugging Face model id (owner/name, or a bare name like gpt2) or a local folder",
        label="Base model (Hugging Face id or local folder)",
        group="base",
    ),
    setting("epochs", "trainer.num_train_epochs", 3.0, label="Epochs", row=1, **_MAIN,
            help="passes over the training data; Max steps, when set, stops earlier"),
    setting("learning_rate", "trainer.learning_rate", 2e-4, label="Learning rate", row=1, **_MAIN,
            help="size of each update: 1e-4 to 1e-3 suits LoRA; too high and the loss jumps"),
    setting("lr_scheduler", "trainer.lr_scheduler_type", "linear", row=1, **_MAIN,
            label="Learning-rate schedule", help="how the learning rate changes over the run"),
    # The form takes whole steps; the dict also takes a share of the run (< 1).
    setting("warmup_steps", "trainer.warmup_steps", 0, F("int", "steps of linear warm-up", min=0),
            label="Warm-up steps", row=1, **_MAIN,
            help="steps during which the learning rate ramps up from 0"),
    setting("batch_size", "trainer.per_device_train_batch_size", 8, label="Batch size", row=2,
            help="examples per step: more is steadier but needs more memory", **_MAIN),
    setting("grad_accum", "trainer.gradient_accumulation_steps", 1, row=2, **_MAIN,
            label="Gradient accumulation steps",
            help="steps added up before each update (a larger batch without the memory)"),
    setting("max_length", "tokenizer.max_length", 256, "longest example in tokens", row=2,
            label="Max sequence length (tokens)", **_MAIN,
            help="longer examples are cut to this many tokens"),
    # The form says 0 = no limit; TrainingArguments says -1. Anything else passes through
    # unchanged, so validation reports a bad value instead of it silently meaning "no limit".
    setting("max_steps", "trainer.max_steps", 0,
            F("int", "stop after this many steps (0 = no limit)", min=0),
            label="Max steps (0 = no limit)", row=2, **_MAIN,
            help="0 = run all the epochs; a number stops there, even mid-epoch",
            to_dict=lambda v: -1 if v == 0 else v, from_dict=lambda v: 0 if v == -1 else v),
    setting("lora_r", "peft.r", 8, label="LoRA r", **_LORA,
            help="adapter size: higher can learn more, and trains a little slower"),
    setting("lora_alpha", "peft.lora_alpha", 16, "LoRA alpha", label="LoRA alpha", **_LORA,
            help="scales the adapter's updates; often twice r"),
    setting("lora_dropout", "peft.lora_dropout", 0.05, "LoRA dropout", label="LoRA dropout",
            help="share of adapter inputs dropped while training, against overfitting", **_LORA),
    setting("target_modules", "peft.target_modules", ["q_proj", "v_proj"], **_LORA,
            label="LoRA target modules (comma separated, or all-linear)",
            help="which layers get an adapter"),
    setting("valid_pct", "studio.valid_pct", 10.0,
            F("float", "share of rows held out for validation (%)", min=0, max=50),
            label="Validation share (%)", row=3, **_MAIN,
            help="rows held out to measure eval loss (set by the dataset version)"),
    setting("seed", "trainer.seed", 42, label="Seed", row=3, **_MAIN,
            help="the same seed, data and settings give the same run"),
    setting("precision", "trainer.", "fp32", F("choice", "training precision", choices=PRECISIONS),
            label="Precision", row=3, **_MAIN,
            write=write_precision, read=read_precision, owns=("bf16", "fp16")),
    setting("invalid_tolerance_pct", "studio.invalid_tolerance_pct", 10.0,
            F("float", "stop when more than this % of rows were rejected", min=0, max=100),
            label="Invalid data tolerance (%)", row=4, **_MAIN,
            help="the job stops when more rows than this are rejected"),
    setting("response_only", "studio.response_only", True,
            F("bool", "learn from the response only (off: the whole text)"),
            label="Loss on the response only", row=4, **_MAIN,
            help="off: the model also learns to write the prompt"),
    setting("processes", "studio.processes", 1, LAUNCH["processes"], row=4, **_MAIN,
            label="Processes / GPUs (per machine)",
            help="training processes on each machine, one per GPU",
            page=default_processes, why=_PROCESSES_WHY),
    setting("num_machines", "studio.num_machines", 1, LAUNCH["num_machines"],
            label="Machines", help="machines training together (1: this one only)",
            group=_MACHINES),
    setting("machine_rank", "studio.machine_rank", 0, LAUNCH["machine_rank"],
            label="This machine's rank", help="this machine's number (0: the main machine)",
            group=_MACHINES),
    setting("main_address", "studio.main_address", "", LAUNCH["main_address"],
            label="Main machine address (host or IP)",
            help="host name or IP of machine 0 (several machines only)", group=_MACHINES),
    setting("main_port", "studio.main_port", None, replace(LAUNCH["main_port"], nullable=True),
            label="Main machine port", help="free TCP port on machine 0 where the processes meet",
            group=_MACHINES, page=29500, why=_PORT_WHY),
    setting("time_budget_min", "studio.time_budget_min", 0.0,
            F("float", "train for at most this many minutes: steps and learning-rate schedule "
              "are fitted to it (0 = no limit)", min=0, max=7 * 24 * 60),
            label="Train for at most N minutes (0 = no limit)", row=4, **_MAIN,
            page=lambda hw: 0.0 if hw.cuda else 10.0, why=_BUDGET_WHY),
    setting("eval_every", "trainer.", 0,
            F("int", "on the validation split; 0 = five times per run", min=0),
            label="Evaluate every N steps", row=3, **_MAIN,
            write=write_eval_every, read=read_eval_every, owns=("eval_steps",)),
    # -- no form field: the JSON editors and hand-written run configs set these ---------
    setting("logging_steps", "trainer.logging_steps", 5),
    setting("save_strategy", "trainer.save_strategy", "epoch"),
    setting("eval_strategy", "trainer.eval_strategy", "epoch"),
    setting("per_device_eval_batch_size", "trainer.per_device_eval_batch_size", 8),
    *(setting(key, f"tokenizer.{key}", value) for key, value in TOKENIZER_DEFAULTS.items()),
    # Off: with length-grouped batches packing saves little padding (bench/README.md).
    setting("packing", "studio.packing", False,
            F("bool", "pack each batch's examples into as few rows as fit max_length (causal "
              "models; same examples per step, less padding)", nullable=True)),
    setting("share_prefix", "studio.share_prefix", None,
            F("bool", "compute the prompt prefix every row of a batch shares (an instruction, "
              "a system prompt) once per batch (causal models; same loss; LoRA dropout draws "
              "one mask for it); null: wherever it applies; false: every row computes its own",
              nullable=True)),
    # Each scored row costs time out of the training budget: a sample of the validation rows.
    setting("accuracy_examples", "studio.accuracy_examples", 100,
            F("int", "validation examples the accuracy during training scores at most "
              "(classification data; 0: no accuracy during training)", min=0, max=5000)),
    setting("head_only", "studio.head_only", True,
            F("bool", "compute the language-model head and the loss only at the labelled "
              "positions (causal models, one process; same loss, a cheaper step); false: the "
              "full head", nullable=True)),
    # -- an evaluation's settings (the Evaluate tab, an evaluation run config) -----------
    setting("max_examples", "evaluate.max_examples", 200,
            F("int", "examples scored at most", min=1, max=5000), label="Max examples",
            page=100, why="a first evaluation on the page should take about a minute on a "
            "CPU; an evaluation config that names no number scores 200"),
    setting("max_new_tokens", "evaluate.max_new_tokens", 32,
            F("int", "tokens generated per answer at most", min=1, max=512),
            label="Max new tokens"),
    setting("eval_batch_size", "evaluate.batch_size", 8,
            F("int", "examples scored together", min=1, max=4096)),
)  # fmt: skip
SETTINGS: dict[str, Setting] = {row.name: row for row in _ROWS}
# The Models form's fields, in the order its handlers receive them (their API order).
FORM: tuple[Setting, ...] = tuple(r for r in _ROWS if r.label and r.section in STORED_SECTIONS)
FORM_ORDER: tuple[str, ...] = tuple(r.name for r in FORM)
HYPER_FIELDS: dict[str, F] = {r.name: r.spec for r in FORM}
# "section.key" -> the form field holding that value (problems name keys; the page, fields).
FIELD_OF: dict[str, str] = {f"{r.section}.{k}": r.name for r in FORM for k in r.keys}
# What the studio section accepts (checked like a library dict's keys).
STUDIO_SCHEMA: dict[str, F] = {r.key: r.spec for r in _ROWS if r.section == STUDIO}
ALL_SCHEMAS: dict[str, dict[str, F]] = {**SCHEMAS, STUDIO: STUDIO_SCHEMA}


def form_defaults(hardware: Hardware) -> dict[str, Any]:
    """The Models form's starting values on this machine (a template overrides some)."""
    return {r.name: copy_value(r.page_default(hardware)) for r in FORM}


def run_defaults(section: str) -> dict[str, Any]:
    """What a run config that leaves a key of `section` out gets (in the stored form)."""
    return {
        r.key: copy_value(r.to_dict(r.default))
        for r in _ROWS
        if r.section == section and r.write is None
    }


@dataclass(frozen=True)
class StudioSettings:
    """The studio-only settings of a run (the `studio` section), typed: one field per row
    of section "studio" above, whose defaults fill what a section leaves out (or sets null)."""

    valid_pct: float
    invalid_tolerance_pct: float
    response_only: bool
    processes: int
    num_machines: int
    machine_rank: int
    main_address: str
    main_port: int | None  # None: a one-machine run picks a free port
    time_budget_min: float  # 0: train the planned epochs, however long
    packing: bool
    share_prefix: bool | None  # None: wherever it applies
    accuracy_examples: int  # 0: no validation accuracy during training
    head_only: bool

    @classmethod
    def from_dict(cls, section: dict[str, Any] | None) -> StudioSettings:
        """The settings of a studio section, with the table's defaults where it has none."""
        section, defaults = section or {}, run_defaults(STUDIO)
        values = {}
        for f in fields(cls):
            value = section.get(f.name)
            values[f.name] = (
                defaults[f.name] if value is None else coerce(STUDIO_SCHEMA[f.name], value)
            )
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """The section as stored and written to a run config."""
        return {f.name: getattr(self, f.name) for f in fields(self)}
