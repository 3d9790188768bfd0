"""The settings table, schemas and validation of the stored sections, the form, run configs.

from studio.configs import SETTINGS, validate, check, apply_hyperparameters, TrainRun
"""

from __future__ import annotations

from studio.configs.defaults import default_dicts, default_hyper, template_availability
from studio.configs.eval_run import EvalRun
from studio.configs.fields import FieldSpec, check_value
from studio.configs.hardware import CPU_ONLY, Hardware, detect_hardware
from studio.configs.hyper import (
    apply_hyperparameters,
    hyperparameters_from_dicts,
    parse_target_modules,
)
from studio.configs.runs import RunConfig, RunData, TrainRun
from studio.configs.saving import model_config, split_config
from studio.configs.schemas import REFUSED, SCHEMAS, SECTIONS, library_keys
from studio.configs.setting import PRECISIONS, Setting
from studio.configs.table import (
    FORM_ORDER,
    HYPER_FIELDS,
    SETTINGS,
    STORED_SECTIONS,
    STUDIO,
    StudioSettings,
)
from studio.configs.tolerance import rejected_share, rejected_share_problem
from studio.configs.validate import check, validate

__all__ = [
    "CPU_ONLY",
    "FORM_ORDER",
    "HYPER_FIELDS",
    "PRECISIONS",
    "REFUSED",
    "SCHEMAS",
    "SECTIONS",
    "SETTINGS",
    "STORED_SECTIONS",
    "STUDIO",
    "EvalRun",
    "FieldSpec",
    "Hardware",
    "RunConfig",
    "RunData",
    "Setting",
    "StudioSettings",
    "TrainRun",
    "apply_hyperparameters",
    "check",
    "check_value",
    "default_dicts",
    "default_hyper",
    "detect_hardware",
    "hyperparameters_from_dicts",
    "library_keys",
    "model_config",
    "parse_target_modules",
    "rejected_share",
    "rejected_share_problem",
    "split_config",
    "template_availability",
    "validate",
]
