"""The Models tab's Download row as plain functions: offline said at once, the signed-in
user's token passed on, progress in words, the card refreshed when the download ends."""

from __future__ import annotations

import gradio as gr
import pytest

from studio.jobs.scheduler import JobRunner
from studio.models import hub
from studio.ui.context import UIContext
from studio.ui.models import download as d
from studio.ui.models.download_view import download_text

REPO = "Qwen/Qwen3-0.6B"


@pytest.fixture
def ctx(settings, store):
    return UIContext(settings=settings, store=store, runner=JobRunner(store, settings))


@pytest.fixture
def app_id(store):
    return store.create_app("a")["id"]


def test_offline_download_is_refused_in_place_at_once(ctx, app_id, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    text, job_id, timer = d.on_download(ctx, app_id, "qwen3-0.6b-lora", "")
    assert "offline" in text and job_id == "" and timer.active is False
    assert ctx.store.list_jobs(app_id=app_id) == []


def test_the_packaged_model_needs_no_download(ctx, app_id):
    text, job_id, _ = d.on_download(ctx, app_id, "smollm2-135m-lora", "")
    assert "ships with the studio" in text and job_id == ""


def test_download_queues_a_job_with_the_signed_in_users_token(ctx, app_id, monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(hub, "hub_answers", lambda timeout=2.0: True)
    token = gr.OAuthToken(token="hf_oauth_user", scope="read", expires_at=0)
    text, job_id, timer = d.on_download(ctx, app_id, "qwen3-0.6b-lora", "", token)
    assert text.startswith(f"Download of **{REPO}** queued") and timer.active is True
    assert ctx.runner._env[job_id] == {"HF_TOKEN": "hf_oauth_user"}

    # The progress line follows the job; when it ends, polling stops and the card refreshes.
    text, timer, card = d.on_download_tick(ctx, job_id, "qwen3-0.6b-lora", "")
    assert "queued" in text and timer == gr.skip()
    ctx.store.update_job(job_id, status="succeeded", reason="done")
    text, timer, card = d.on_download_tick(ctx, job_id, "qwen3-0.6b-lora", "")
    assert "is downloaded into the models folder" in text and timer.active is False
    assert card.startswith("### Qwen3 0.6B LoRA")


def test_progress_in_words():
    running = {"status": "running", "reason": "", "files": 2, "files_total": 5}
    running.update(bytes=600_000_000, bytes_total=1_500_000_000, fraction=0.4)
    assert download_text(REPO, running) == (
        f"Downloading **{REPO}**: 0.60 GB of 1.50 GB (40%), 2 of 5 files."
    )
    failed = {**running, "status": "failed", "reason": "gated: accept it at https://x"}
    assert download_text(REPO, failed).endswith("failed: gated: accept it at https://x")
