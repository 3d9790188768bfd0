"""The one reader of a trained run: which jobs hold a usable model, and what that model is.

    model = trained_model(store, job_id)      # a TrainedModel, or a StudioError saying why not
    model.model_dir, model.is_adapter, model.meta, model.base_ref, model.layout
    model.dataset_version_id(store)           # the version it was trained on
    for model in trained_models(store, app_id): ...

A train job leaves its model in RUN_DIR/adapter (studio.jobs.run_folder); an imported
adapter is recorded as an "import" job with the same folder. Generate, Evaluate and Export
take a TrainedModel; the Evaluate tab lists them. Never imports torch.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from studio.data.example_files import ReadPolicy, read_examples
from studio.data.versions import load_examples
from studio.errors import ModelUnavailableError, NotFoundError, StudioError
from studio.jobs.run_folder import RunFolder
from studio.prompts.layout import PromptLayout, training_layout
from studio.store.job_states import ACTIVE_STATUSES, EVALUATE, IMPORT, MODEL_KINDS, SUCCEEDED


@dataclass(frozen=True)
class TrainedModel:
    """The model a succeeded train / import job left in its run folder."""

    job: dict[str, Any]
    meta: dict[str, Any] = field(default_factory=dict)  # adapter/studio.json

    @property
    def folder(self) -> RunFolder:
        return RunFolder(self.job["run_dir"])

    @property
    def job_id(self) -> str:
        return self.job["id"]

    @property
    def model_dir(self):
        """The folder to load: a LoRA adapter, or full weights (method full / scratch)."""
        return self.folder.adapter_dir

    @property
    def is_adapter(self) -> bool:
        return self.folder.holds_adapter()

    @property
    def base_ref(self) -> str:
        """The base model it was trained from (a ref studio.models.loading can load)."""
        return str(self.meta.get("base_model") or "")

    @property
    def model_type(self) -> str:
        return self.meta.get("model_type", "causal")

    @property
    def prompt_format(self) -> str:
        return self.meta.get("prompt_format", "sections")

    @property
    def max_length(self) -> int:
        return int(self.meta.get("max_length") or 0)

    @property
    def app_id(self) -> str:
        return self.job["app_id"]

    @property
    def model_id(self) -> str | None:
        """The saved model it was trained from (None for an imported adapter)."""
        return self.job.get("model_id")

    @property
    def config(self) -> dict[str, Any]:
        """The run's config.json as it was written ({} for an import without one)."""
        return self.folder.config()

    @property
    def layout(self) -> PromptLayout:
        """The section style and preamble it was trained with (studio.json, else its data)."""
        recorded = PromptLayout.from_meta(self.meta)
        if recorded is not None:
            return recorded
        data = self.config.get("data")
        train = data.get("train") if isinstance(data, dict) else None
        if train and Path(train).is_file():
            valid = str(data.get("valid") or "")
            return _files_layout(str(train), valid, Path(train).stat().st_mtime)
        return PromptLayout()

    def dataset_version_id(self, store) -> str | None:
        """The dataset version it was trained on (model row, else the run's config)."""
        return trained_version_id(store, self.job)

    def title(self, store) -> str:
        """ "name vN" of the saved model it was trained from ("" when there is none)."""
        try:
            model = store.get_model(self.model_id) if self.model_id else None
        except StudioError:
            model = None
        return f"{model['name']} v{model['version']}" if model else ""


# A guess from the data: a line that is no example is skipped, not fatal.
_LENIENT = ReadPolicy(skip_bad=True)


@lru_cache(maxsize=64)
def _files_layout(train: str, valid: str, _mtime: float) -> PromptLayout:
    """The layout of a run's training data (recorded before studio.json kept it)."""
    examples = read_examples(train, _LENIENT) + (read_examples(valid, _LENIENT) if valid else [])
    return training_layout(examples)


def holds_model(job: dict[str, Any]) -> bool:
    """Whether this job row is a succeeded train / import job with its model on disk."""
    return (
        job.get("kind") in MODEL_KINDS
        and job.get("status") == SUCCEEDED
        and bool(job.get("run_dir"))
        and RunFolder(job["run_dir"]).has_model()
    )


def trained_models(store, app_id: str | None = None) -> list[TrainedModel]:
    """Every usable trained model (of one app, or all), newest first."""
    return [
        TrainedModel(job, RunFolder(job["run_dir"]).meta())
        for job in store.list_jobs(app_id=app_id, status=(SUCCEEDED,))
        if holds_model(job)
    ]


def trained_model(store, job_id: str) -> TrainedModel:
    """The model of a succeeded train / import job; NotFoundError / ModelUnavailableError say
    how to fix a job that has none (the words Generate, Evaluate and Export show)."""
    try:
        job = store.get_job(job_id)
    except Exception:  # an unknown or malformed id reads as "no such job"
        job = None
    if job is None or job.get("kind") not in MODEL_KINDS:
        raise NotFoundError(
            f"No train or import job {job_id!r}; pick a trained model from the list."
        )
    what = "Import" if job["kind"] == IMPORT else "Train job"
    if job["status"] != SUCCEEDED:
        raise NotFoundError(
            f"{what} {job_id} is {job['status']}, not succeeded: only a finished run can "
            "generate, be evaluated or be exported. Wait for it to finish or pick another model."
        )
    folder = RunFolder(job["run_dir"])
    if not folder.has_model():
        raise ModelUnavailableError(
            f"{what} {job_id} has no model in its run folder (studio.json missing); the run "
            "folder was moved or deleted. Train (or import) it again."
        )
    return TrainedModel(job, folder.meta())


def trained_version_id(store, job: dict) -> str | None:
    """The dataset version a run was trained on (model row, else the run's config)."""
    if job.get("model_id"):
        try:
            vid = store.get_model(job["model_id"]).get("dataset_version_id")
            if vid:
                return vid
        except StudioError:
            pass
    return (RunFolder(job["run_dir"]).config().get("data") or {}).get("version_id")


def most_common_instruction(store, job: dict) -> str:
    """The instruction a trained model saw most often in training, among the first 200
    training examples ("" when it has none, or its data is gone)."""
    version_id = trained_version_id(store, job)
    try:
        examples = load_examples(store, version_id, "train", limit=200) if version_id else []
    except (StudioError, OSError):
        return ""
    counts = Counter(ex.instruction.strip() for ex in examples if ex.instruction.strip())
    return counts.most_common(1)[0][0] if counts else ""


def latest_evaluation(store, app_id: str, train_job_id: str) -> dict | None:
    """The evaluate job to show for a trained model after a reload: the newest queued or
    running one, else the newest finished one (None when it was never evaluated)."""
    jobs = [
        j
        for j in store.list_jobs(app_id, kind=EVALUATE)  # newest first
        if (j.get("params") or {}).get("train_job_id") == train_job_id
    ]
    live = [j for j in jobs if j["status"] in ACTIVE_STATUSES]
    return (live or jobs or [None])[0]
