"""The Models tab's download line: a Hub download job's progress in words (no Gradio)."""

from __future__ import annotations

from typing import Any

from studio.store.job_states import CANCELLED, FAILED, INTERRUPTED, QUEUED, RUNNING, SUCCEEDED


def _gb(n: int) -> str:
    return f"{n / 1e9:.2f} GB" if n >= 1e8 else f"{n / 1e6:.0f} MB"


def download_text(repo_id: str, progress: dict[str, Any]) -> str:
    """One line: queued, how far the download is (bytes, files), or how it ended."""
    status, name = progress["status"], f"**{repo_id}**"
    if status == QUEUED:
        return f"Download of {name} queued; it starts when a job slot is free."
    if status == RUNNING:
        if not progress["bytes_total"]:
            return f"Downloading {name}: asking the Hub for its files…"
        files = (
            f", {progress['files']} of {progress['files_total']} files"
            if progress["files_total"]
            else ""
        )
        return (
            f"Downloading {name}: {_gb(progress['bytes'])} of {_gb(progress['bytes_total'])} "
            f"({progress['fraction']:.0%}){files}."
        )
    if status == SUCCEEDED:
        return f"{name} is downloaded into the models folder: it can train and generate here."
    if status in (CANCELLED, INTERRUPTED):
        return (
            f"Download of {name} stopped ({progress['reason'] or status}). Press Download to "
            "continue from what is on disk."
        )
    if status == FAILED:
        return f"Download of {name} failed: {progress['reason']}"
    return f"Download of {name}: {status}."


def finished(progress: dict[str, Any]) -> bool:
    """Whether the download job has ended (the page stops polling)."""
    return progress["status"] not in (QUEUED, RUNNING)
