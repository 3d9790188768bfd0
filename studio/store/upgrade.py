"""Settings written before the studio section existed, read as they meant.

Until then the studio-only settings had three homes: the form's values (`hyper`, stored
beside the five dicts), keys of the trainer dict (launch, packing, share_prefix) and top-level
keys of a run config (invalid_tolerance_pct, time_budget_min, head_only; response_only in
its data). A saved model (the store's migration 2 -> 3, studio.store.schema) and a run config
written then (a job resumed after an upgrade, a hand-written config: studio.configs.runs)
move them into the studio section with the same rule; nothing else changes.
"""

from __future__ import annotations

import copy
from typing import Any

# Frozen history: the keys as they were, not as the settings table lists them today.
OLD_TRAINER_KEYS = (
    "processes",
    "num_machines",
    "machine_rank",
    "main_address",
    "main_port",
    "packing",
    "share_prefix",
)
OLD_RUN_KEYS = ("invalid_tolerance_pct", "time_budget_min", "head_only")
OLD_FORM_KEYS = ("valid_pct", "invalid_tolerance_pct", "response_only", "time_budget_min")


def _move_trainer_keys(config: dict[str, Any], studio: dict[str, Any]) -> None:
    trainer = config.get("trainer")
    if isinstance(trainer, dict):
        for key in OLD_TRAINER_KEYS:
            if key in trainer:
                studio[key] = trainer.pop(key)


def _has_old_keys(data: dict[str, Any]) -> bool:
    trainer = data.get("trainer") if isinstance(data.get("trainer"), dict) else {}
    return any(k in data for k in OLD_RUN_KEYS) or any(k in trainer for k in OLD_TRAINER_KEYS)


def upgrade_run_config(data: dict[str, Any]) -> dict[str, Any]:
    """A run config in today's shape (a copy; one already in it is returned as it is).

    A config with a studio section and an old key beside it (a hand-written one mixing the
    two shapes) gets the old key moved in too; the studio section's own value wins."""
    if "studio" in data and not _has_old_keys(data):
        return data
    data = copy.deepcopy(data)
    studio: dict[str, Any] = {}
    for key in OLD_RUN_KEYS:
        if key in data:
            studio[key] = data.pop(key)
    _move_trainer_keys(data, studio)
    files = data.get("data")
    if isinstance(data.get("studio"), dict):
        data["studio"] = {**studio, **data["studio"]}
        return data
    if isinstance(files, dict):
        if "response_only" in files:
            studio["response_only"] = files.pop("response_only")
        if "valid_pct" in files:  # the share it trains with (the model's when it re-split)
            studio["valid_pct"] = files["valid_pct"]
    data["studio"] = studio
    return data


def upgrade_model_config(config: dict[str, Any]) -> dict[str, Any]:
    """A saved model's config in today's shape: the five dicts and the studio section, the
    form's values (`hyper`) gone (each is stored in its section already, written there when
    it was saved, or is one of the studio settings moved here)."""
    if "hyper" not in config and "studio" in config:
        return config
    config = copy.deepcopy(config)
    hyper = config.pop("hyper", None) or {}
    studio = dict(config.get("studio") or {})
    for key in OLD_FORM_KEYS:
        if key in hyper:
            studio[key] = hyper[key]
    _move_trainer_keys(config, studio)
    config["studio"] = studio
    return config
