"""An evaluation's run config (RUN_DIR/config.json of an "evaluate" job), typed.

    run = EvalRun.from_json(run_dir / "config.json")   # ConfigError listing every problem

Shares RunConfig with TrainRun (studio.configs.runs); its limits (max_examples,
max_new_tokens, batch_size) are rows of the settings table (studio.configs.table).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from studio.configs.fields import value_problem
from studio.configs.runs import RunConfig
from studio.configs.table import EVALUATE, SETTINGS
from studio.errors import ConfigError, Problem
from studio.store.job_states import EVALUATE as EVALUATE_KIND

EVAL_METRICS = ("perplexity", "classification", "text", "batch")
_EVAL = {r.key: r for r in SETTINGS.values() if r.section == EVALUATE}


@dataclass(kw_only=True)
class EvalRun(RunConfig):
    """An evaluation run: which trained model, on which examples, with which metrics."""

    adapter_dir: str  # the trained model's folder (studio.jobs.run_folder.RunFolder)
    kind: str = EVALUATE_KIND
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
    max_examples: int = _EVAL["max_examples"].default
    max_new_tokens: int = _EVAL["max_new_tokens"].default
    batch_size: int = _EVAL["batch_size"].default

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EvalRun:
        """Check an evaluation config dict and fill in the defaults."""
        problems = cls.problems(data)
        if problems:
            raise ConfigError(problems)
        known, extra = cls._split(data)
        for key in _EVAL:
            if known.get(key) in (None, 0):
                known.pop(key, None)  # 0 / null mean "the default", as before
        known = {k: v for k, v in known.items() if v is not None or k.endswith("_id")}
        run = cls(**known, extra=extra)
        run.metrics = list(dict.fromkeys(run.metrics))
        run.labels = [str(x) for x in run.labels or []]
        for key in _EVAL:
            setattr(run, key, int(getattr(run, key)))
        return run

    @staticmethod
    def problems(data: dict[str, Any]) -> list[Problem]:
        """Every problem of an evaluation config dict (empty when fine)."""
        problems = []
        if not data.get("adapter_dir"):
            problems.append(
                Problem("adapter_dir", "is missing: start the evaluation from the Evaluate tab")
            )
        metrics = data.get("metrics", list(EVAL_METRICS))
        if not isinstance(metrics, list | tuple):
            problems.append(Problem("metrics", "must be a list"))
            metrics = []
        limits = {k: data.get(k) or _EVAL[k].default for k in _EVAL}
        problems += eval_settings_problems(metrics, limits)
        if not isinstance(data.get("labels") or [], list):
            problems.append(Problem("labels", "must be a list"))
        return problems


def _whole(value: Any) -> Any:
    """A whole number given as 3.0 or "3" is 3; anything else is left for the check."""
    if isinstance(value, bool):
        return value
    try:
        return int(value) if float(value) == int(value) else value
    except (TypeError, ValueError, OverflowError):
        return value


def eval_settings_problems(
    metrics: list[str] | tuple[str, ...], limits: dict[str, Any]
) -> list[Problem]:
    """What is wrong with the metrics and limits (max_examples, max_new_tokens, batch_size:
    the settings table's rows) a user chose for an evaluation."""
    problems = [
        Problem("metrics", f"unknown metric {m!r}; use {', '.join(EVAL_METRICS)}")
        for m in metrics
        if m not in EVAL_METRICS
    ]
    if not metrics:
        problems.append(Problem("metrics", "choose at least one metric"))
    for key, value in limits.items():
        if message := value_problem(_EVAL[key].spec, _whole(value)):
            problems.append(Problem(key, message))
    return problems
