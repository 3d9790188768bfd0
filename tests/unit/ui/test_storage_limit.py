"""A user over their storage limit can make nothing more: no exports, evaluations or demo
apps either, and their uploads waiting in Gradio's cache count too."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import gradio as gr
import pytest
from gradio.context import LocalContext

from studio.actions import export as export_action
from studio.actions import start_evaluation as evaluation_action
from studio.jobs import JobRunner
from studio.signin.uploads import UploadOwners
from studio.ui.apps import handlers as apps_tab
from studio.ui.context import UIContext
from studio.ui.evaluate import handlers as evaluate_handlers

LIMIT = "storage limit"


@pytest.fixture
def team(settings, store):
    s = dataclasses.replace(settings, sign_in="users", user_max_storage_mb=1)
    return UIContext(settings=s, store=store, runner=JobRunner(store, s), uploads=UploadOwners())


def _as(user: str):
    return LocalContext.request.set(SimpleNamespace(username=user, headers={}))


def test_over_the_limit_nothing_more_is_made(team, store, monkeypatch):
    app = store.create_app("Ann's", owner="ann")
    job = store.create_job(app["id"], None, "train", status="succeeded")
    big = team.settings.app_dir(app["id"]) / "big.bin"
    big.parent.mkdir(parents=True, exist_ok=True)
    big.write_bytes(b"x" * (2 << 20))  # 2 MB of a 1 MB limit
    made = []
    for kind, (what, _write) in list(export_action.FORMATS.items()):
        monkeypatch.setitem(export_action.FORMATS, kind, (what, lambda *a, n=kind: made.append(n)))
    monkeypatch.setattr(evaluation_action, "build_eval_config", lambda *a, **k: made.append("ev"))
    token = _as("ann")
    try:
        for call in (
            lambda: evaluate_handlers.export_adapter(team, app["id"], job["id"]),
            lambda: evaluate_handlers.export_merged(team, app["id"], job["id"]),
            lambda: evaluate_handlers.export_gguf(team, app["id"], job["id"], "Q8_0"),
            lambda: evaluate_handlers.start(
                team, app["id"], job["id"], None, None, ["perplexity"], 10, 8
            ),
        ):
            with pytest.raises(gr.Error, match=LIMIT):
                call()
        request = SimpleNamespace(username="ann", headers={})
        with pytest.raises(gr.Error, match=LIMIT):
            list(apps_tab.create_demo(team, "sentiment", request))
    finally:
        LocalContext.request.reset(token)
    assert made == [] and [a["name"] for a in store.list_apps()] == ["Ann's"]


def test_uploads_in_gradios_cache_count_against_their_uploader(team, store, tmp_path):
    store.create_app("Bob's", owner="bob")
    upload = tmp_path / "upload" / "data.csv"
    upload.parent.mkdir()
    upload.write_bytes(b"x" * (2 << 20))
    team.uploads.record([str(upload)], "bob")
    token = _as("bob")
    try:
        with pytest.raises(Exception, match=LIMIT):
            team.check_storage()
    finally:
        LocalContext.request.reset(token)
    upload.unlink()  # cleaned from the cache: no longer counted
    token = _as("bob")
    try:
        team.check_storage()
    finally:
        LocalContext.request.reset(token)
