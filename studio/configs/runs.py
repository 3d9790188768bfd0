"""The two run configs (RUN_DIR/config.json): what the page writes and the child process reads.

    run = TrainRun.from_json(run_dir / "config.json")   # ConfigError listing every problem
    cfg = run.to_dict()                                  # the dict the training code reads
    EvalRun.from_dict(build_eval_config(...))            # the evaluation's, alike

One set of defaults lives here (a hand-written config may leave them out). A hand-written
config for the headless command gets the same refusals as the page (trust_remote_code,
output_dir, callbacks, hub keys...: studio.configs.schemas.REFUSED). Keys a config carries
that this version does not know are kept as they were (`extra`) and written back.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from studio.configs.schemas import refused
from studio.configs.training_args import TRAINER_DEFAULTS
from studio.errors import ConfigError
from studio.store.job_states import EVALUATE, TRAIN
from studio.vocab.models import ADAPTER_METHODS, METHODS, MODEL_TYPES, TOKENIZER_DEFAULTS

SECTIONS = ("model", "quantization", "peft", "tokenizer", "trainer")
DATA_DEFAULTS = {"response_only": True, "seed": 42, "valid_pct": 10.0}
INVALID_TOLERANCE_PCT = 10.0

EVAL_METRICS = ("perplexity", "classification", "text", "batch")
MAX_EXAMPLES_LIMIT = 5000
MAX_NEW_TOKENS_LIMIT = 512


def _read(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path} is missing; the job runner writes it before launching.")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path} is not valid JSON ({exc}); write it again.") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a JSON object; write it again.")
    return data


def _split(cls, data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    names = {f.name for f in fields(cls)} - {"extra"}
    known = {k: v for k, v in data.items() if k in names}
    return known, {k: v for k, v in data.items() if k not in names}


@dataclass
class TrainRun:
    """A training run: the base, the method, the five config dicts and the data."""

    model_type: str  # one of studio.vocab.models.MODEL_TYPES
    method: str  # one of studio.vocab.models.METHODS: what training will really do
    base_model: str  # a model ref (studio.models.resolve)
    data: dict[str, Any]  # train / valid jsonl paths, version_id, n_rows, n_rejected, split
    template: str = ""  # the template key the model was made from
    model: dict[str, Any] = field(default_factory=dict)
    quantization: dict[str, Any] = field(default_factory=dict)
    peft: dict[str, Any] = field(default_factory=dict)
    tokenizer: dict[str, Any] = field(default_factory=dict)  # over TOKENIZER_DEFAULTS
    trainer: dict[str, Any] = field(default_factory=dict)  # over TRAINER_DEFAULTS
    invalid_tolerance_pct: float = INVALID_TOLERANCE_PCT  # % of rejected rows allowed
    time_budget_min: float = 0.0  # 0: train the planned epochs, however long
    studio_home: str = ""  # where the child resolves models and caches
    models_dir: str = ""
    model_id: str = ""  # the saved model row this run trains
    model_name: str = ""
    job_id: str = ""  # added by the job runner
    run_dir: str = ""
    kind: str = TRAIN
    resume: bool = False  # continue from the last checkpoint
    debug: dict[str, Any] = field(default_factory=dict)  # tests: stop_after_step, log_batches
    extra: dict[str, Any] = field(default_factory=dict)  # keys this version does not know

    @classmethod
    def from_json(cls, path: str | Path) -> TrainRun:
        """Read RUN_DIR/config.json; raises ConfigError listing every problem."""
        return cls.from_dict(_read(path))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainRun:
        """Check a config dict and fill in the defaults; ConfigError lists every problem."""
        problems = cls.problems(data)
        if problems:
            raise ConfigError(problems)
        known, extra = _split(cls, data)
        known["tokenizer"] = {**TOKENIZER_DEFAULTS, **(known.get("tokenizer") or {})}
        known["trainer"] = {**TRAINER_DEFAULTS, **(known.get("trainer") or {})}
        known["data"] = {**DATA_DEFAULTS, **(known.get("data") or {})}
        for section in ("model", "quantization", "peft", "debug"):
            known[section] = known.get(section) or {}
        if known.get("invalid_tolerance_pct") is None:
            known["invalid_tolerance_pct"] = INVALID_TOLERANCE_PCT
        return cls(**known, extra=extra)

    @staticmethod
    def problems(data: dict[str, Any]) -> list[str]:
        """Every problem of a train config dict, each naming its key (empty when fine)."""
        problems = []
        if data.get("model_type") not in MODEL_TYPES:
            problems.append(
                f"model_type must be one of {tuple(MODEL_TYPES)}, got {data.get('model_type')!r}"
            )
        if data.get("method") not in METHODS:
            problems.append(f"method must be one of {tuple(METHODS)}, got {data.get('method')!r}")
        if not data.get("base_model"):
            problems.append("base_model is empty: name a model folder, Hub id or packaged model")
        files = data.get("data") or {}
        if not isinstance(files, dict):
            problems.append("data must be a JSON object")
            files = {}
        if not files.get("train"):
            problems.append("data.train (the path of train.jsonl) is missing")
        elif not Path(files["train"]).is_file():
            problems.append(f"data.train {files['train']} does not exist; add the dataset again")
        if data.get("method") in ADAPTER_METHODS and not data.get("peft"):
            problems.append(f"method {data.get('method')} needs LoRA settings in the peft dict")
        for section in SECTIONS:
            if not isinstance(data.get(section, {}), dict):
                problems.append(f"{section} must be a JSON object")
            else:
                problems += refused(section, data.get(section) or {})
        if not isinstance(data.get("debug", {}) or {}, dict):
            problems.append("debug must be a JSON object")
        return problems

    def to_dict(self) -> dict[str, Any]:
        """The config.json content (what the training code reads)."""
        out = asdict(self)
        return {**out.pop("extra"), **out}


@dataclass
class EvalRun:
    """An evaluation run: which trained model, on which examples, with which metrics."""

    adapter_dir: str  # the trained model's folder (studio.jobs.run_folder.RunFolder)
    metrics: list[str] = field(default_factory=lambda: list(EVAL_METRICS))
    model_ref: str = ""  # "job:<train job id>"
    train_job_id: str = ""
    train_run_dir: str = ""
    app_id: str = ""
    model_id: str | None = None
    dataset_version_id: str | None = None
    examples: str = ""  # a dataset split's jsonl, or "" with prompts_file
    prompts_file: str = ""  # an uploaded prompts file (copied into the app's folder)
    split: str = ""  # "valid" | "train" | "" (uploaded prompts)
    labels: list[str] = field(default_factory=list)  # the dataset's classification labels
    task: str = ""  # the dataset's task type ("classification", ...)
    max_examples: int = 200
    max_new_tokens: int = 32
    batch_size: int = 8
    studio_home: str = ""
    models_dir: str = ""
    job_id: str = ""  # added by the job runner
    run_dir: str = ""
    kind: str = EVALUATE
    extra: dict[str, Any] = field(default_factory=dict)  # keys this version does not know

    @classmethod
    def from_json(cls, path: str | Path) -> EvalRun:
        """Read RUN_DIR/config.json; raises ConfigError listing every problem."""
        return cls.from_dict(_read(path))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EvalRun:
        """Check an evaluation config dict and fill in the defaults."""
        problems = cls.problems(data)
        if problems:
            raise ConfigError(problems)
        known, extra = _split(cls, data)
        for key in ("max_examples", "max_new_tokens", "batch_size"):
            if known.get(key) is None or known.get(key) == 0:
                known.pop(key, None)  # 0 / null mean "the default", as before
        known = {k: v for k, v in known.items() if v is not None or k.endswith("_id")}
        run = cls(**known, extra=extra)
        run.metrics = list(dict.fromkeys(run.metrics))
        run.labels = [str(x) for x in run.labels or []]
        for key in ("max_examples", "max_new_tokens", "batch_size"):
            setattr(run, key, int(getattr(run, key)))
        return run

    @staticmethod
    def problems(data: dict[str, Any]) -> list[str]:
        """Every problem of an evaluation config dict (empty when fine)."""
        problems = []
        if not data.get("adapter_dir"):
            problems.append("config.json has no adapter_dir: build it with build_eval_config.")
        metrics = data.get("metrics", list(EVAL_METRICS))
        if not isinstance(metrics, list | tuple):
            problems.append("metrics must be a list")
            metrics = []
        problems += eval_settings_problems(
            metrics, data.get("max_examples") or 200, data.get("max_new_tokens") or 32
        )
        batch = data.get("batch_size") or 8
        if not _is_int(batch) or int(batch) < 1:
            problems.append(f"batch_size must be a whole number of at least 1, got {batch!r}")
        if not isinstance(data.get("labels") or [], list):
            problems.append("labels must be a list")
        return problems

    def to_dict(self) -> dict[str, Any]:
        """The config.json content."""
        out = asdict(self)
        return {**out.pop("extra"), **out}


def _is_int(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    try:
        return float(value) == int(value)
    except (TypeError, ValueError, OverflowError):
        return False


def eval_settings_problems(
    metrics: list[str] | tuple[str, ...], max_examples: Any, max_new_tokens: Any
) -> list[str]:
    """What is wrong with the metrics and limits a user chose for an evaluation."""
    problems = [
        f"unknown metric {m!r}; use {', '.join(EVAL_METRICS)}"
        for m in metrics
        if m not in EVAL_METRICS
    ]
    if not metrics:
        problems.append("choose at least one metric")
    if not _is_int(max_examples) or not 1 <= int(max_examples) <= MAX_EXAMPLES_LIMIT:
        problems.append(f"max_examples must be between 1 and {MAX_EXAMPLES_LIMIT}")
    if not _is_int(max_new_tokens) or not 1 <= int(max_new_tokens) <= MAX_NEW_TOKENS_LIMIT:
        problems.append(f"max_new_tokens must be between 1 and {MAX_NEW_TOKENS_LIMIT}")
    return problems
