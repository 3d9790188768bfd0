"""Start training: can this saved model train here, and with what; then queue its job.

    job = start_training(store, settings, runner, caller, app_id, model_id)
    config = check_trainable(store, settings, model_id)    # a StudioError naming the reason
    config = build_train_config(store, settings, model_id) # the run's config.json (a TrainRun)

The checks probe what a run needs (the base model here, or the Hub reachable to download
it; CUDA for 4 bits; the dataset version's files and rejected share), so a job that would
fail at start is refused before it is queued.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

from studio.actions.ownership import Caller, owned_app, owned_model
from studio.configs.defaults import template_availability, trained_method
from studio.configs.hardware import Hardware, detect_hardware
from studio.configs.runs import RunData, TrainRun
from studio.configs.saving import model_config, split_config
from studio.configs.table import STUDIO
from studio.configs.tolerance import rejected_share_problem
from studio.configs.validate import check
from studio.data.versions import version_folder
from studio.errors import DataError, ModelUnavailableError, StudioError
from studio.jobs.limits import check_storage
from studio.models.resolve import PACKAGED_REF, hub_reachable, is_hub_id
from studio.settings import Settings
from studio.store import Store
from studio.store.job_states import ACTIVE_STATUSES, TRAIN
from studio.templates import get_template


def start_training(
    store: Store,
    settings: Settings,
    runner,
    caller: Caller,
    app_id: str,
    model_id: str | None,
    hardware: Hardware | None = None,
    hub_token: str | None = None,
) -> dict:
    """Queue a training job of the app's saved model: the job row (status queued).

    `hub_token` (the signed-in user's Hugging Face token) reaches the job's environment only,
    for a base it downloads first (a gated model the user was granted)."""
    owned_app(store, caller, app_id)
    owned_model(
        store,
        caller,
        app_id,
        model_id,
        "Choose a model configuration to train (save one in the Models tab).",
    )
    same = next(
        (j for j in store.list_jobs(app_id, ACTIVE_STATUSES, TRAIN) if j["model_id"] == model_id),
        None,
    )
    if same is not None:
        # A second click during a run would queue the same training again, unnoticed.
        raise StudioError(
            f"Job {same['id']} is already {same['status']} with this configuration; it is "
            "shown below. Wait for it to finish, or press Cancel first to start it again."
        )
    config = check_trainable(store, settings, model_id, hardware)
    check_storage(store, settings, caller.owner)
    env = {"HF_TOKEN": hub_token} if hub_token else None
    job = runner.submit(app_id, model_id, TRAIN, config, env=env)
    store.log_activity(app_id, caller.owner, "trained", f"job {job['id']} of model {model_id}")
    return job


def version_dir(store: Store, app_id: str, version_id: str) -> Path:
    """The dataset version's folder: <apps_dir>/<app_id>/datasets/<version_id>/."""
    return store.app_dir(app_id) / "datasets" / version_id


def build_train_config(store: Store, settings: Settings, model_id: str) -> dict[str, Any]:
    """The RUN_DIR/config.json content for training this saved model: a TrainRun's dict
    (studio.configs.runs), which the training process reads back."""
    row = store.get_model(model_id)
    template = get_template(row["template"])
    # As the Models tab shows it: a form field whose key the sections lack (a model saved
    # before the field existed) has the page's starting value.
    sections = model_config(*split_config(row["config"], row["template"]))
    if not row["dataset_version_id"]:
        raise StudioError(
            f"Model {row['name']} v{row['version']} has no dataset version; clone it in the "
            "Models tab, choose a dataset version and save."
        )
    version = store.get_dataset_version(row["dataset_version_id"])
    folder = version_dir(store, row["app_id"], version["id"])
    if not (folder / "train.jsonl").is_file() and version.get("path"):
        folder = version_folder(store, version)  # versions written before the layout was fixed
    train, valid = folder / "train.jsonl", folder / "valid.jsonl"
    if not train.is_file():
        raise DataError(
            f"The files of dataset version {version['id']} are missing ({train}); add the "
            "dataset again in the Inputs tab."
        )
    base = sections["model"].get("base_model") or template.base_model
    studio = sections[STUDIO]
    data = RunData(
        version_id=version["id"],
        train=str(train.resolve()),
        valid=str(valid.resolve()),
        n_rows=int(version["n_rows"]),
        n_rejected=int(version["n_rejected"]),
        valid_pct=float(version["valid_pct"]),
        seed=int(version["seed"]),
        resplit=float(studio["valid_pct"]) != float(version["valid_pct"]),
    )
    # Read back as the training process reads it: the same defaults fill the same gaps.
    run = TrainRun.from_dict(
        {
            "model_type": row["model_type"],
            "method": trained_method(template.method, base, sections),
            "template": template.key,
            "base_model": base,
            **sections,
            "data": asdict(data),
            "studio_home": str(settings.home),
            "models_dir": str(settings.models_dir),
            "model_id": row["id"],
            "model_name": f"{row['name']} v{row['version']}",
        }
    )
    return run.to_dict()


def version_problem(version: dict, dataset_name: str, tolerance: float) -> str | None:
    """Why this dataset version cannot train: it has no rows, or too many were rejected."""
    name = f"dataset {dataset_name} v{version['version']}"
    n_rows, n_accepted, n_rejected = (
        int(version[k]) for k in ("n_rows", "n_accepted", "n_rejected")
    )
    if max(n_rows, n_accepted + n_rejected) == 0:
        return (
            f"Dataset {dataset_name} v{version['version']} has no rows; add data in the Inputs tab."
        )
    return rejected_share_problem(n_rows, n_rejected, tolerance, n_accepted, what=name)


def check_trainable(
    store: Store, settings: Settings, model_id: str, hardware: Hardware | None = None
) -> dict[str, Any]:
    """Raise a StudioError naming why this model cannot train here; else its run config."""
    hw = hardware or detect_hardware()
    row = store.get_model(model_id)
    template = get_template(row["template"])
    dicts, hyper = split_config(row["config"], row["template"])
    base = dicts["model"].get("base_model") or template.base_model
    ok, reason = template_availability(template, settings, hw, base_model=base)
    if not ok:
        # A Hub model that is not cached yet can still be downloaded when the Hub answers.
        # (The embedded default, where its package is not installed - a Space built from
        # requirements.txt - is the same model on the Hub.)
        cuda_missing = template.needs_cuda and not hw.cuda
        downloadable = is_hub_id(base) or base == PACKAGED_REF
        if cuda_missing or not (downloadable and hub_reachable()):
            raise ModelUnavailableError(f"{template.title}: {reason}")
    check(template, {}, model_config(dicts, hyper), hw, row["model_type"], settings)
    config = build_train_config(store, settings, model_id)
    version = store.get_dataset_version(row["dataset_version_id"])
    names = {v["id"]: v["dataset_name"] for v in store.list_dataset_versions(row["app_id"])}
    problem = version_problem(
        version,
        names.get(version["id"], version["dataset_id"]),
        config["studio"]["invalid_tolerance_pct"],
    )
    if problem:
        raise DataError(problem)
    return config
