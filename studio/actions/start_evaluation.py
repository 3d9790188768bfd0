"""Start an evaluation: the run config of an evaluation of a trained model, then its job.

    job = start_evaluation(store, settings, runner, caller, app_id, job_id, version_id, ...)
    cfg = build_eval_config(store, settings, model, metrics=["perplexity", "batch"])

The config names everything the evaluation process needs; it never has to guess from the
page: studio.configs.eval_run.EvalRun ({"kind": "evaluate", "model_ref": "job:<id>",
"adapter_dir", "train_job_id", "train_run_dir", "app_id", "model_id", "dataset_version_id",
"examples": jsonl path or "", "prompts_file", "split", "labels", "metrics", "max_examples",
"max_new_tokens", "batch_size", "studio_home", "models_dir"}), which it reads back.
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path
from typing import Any

from studio.actions.export import owned_trained_model
from studio.actions.ownership import Caller
from studio.configs.eval_run import EVAL_METRICS, EvalRun, eval_settings_problems
from studio.configs.table import SETTINGS
from studio.data.versions import version_folder
from studio.errors import ConfigError, NotFoundError, StudioError
from studio.jobs.trained import TrainedModel
from studio.settings import Settings
from studio.store.job_states import EVALUATE

DEFAULT_METRICS = EVAL_METRICS


def start_evaluation(
    store,
    settings: Settings,
    runner,
    caller: Caller,
    app_id: str,
    job_id: str | None,
    dataset_version_id: str | None = None,
    metrics: list[str] | tuple[str, ...] = DEFAULT_METRICS,
    prompts_file: str | Path | None = None,
    max_examples: int = SETTINGS["max_examples"].default,
    max_new_tokens: int = SETTINGS["max_new_tokens"].default,
) -> dict:
    """Queue an evaluation of one of the app's trained models: the evaluation's job row."""
    model = owned_trained_model(store, caller, app_id, job_id)
    cfg = build_eval_config(
        store,
        settings,
        model,
        dataset_version_id=dataset_version_id,
        metrics=metrics,
        prompts_file=prompts_file,
        max_examples=max_examples,
        max_new_tokens=max_new_tokens,
    )
    ev = runner.submit(app_id, model.model_id, EVALUATE, cfg, params={"train_job_id": model.job_id})
    store.log_activity(
        app_id, caller.owner, "evaluated", f"evaluation job {ev['id']} of job {model.job_id}"
    )
    return ev


def _keep_upload(settings: Settings, app_id: str, path: str | Path) -> str:
    """Copy an uploaded prompts file into the app's folder (Gradio's temp copy may vanish)."""
    src = Path(path)
    if not src.is_file():
        raise StudioError(f"The prompts file {src.name} could not be read; upload it again.")
    limit = settings.max_upload_mb * 1024 * 1024
    if src.stat().st_size > limit:
        raise StudioError(
            f"The prompts file is larger than the {settings.max_upload_mb} MB upload limit."
        )
    folder = settings.app_dir(app_id) / "eval_inputs"
    folder.mkdir(parents=True, exist_ok=True)
    dest = folder / f"{uuid.uuid4().hex[:12]}{src.suffix.lower()}"
    shutil.copyfile(src, dest)
    return str(dest)


def build_eval_config(
    store,
    settings: Settings,
    model: TrainedModel,
    dataset_version_id: str | None = None,
    metrics: list[str] | tuple[str, ...] = DEFAULT_METRICS,
    prompts_file: str | Path | None = None,
    max_examples: int = SETTINGS["max_examples"].default,
    max_new_tokens: int = SETTINGS["max_new_tokens"].default,
    batch_size: int = SETTINGS["eval_batch_size"].default,
) -> dict[str, Any]:
    """The config for `runner.submit(app_id, model_id, "evaluate", config)` (an EvalRun's
    dict); ConfigError lists every problem with the metrics and limits."""
    limits = {"max_examples": max_examples, "max_new_tokens": max_new_tokens}
    problems = eval_settings_problems(metrics, {**limits, "batch_size": batch_size})
    if problems:
        raise ConfigError(problems)
    run = EvalRun(
        adapter_dir=str(model.model_dir),
        metrics=list(dict.fromkeys(metrics)),
        model_ref=f"job:{model.job_id}",
        train_job_id=model.job_id,
        train_run_dir=str(model.folder.path),
        app_id=model.app_id,
        model_id=model.model_id,
        max_examples=int(max_examples),
        max_new_tokens=int(max_new_tokens),
        batch_size=int(batch_size),
        studio_home=str(settings.home),
        models_dir=str(settings.models_dir),
    )
    if prompts_file:
        run.prompts_file = _keep_upload(settings, model.app_id, prompts_file)
        return run.to_dict()
    vid = dataset_version_id or model.dataset_version_id(store)
    if not vid:
        raise StudioError(
            "This model has no dataset version to evaluate on: pick a dataset version or "
            "upload a prompts file."
        )
    if vid not in {v["id"] for v in store.list_dataset_versions(model.app_id)}:
        raise NotFoundError(
            f"Dataset version {vid} is not part of this app; pick one from the list."
        )
    version = store.get_dataset_version(vid)
    folder = version_folder(store, version)
    stats = version.get("stats") or {}
    valid, train = folder / "valid.jsonl", folder / "train.jsonl"
    has_valid = valid.is_file() and valid.stat().st_size > 0
    # With no validation split, the training rows are the only data (said so in the results).
    run.dataset_version_id, run.task = vid, stats.get("task", "")
    run.examples, run.split = str(valid if has_valid else train), "valid" if has_valid else "train"
    run.labels = list(stats.get("labels") or [])
    return run.to_dict()
