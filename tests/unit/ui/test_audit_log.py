"""The activity log records every state-changing action with who, what and when; an
administrator sees all of it (sign-ins and key changes included), a user none of others'."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import fastapi
import pytest
from fastapi.testclient import TestClient
from gradio.context import LocalContext

from studio.actions import export as export_action
from studio.actions import start_evaluation as evaluation_action
from studio.jobs import JobRunner
from studio.signin import install_sign_in
from studio.ui.context import UIContext
from studio.ui.evaluate import handlers as evaluate_handlers
from studio.ui.models import handlers as models_handlers
from studio.ui.settings import handlers as settings_panel
from studio.ui.train import handlers as train_handlers
from studio.users import add_user


@pytest.fixture
def team(tmp_path, settings, store):
    users = tmp_path / "users.txt"
    for name in ("ann", "root"):
        add_user(users, name, f"{name}-password")
    s = dataclasses.replace(settings, sign_in="users", users_file=users, admins=("root",))
    return UIContext(settings=s, store=store, runner=JobRunner(store, s))


def _as(user: str):
    return LocalContext.request.set(SimpleNamespace(username=user, headers={}))


def _actions(store, app_id: str = "") -> list[tuple[str, str]]:
    rows = store.list_activity(app_id) if app_id else store.list_all_activity()
    return [(r["user"], r["action"]) for r in rows]


def test_model_job_and_export_actions_are_recorded(team, store, tmp_path, monkeypatch):
    app = store.create_app("Ann's", owner="ann")
    model = store.create_model(app["id"], "m", "smollm2-135m-lora", "causal", None, {})
    job = store.create_job(app["id"], model["id"], "train", status="cancelled")
    token = _as("ann")
    try:
        # Resume (the runner's checks are its own; here it accepts).
        monkeypatch.setattr(team.runner, "resume", lambda job_id, env=None: store.get_job(job_id))
        train_handlers.resume_job(team, job["id"])
        # An evaluation and a GGUF export, with the heavy parts stubbed.
        monkeypatch.setattr(evaluation_action, "build_eval_config", lambda *a, **k: {})
        monkeypatch.setattr(
            team.runner, "submit", lambda *a, **k: store.create_job(app["id"], None, "evaluate")
        )
        trained = SimpleNamespace(job_id=job["id"], model_id=model["id"])
        monkeypatch.setattr(evaluation_action, "owned_trained_model", lambda *a: trained)
        monkeypatch.setattr(export_action, "owned_trained_model", lambda *a: trained)
        evaluate_handlers.start(team, app["id"], job["id"], None, None, ["perplexity"], 10, 8)
        out = tmp_path / "model.gguf.zip"
        out.write_bytes(b"x")
        gguf = export_action.FORMATS["gguf"]
        monkeypatch.setitem(export_action.FORMATS, "gguf", (gguf[0], lambda *a: out))
        evaluate_handlers.export_gguf(team, app["id"], job["id"], "Q8_0")
        # Deleting a saved model.
        spare = store.create_model(app["id"], "spare", "smollm2-135m-lora", "causal", None, {})
        models_handlers.on_delete(team, app["id"], spare["id"], True, "")
    finally:
        LocalContext.request.reset(token)
    log = _actions(store, app["id"])
    for action in ("resumed", "evaluated", "exported", "deleted"):
        assert ("ann", action) in log, (action, log)


def test_keys_and_sign_ins_are_recorded_and_only_admins_see_them(team, store):
    request = SimpleNamespace(username="ann", headers={})
    row = settings_panel.create_key(team, "laptop", request)[3]
    key_id = store.list_api_keys("ann")[0]["id"]
    assert key_id in row
    settings_panel.revoke_key(team, key_id, request)
    api = fastapi.FastAPI()
    install_sign_in(api, store, team.settings)
    with TestClient(api) as http:
        http.post("/login", data={"username": "ann", "password": "wrong"})
        http.post("/login", data={"username": "ann", "password": "ann-password"})
        http.get("/logout")
    log = _actions(store)
    for action in ("created API key", "revoked API key", "sign-in failed", "signed in"):
        assert ("ann", action) in log, (action, log)
    assert ("ann", "signed out") in log
    # The administrator's view holds all of it; a user's does not exist.
    admin = settings_panel.show(team, SimpleNamespace(username="root", headers={}))
    assert any("sign-in failed" in str(r) for r in admin[2])
    mine = settings_panel.show(team, SimpleNamespace(username="ann", headers={}))
    assert mine[2] == []
