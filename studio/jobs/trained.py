"""Which jobs hold a usable model, and what that model is.

    model = trained_model(store, job_id)      # a TrainedModel, or a StudioError saying why not
    model.model_dir, model.is_adapter, model.meta, model.base_ref, model.layout
    model.dataset_version_id(store)           # the version it was trained on
    for model in trained_models(store, app_id): ...

A train job leaves its model in RUN_DIR/adapter (studio.jobs.run_folder); an imported
adapter is recorded as an "import" job with the same folder. Generate, Evaluate, Export and
the Evaluate tab all ask here. Never imports torch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from studio.errors import ModelUnavailableError, NotFoundError, StudioError
from studio.jobs.run_folder import RunFolder
from studio.prompts.layout import PromptLayout, layout_for
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
    def layout(self) -> PromptLayout:
        """The section style and preamble it was trained with (studio.json, else its data)."""
        if PromptLayout.from_meta(self.meta) is not None:
            return layout_for(self.meta)
        return layout_for(self.meta, self.folder.config().get("data"))

    def dataset_version_id(self, store) -> str | None:
        """The dataset version it was trained on (model row, else the run's config)."""
        return trained_version_id(store, self.job)


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


def trained_job(store, job_id: str) -> dict:
    """A succeeded train/import job whose RUN_DIR/adapter exists, or a StudioError saying why
    (the wording Evaluate and Export show)."""
    job = store.get_job(job_id)
    if job["kind"] not in MODEL_KINDS:
        raise NotFoundError(f"Job {job_id} is a {job['kind']} job, not a trained model.")
    if job["status"] != SUCCEEDED:
        raise StudioError(
            f"Training job {job_id} is {job['status']}: only finished (succeeded) runs can be "
            "evaluated or exported. Wait for it to finish or pick another model."
        )
    adapter = RunFolder(job["run_dir"]).adapter_dir
    if not adapter.is_dir():
        raise NotFoundError(
            f"Job {job_id} has no trained model at {adapter}; the run folder was moved or "
            "deleted. Train again."
        )
    return job


def trained_model(store, job_id: str) -> TrainedModel:
    """The model of a succeeded train/import job, for generation; NotFoundError /
    ModelUnavailableError say how to fix a job that has none."""
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
            f"{what} {job_id} is {job['status']}, not succeeded: only finished training runs "
            "can generate. Wait for it to finish or pick another model."
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
