"""The training child's checks and settings beyond the run config itself.

The run config is read and checked by studio.configs.runs.TrainRun (every problem in one
ConfigError, the same refusals as the page); here: the rejected-rows gate and the Settings
the child resolves models with.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from studio.configs.tolerance import rejected_share_problem
from studio.errors import DataError
from studio.settings import Settings


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
