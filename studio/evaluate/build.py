"""Build an evaluation run's config (RUN_DIR/config.json for kind "evaluate").

    cfg = build_eval_config(store, settings, train_job_id, metrics=["perplexity", "batch"])
    job = runner.submit(app_id, model_id, kind="evaluate", config=cfg)

The config names everything the child needs; it never has to guess from the page:
{"kind": "evaluate", "model_ref": "job:<id>", "adapter_dir", "train_job_id", "train_run_dir",
 "app_id", "model_id", "dataset_version_id", "examples": jsonl path or "", "prompts_file",
 "split", "labels", "metrics", "max_examples", "max_new_tokens", "batch_size",
 "studio_home", "models_dir"}: studio.configs.runs.EvalRun, which the child reads back.
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path
from typing import Any

from studio.configs.eval_run import EVAL_METRICS, EvalRun, eval_settings_problems
from studio.data.versions import version_folder
from studio.errors import ConfigError, NotFoundError, StudioError
from studio.jobs.run_folder import RunFolder
from studio.jobs.trained import trained_job, trained_version_id
from studio.settings import Settings

METRICS = EVAL_METRICS
DEFAULT_METRICS = EVAL_METRICS


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
    job_id: str,
    dataset_version_id: str | None = None,
    metrics: list[str] | tuple[str, ...] = DEFAULT_METRICS,
    prompts_file: str | Path | None = None,
    max_examples: int = 200,
    max_new_tokens: int = 32,
    batch_size: int = 8,
) -> dict[str, Any]:
    """The config for `runner.submit(app_id, model_id, "evaluate", config)` (an EvalRun's
    dict); ConfigError lists every problem with the metrics and limits."""
    limits = {"max_examples": max_examples, "max_new_tokens": max_new_tokens}
    problems = eval_settings_problems(metrics, {**limits, "batch_size": batch_size})
    if problems:
        raise ConfigError(problems)
    job = trained_job(store, job_id)
    run = EvalRun(
        adapter_dir=str(RunFolder(job["run_dir"]).adapter_dir),
        metrics=list(dict.fromkeys(metrics)),
        model_ref=f"job:{job_id}",
        train_job_id=job_id,
        train_run_dir=job["run_dir"],
        app_id=job["app_id"],
        model_id=job.get("model_id"),
        max_examples=int(max_examples),
        max_new_tokens=int(max_new_tokens),
        batch_size=int(batch_size),
        studio_home=str(settings.home),
        models_dir=str(settings.models_dir),
    )
    if prompts_file:
        run.prompts_file = _keep_upload(settings, job["app_id"], prompts_file)
        return run.to_dict()
    vid = dataset_version_id or trained_version_id(store, job)
    if not vid:
        raise StudioError(
            "This model has no dataset version to evaluate on: pick a dataset version or "
            "upload a prompts file."
        )
    if vid not in {v["id"] for v in store.list_dataset_versions(job["app_id"])}:
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
