"""Download a Hugging Face Hub model into the models folder, as a job of the queue.

    job = queue_download(runner, store, settings, app_id, "Qwen/Qwen3-0.6B", token)
    progress = download_progress(job)       # what the page shows while it runs

The job is `python -m studio.download RUN_DIR` (studio.download.__main__): the Hub client's
own snapshot_download (studio.models.hub), its progress written to RUN_DIR/metrics.jsonl,
stopped by Cancel like any job and continued from the files already on disk by the next
download of the same model (after a restart too). The user's token reaches the child
through its environment only. Offline, queueing refuses at once, with the reason.
"""

from __future__ import annotations

from typing import Any

from studio.errors import StudioError
from studio.jobs.run_folder import RunFolder
from studio.models.hub import cached_snapshot, check_online
from studio.models.resolve import is_hub_id, is_local_ref
from studio.settings import Settings
from studio.store.job_states import ACTIVE_STATUSES, DOWNLOAD

__all__ = ["download_progress", "find_download", "queue_download"]


def find_download(store, app_id: str, repo_id: str) -> dict | None:
    """The app's newest download job of `repo_id`, or None."""
    jobs = store.list_jobs(app_id=app_id, kind=DOWNLOAD)
    mine = [j for j in jobs if (j.get("params") or {}).get("repo_id") == repo_id]
    return max(mine, key=lambda j: j["created_at"], default=None)


def queue_download(
    runner, store, settings: Settings, app_id: str, repo_id: str, token: str | None = None
) -> dict:
    """Queue the download of `repo_id` (or return the one already queued or running)."""
    repo_id = (repo_id or "").strip()
    if not repo_id or is_local_ref(repo_id) or not is_hub_id(repo_id):
        raise StudioError(
            f"{repo_id!r} is not a Hugging Face model id: type one such as Qwen/Qwen3-0.6B "
            "(a local folder needs no download)."
        )
    if cached_snapshot(repo_id, settings):
        raise StudioError(f"{repo_id} is on this machine already: nothing to download.")
    running = find_download(store, app_id, repo_id)
    if running and running["status"] in ACTIVE_STATUSES:
        return running
    check_online(repo_id)  # offline: the reason at once, nothing queued
    config = {
        "repo_id": repo_id,
        "studio_home": str(settings.home),
        "models_dir": str(settings.models_dir),
    }
    env = {"HF_TOKEN": token} if token else None
    return runner.submit(app_id, None, DOWNLOAD, config, params={"repo_id": repo_id}, env=env)


def download_progress(job: dict[str, Any]) -> dict[str, Any]:
    """{"status", "reason", "files", "files_total", "bytes", "bytes_total", "fraction"}."""
    lines = RunFolder(job["run_dir"]).metrics() if job.get("run_dir") else []
    last = next((m for m in reversed(lines) if m.get("type") == "progress"), {})
    out = {k: int(last.get(k) or 0) for k in ("files", "files_total", "bytes", "bytes_total")}
    total = out["bytes_total"]
    out["fraction"] = min(1.0, out["bytes"] / total) if total else 0.0
    return {"status": job["status"], "reason": job.get("reason") or "", **out}
