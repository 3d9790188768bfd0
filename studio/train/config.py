"""Read and check RUN_DIR/config.json before anything heavy is loaded.

The config is the shared train-run contract (model_type, method, base_model, the five dicts,
data, invalid_tolerance_pct, studio_home, models_dir). Every problem is collected into one
ConfigError so the user fixes them all at once. A hand-written config for the headless
command gets the same refusals as the page (trust_remote_code, output_dir, callbacks, hub
keys...: studio.configs.schemas.REFUSED).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from studio.configs.schemas import refused
from studio.configs.tolerance import rejected_share_problem
from studio.configs.training_args import KEEP_CHECKPOINTS, TRAINER_DEFAULTS  # noqa: F401
from studio.errors import ConfigError, DataError
from studio.jobs.files import CONFIG_FILE
from studio.settings import Settings
from studio.vocab.models import ADAPTER_METHODS, METHODS, MODEL_TYPES, TOKENIZER_DEFAULTS


def read_config(run_dir: Path) -> dict[str, Any]:
    """The run config with defaults filled in; raises ConfigError listing every problem."""
    path = Path(run_dir) / CONFIG_FILE
    if not path.is_file():
        raise ConfigError(f"{path} is missing; the job runner writes it before launching.")
    try:
        cfg = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path} is not valid JSON ({exc}); write it again.") from exc
    problems = []
    if cfg.get("model_type") not in MODEL_TYPES:
        problems.append(
            f"model_type must be one of {tuple(MODEL_TYPES)}, got {cfg.get('model_type')!r}"
        )
    if cfg.get("method") not in METHODS:
        problems.append(f"method must be one of {tuple(METHODS)}, got {cfg.get('method')!r}")
    if not cfg.get("base_model"):
        problems.append("base_model is empty: name a model folder, Hub id or packaged model")
    data = cfg.get("data") or {}
    if not data.get("train"):
        problems.append("data.train (the path of train.jsonl) is missing")
    elif not Path(data["train"]).is_file():
        problems.append(f"data.train {data['train']} does not exist; add the dataset again")
    if cfg.get("method") in ADAPTER_METHODS and not cfg.get("peft"):
        problems.append(f"method {cfg.get('method')} needs LoRA settings in the peft dict")
    for section in ("model", "quantization", "peft", "tokenizer", "trainer"):
        if not isinstance(cfg.get(section, {}), dict):
            problems.append(f"{section} must be a JSON object")
        else:
            problems += refused(section, cfg.get(section) or {})
    if problems:
        raise ConfigError(problems)
    cfg["tokenizer"] = {**TOKENIZER_DEFAULTS, **(cfg.get("tokenizer") or {})}
    cfg["trainer"] = {**TRAINER_DEFAULTS, **(cfg.get("trainer") or {})}
    cfg.setdefault("model", {})
    cfg.setdefault("quantization", {})
    cfg.setdefault("peft", {})
    cfg["data"] = {"response_only": True, "seed": 42, "valid_pct": 10.0, **data}
    cfg.setdefault("invalid_tolerance_pct", 10.0)
    return cfg


def check_rejected_share(cfg: dict[str, Any]) -> None:
    """Raise a DataError when more rows were rejected than the tolerance allows."""
    data = cfg["data"]
    what = "the dataset version" if data.get("version_id") else "the dataset"
    problem = rejected_share_problem(
        int(data.get("n_rows") or 0),
        int(data.get("n_rejected") or 0),
        float(cfg.get("invalid_tolerance_pct", 10.0)),
        what=what,
    )
    if problem:
        raise DataError(problem)


def settings_for(cfg: dict[str, Any]) -> Settings:
    """Settings for resolving models in the child, from the paths the parent wrote."""
    overrides: dict[str, Any] = {}
    if cfg.get("studio_home"):
        overrides["home"] = Path(cfg["studio_home"])
    if cfg.get("models_dir"):
        overrides["models_root"] = Path(cfg["models_dir"])
    return Settings.from_env(**overrides)
