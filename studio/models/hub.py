"""The Hugging Face Hub as a Space user meets it: what is on this machine already, and the
download of what is not, with the Hub client's own snapshot_download.

    folder = cached_snapshot("Qwen/Qwen3-0.6B", settings)      # None: not (fully) here
    check_online()                                             # HubOffline at once, no wait
    folder = download("Qwen/Qwen3-0.6B", settings, token, on_progress=print, stopped=stop)

Downloads go into the models folder (settings.models_dir / "hub", in the Hub cache's own
layout: models--owner--name/blobs, snapshots/<commit>, refs), which on a Space is the
persistent storage. A download cut short leaves its partial files (*.incomplete) there and
the next one continues from them: that is what makes a download job resumable after a
restart. The user's cache (~/.cache/huggingface/hub, HF_HUB_CACHE) is read too, so a model
fetched with `hf download` is found without a second copy.

A gated or private model needs a token: the signed-in user's (the OAuth token on a Space),
else HF_TOKEN, else the token `hf auth login` stored. Without access the error names the
page where the licence is accepted.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlparse

from studio.errors import ModelUnavailableError
from studio.settings import Settings

HUB_PAGE = "https://huggingface.co/"
# The files a model needs (weights as safetensors only: the studio never loads pickles).
ALLOW_PATTERNS = ["*.json", "*.safetensors", "*.model", "*.txt", "*.jinja", "*.tiktoken"]
REPORT_EVERY_S = 0.5


class HubOffline(ModelUnavailableError):
    """The Hub cannot be reached from here (offline mode, or no network)."""


class HubAccessError(ModelUnavailableError):
    """The Hub refused the model: gated, private or unknown; the message says what to do."""


class DownloadStopped(Exception):
    """A stop request ended the download; its partial files stay for the next one."""


def hub_cache_dir(settings: Settings) -> Path:
    """Where the studio downloads models: the models folder, in the Hub cache's layout."""
    return settings.models_dir / "hub"


def offline_mode() -> bool:
    """Whether HF_HUB_OFFLINE is set (the Hub client then never touches the network)."""
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def _endpoint() -> tuple[str, int]:
    url = urlparse(os.environ.get("HF_ENDPOINT") or HUB_PAGE)
    return url.hostname or "huggingface.co", url.port or (80 if url.scheme == "http" else 443)


def hub_answers(timeout: float = 2.0) -> bool:
    """Whether the Hub (HF_ENDPOINT, default huggingface.co) accepts a connection within
    `timeout` seconds; False at once in offline mode."""
    if offline_mode():
        return False
    try:
        with socket.create_connection(_endpoint(), timeout=timeout):
            return True
    except OSError:
        return False


def check_online(repo_id: str = "", timeout: float = 2.0) -> None:
    """Raise HubOffline, within `timeout` seconds, when a download could not start."""
    what = f"{repo_id} is not on this machine and " if repo_id else ""
    elsewhere = (
        f"run `hf download {repo_id}` on a machine with internet and copy its cache "
        "(~/.cache/huggingface) here, or save the model to a folder and use that folder"
        if repo_id
        else "copy the model here (a folder, or a Hugging Face cache)"
    )
    if offline_mode():
        raise HubOffline(
            f"{what}the studio is offline (HF_HUB_OFFLINE is set): unset it to download, or "
            f"{elsewhere}."
        )
    if not hub_answers(timeout):
        host = _endpoint()[0]
        raise HubOffline(
            f"{what}the Hugging Face Hub ({host}) cannot be reached from this machine: "
            f"check its network, or {elsewhere}."
        )


def user_token(oauth_token: str | None = None) -> str | None:
    """The token a download uses: the signed-in user's, else HF_TOKEN (None: the Hub client
    falls back to a token stored by `hf auth login`, or goes anonymous)."""
    return (oauth_token or "").strip() or os.environ.get("HF_TOKEN", "").strip() or None


def _complete(folder: Path) -> bool:
    """A snapshot that can load: config.json and every safetensors shard its index lists."""
    if not (folder / "config.json").is_file():
        return False
    index = folder / "model.safetensors.index.json"
    if index.is_file():
        try:
            shards = set(json.loads(index.read_text())["weight_map"].values())
        except (OSError, ValueError, KeyError, AttributeError):
            return False
        return all((folder / shard).is_file() for shard in shards)
    return any(folder.glob("*.safetensors"))


def cached_snapshot(repo_id: str, settings: Settings | None = None) -> str | None:
    """The local folder of a fully downloaded Hub model (the models folder first, then the
    user's Hub cache), found with no network; None when it is not (all) here."""
    from huggingface_hub import snapshot_download

    caches = ([hub_cache_dir(settings)] if settings is not None else []) + [None]
    for cache in caches:
        try:
            folder = snapshot_download(repo_id, cache_dir=cache, local_files_only=True)
        except Exception:  # not in this cache (or an id the client rejects)
            continue
        if _complete(Path(folder)):
            return str(folder)
    return None


def progress_bar_class(
    on_progress: Callable[[dict], None] | None, stopped: Callable[[], bool] | None
) -> type:
    """A tqdm class for snapshot_download that reports {"files", "files_total", "bytes",
    "bytes_total"} every REPORT_EVERY_S and raises DownloadStopped when `stopped()` says so."""
    from tqdm.std import tqdm

    state = {"files": 0, "files_total": 0, "bytes": 0, "bytes_total": 0}
    lock, last = threading.Lock(), [0.0]
    sink = open(os.devnull, "w")  # noqa: SIM115 - the bars draw nothing; the page shows state

    def report(force: bool = False) -> None:
        now = time.monotonic()
        if on_progress and (force or now - last[0] >= REPORT_EVERY_S):
            last[0] = now
            on_progress(dict(state))

    class StudioProgress(tqdm):
        def __init__(self, *args, **kwargs):
            desc = str(kwargs.get("desc") or "")
            # "Fetching N files" counts files; "Reconstructing ..." counts the bytes written.
            self._counts = (
                "files"
                if desc.startswith("Fetching")
                else "bytes"
                if desc.startswith("Reconstructing")
                else ""
            )
            kwargs.pop("name", None)
            kwargs.update(file=sink, disable=False, mininterval=3600)
            super().__init__(*args, **kwargs)

        def update(self, n=1):
            if stopped is not None and stopped():
                raise DownloadStopped()
            out = super().update(n)
            if self._counts:
                with lock:
                    state[self._counts] = int(self.n)
                    state[f"{self._counts}_total"] = int(self.total or 0)
                report()
            return out

        def close(self):
            if self._counts and self.total:
                with lock:
                    state[f"{self._counts}_total"] = int(self.total)
                report(force=True)
            super().close()

    return StudioProgress


def access_message(repo_id: str, token: str | None, exc: BaseException) -> str:
    """What to do when the Hub refuses `repo_id` (gated, private, unknown, bad token)."""
    from huggingface_hub.errors import GatedRepoError, HfHubHTTPError, RepositoryNotFoundError

    page = HUB_PAGE + repo_id
    who = (
        "the account whose token the studio uses (the one you signed in with, or HF_TOKEN)"
        if token
        else "your account, then sign in (or set HF_TOKEN) so the studio can use its token"
    )
    if isinstance(exc, GatedRepoError):
        return f"{repo_id} is gated: accept its licence at {page} with {who}, then download again."
    if isinstance(exc, RepositoryNotFoundError):
        return (
            f"{repo_id} was not found on the Hub: check the id; if it is private, it needs the "
            f"token of an account that can see it ({page})."
        )
    status = getattr(getattr(exc, "response", None), "status_code", None)
    if isinstance(exc, HfHubHTTPError) and status in (401, 403):
        return (
            f"The Hub refused the token for {repo_id} ({status}): sign in again, or set a valid "
            f"HF_TOKEN with read access; gated models also need their licence accepted at {page}."
        )
    return f"The Hub refused {repo_id} ({type(exc).__name__}); see {page}."


def download(
    repo_id: str,
    settings: Settings,
    token: str | None = None,
    on_progress: Callable[[dict], None] | None = None,
    stopped: Callable[[], bool] | None = None,
) -> str:
    """Download (or finish downloading) `repo_id` into the models folder; its local folder.

    HubOffline at once when the Hub cannot be reached, HubAccessError when it refuses,
    DownloadStopped when `stopped()` turned true (the partial files stay)."""
    check_online(repo_id)
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import (
        GatedRepoError,
        HfHubHTTPError,
        LocalEntryNotFoundError,
        OfflineModeIsEnabled,
        RepositoryNotFoundError,
    )

    try:
        folder = snapshot_download(
            repo_id,
            cache_dir=hub_cache_dir(settings),
            token=token or None,
            allow_patterns=ALLOW_PATTERNS,
            tqdm_class=progress_bar_class(on_progress, stopped),
        )
    except (GatedRepoError, RepositoryNotFoundError) as exc:
        raise HubAccessError(access_message(repo_id, token, exc)) from exc
    except (LocalEntryNotFoundError, OfflineModeIsEnabled) as exc:
        raise HubOffline(
            f"The Hugging Face Hub stopped answering while downloading {repo_id}: check the "
            "network and download again (it continues from what is on disk)."
        ) from exc
    except HfHubHTTPError as exc:
        raise HubAccessError(access_message(repo_id, token, exc)) from exc
    if not _complete(Path(folder)):
        raise HubAccessError(
            f"{repo_id} has no safetensors weights (or no config.json) on the Hub: the studio "
            "loads safetensors only. Save the model with save_pretrained and use that folder."
        )
    return str(folder)
