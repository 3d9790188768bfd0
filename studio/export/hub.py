"""Push an exported model to the Hugging Face Hub (HfApi.upload_folder) when a token is given.

The token is used for this call only: never stored, never logged, scrubbed from any message.
"""

from __future__ import annotations

import logging
import re
import tempfile
from pathlib import Path

from studio.errors import StudioError
from studio.export.adapter import merge_to_folder, stage_adapter
from studio.jobs.trained import TrainedModel
from studio.settings import Settings

log = logging.getLogger(__name__)
REPO_ID = re.compile(r"^[A-Za-z0-9][\w.\-]{0,95}/[A-Za-z0-9][\w.\-]{0,95}$")


def _scrub(text: str, token: str) -> str:
    return text.replace(token, "***") if token else text


def push_to_hub(
    store,
    settings: Settings,
    model: TrainedModel,
    repo_id: str,
    token: str,
    merged: bool = False,
    private: bool = True,
) -> str:
    """Upload the adapter (or merged model) folder to `repo_id`; returns the repo URL."""
    repo_id, token = (repo_id or "").strip(), (token or "").strip()
    if not REPO_ID.match(repo_id):
        raise StudioError(
            f"Hub repo id {repo_id!r} is not of the form 'username/model-name' (letters, digits, "
            "'-', '_', '.')."
        )
    if not token:
        raise StudioError(
            "Pushing to the Hugging Face Hub needs a write token: create one at "
            "https://huggingface.co/settings/tokens and paste it in the token box."
        )
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "model"
        if merged:
            merge_to_folder(store, settings, model, folder)
        else:
            stage_adapter(store, model, folder)
        api = HfApi(token=token)
        try:
            api.create_repo(repo_id, private=private, exist_ok=True)
            info = api.upload_folder(
                folder_path=str(folder),
                repo_id=repo_id,
                commit_message=f"TextGen Studio export of job {model.job_id}",
            )
        except HfHubHTTPError as exc:
            status = getattr(getattr(exc, "response", None), "status_code", None)
            if status in (401, 403):
                raise StudioError(
                    f"The Hugging Face Hub refused the token for {repo_id} (HTTP {status}): use "
                    "a token with write access to that namespace."
                ) from None
            log.warning("hub push failed: %s", _scrub(str(exc), token))
            raise StudioError(
                f"The Hugging Face Hub rejected the upload to {repo_id}: "
                f"{_scrub(str(exc).splitlines()[0] if str(exc) else '', token)}"
            ) from None
        except Exception as exc:  # offline mode, DNS, timeouts, proxies: all "unreachable"
            log.warning("hub push failed: %s: %s", type(exc).__name__, _scrub(str(exc), token))
            raise StudioError(
                "could not reach the Hugging Face Hub (no network, or HF_HUB_OFFLINE is set): "
                "download the zip instead and upload it from a machine with internet access."
            ) from None
    return str(getattr(info, "repo_url", None) or f"https://huggingface.co/{repo_id}")
