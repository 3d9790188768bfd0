"""Per-user limits on a shared studio: jobs waiting, jobs running, storage under STUDIO_HOME.

They apply only with sign-in on (one user alone owns the whole machine). Each refusal names
the limit, its setting and the user's current usage. The running-jobs limit is not a
refusal: a user's extra jobs wait in the queue (studio.store.queue) until one finishes.
The upload size limit is Gradio's max_file_size (STUDIO_MAX_UPLOAD_MB), the same for all.
"""

from __future__ import annotations

import os
from pathlib import Path

from studio.errors import StudioError
from studio.settings import Settings


class LimitError(StudioError):
    """A per-user limit was reached; the message names it and the current usage."""


def check_queue_room(store, settings: Settings, app_id: str) -> None:
    """Refuse a new job when the app's owner already has user_max_queued jobs waiting."""
    if not settings.signed_in:
        return
    owner = store.owner_of_app(app_id)
    counts = store.owner_job_counts(owner)
    if counts["queued"] >= settings.user_max_queued:
        raise LimitError(
            f"You have {counts['queued']} jobs waiting and {counts['running']} running; the "
            f"limit is {settings.user_max_queued} waiting jobs per user "
            "(STUDIO_USER_MAX_QUEUED). Wait for one to start, or cancel one in the Train tab."
        )


def _size(folder: Path) -> int:
    total = 0
    for root, _, files in os.walk(folder):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                pass
    return total


def storage_used(store, settings: Settings, owner: str) -> int:
    """Bytes under STUDIO_HOME that belong to `owner`: their apps' folders (datasets, runs,
    evaluations, demo apps' data) and exports."""
    total = 0
    for app in store.list_apps(owner=owner):
        # App ids are [0-9a-f]: the same folder names studio.export.paths.exports_dir makes.
        total += _size(settings.app_dir(app["id"])) + _size(settings.home / "exports" / app["id"])
    return total


def check_storage(store, settings: Settings, owner: str, elsewhere: int = 0) -> None:
    """Refuse new data, runs, evaluations, exports or apps once `owner` uses
    user_max_storage_mb; `elsewhere`: bytes of theirs outside STUDIO_HOME (their uploads
    waiting in Gradio's cache)."""
    if not settings.signed_in:
        return
    used = storage_used(store, settings, owner) + elsewhere
    limit = settings.user_max_storage_mb * 1024 * 1024
    if used >= limit:
        raise LimitError(
            f"Your apps, exports and uploads use {used / 2**20:,.1f} MB of your {settings.user_max_storage_mb:,} MB "
            "storage limit (STUDIO_USER_MAX_STORAGE_MB). Delete old apps, dataset versions, "
            "models or exports, then try again."
        )
