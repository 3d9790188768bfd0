"""Export a trained model: the adapter (or full weights) zip, the merged model, a GGUF file, or
a push to the Hugging Face Hub; each recorded in the app's activity log.

    path = export_model(store, settings, caller, app_id, job_id, "adapter")   # a zip's path
    url = push_model(store, settings, caller, app_id, job_id, repo, token, merged=False)
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from studio.actions.ownership import Caller, owned_app, owned_job
from studio.errors import StudioError
from studio.export import export_adapter_zip, export_merged_zip, push_to_hub
from studio.export.gguf import GGUF_TYPES, export_gguf_zip
from studio.jobs.trained import TrainedModel, trained_model
from studio.settings import Settings

# An export format: what the activity log calls it, and how it is written (a zip's path).
FORMATS: dict[str, tuple[str, Callable[..., Path]]] = {
    "adapter": (
        "adapter",
        lambda store, settings, model, qtype: export_adapter_zip(store, settings, model),
    ),
    "merged": (
        "merged model",
        lambda store, settings, model, qtype: export_merged_zip(store, settings, model),
    ),
    "gguf": ("GGUF {qtype}", export_gguf_zip),
}


def owned_trained_model(store, caller: Caller, app_id: str, job_id: str | None) -> TrainedModel:
    """The trained model of one of the app's jobs the caller may touch (the one reader)."""
    owned_app(store, caller, app_id)
    return trained_model(store, owned_job(store, caller, app_id, job_id)["id"])


def export_model(
    store,
    settings: Settings,
    caller: Caller,
    app_id: str,
    job_id: str | None,
    kind: str,
    qtype: str = "Q8_0",
) -> Path:
    """The zip of a trained model as `kind` (a key of FORMATS; "gguf" in `qtype`)."""
    if kind not in FORMATS:
        raise StudioError(f"Export format {kind!r} is not offered; choose one of {list(FORMATS)}.")
    model = owned_trained_model(store, caller, app_id, job_id)
    what, write = FORMATS[kind]
    path = write(store, settings, model, qtype)
    what = what.format(qtype=qtype)
    store.log_activity(app_id, caller.owner, "exported", f"{what} of job {model.job_id}")
    return path


def push_model(
    store,
    settings: Settings,
    caller: Caller,
    app_id: str,
    job_id: str | None,
    repo_id: str,
    token: str,
    merged: bool = False,
) -> str:
    """Push the adapter (or merged model) to the Hub; returns the repo's URL."""
    model = owned_trained_model(store, caller, app_id, job_id)
    url = push_to_hub(store, settings, model, repo_id, token, merged)
    store.log_activity(app_id, caller.owner, "exported", f"job {model.job_id} pushed to {url}")
    return url


__all__ = ["FORMATS", "GGUF_TYPES", "export_model", "owned_trained_model", "push_model"]
