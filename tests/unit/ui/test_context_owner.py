"""UIContext: who is asking, what they may see, and base models named by server folders."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import pytest
from gradio.context import LocalContext

from studio.errors import NotFoundError, StudioError
from studio.ui.context import NotSignedInError, UIContext


def _as(user):
    return LocalContext.request.set(SimpleNamespace(username=user) if user else None)


@pytest.fixture
def team(settings, store):
    s = dataclasses.replace(settings, sign_in="users", admins=("root",))
    return UIContext(settings=s, store=store)


def test_sign_in_off_keeps_the_single_local_owner(settings, store):
    ctx = UIContext(settings=settings, store=store)
    app = store.create_app("a", owner="local")
    token = _as(None)
    try:
        assert ctx.owner() == "local" and ctx.scope() is None
        assert ctx.current_app(app["id"])["id"] == app["id"]
    finally:
        LocalContext.request.reset(token)


def test_signed_in_users_see_only_their_own(team, store):
    ann = store.create_app("a", owner="ann")
    for user, visible in (("ann", True), ("bob", False), ("root", True)):
        token = _as(user)
        try:
            assert bool(team.current_app(ann["id"])) is visible
            if not visible:
                with pytest.raises(NotFoundError):
                    team.app(ann["id"])
        finally:
            LocalContext.request.reset(token)
    token = _as(None)
    try:
        with pytest.raises(NotSignedInError):  # fail closed, never the shared owner
            team.owner()
    finally:
        LocalContext.request.reset(token)


def test_server_folders_as_base_models_are_for_admins(team, tmp_path):
    for user in ("bob", "root"):
        token = _as(user)
        try:
            team.refuse_server_folder("HuggingFaceTB/SmolLM2-135M-Instruct")  # a Hub id
            if user == "bob":
                with pytest.raises(StudioError, match="name is a folder on the server"):
                    team.refuse_server_folder(str(tmp_path))
                with pytest.raises(StudioError, match="name is a folder on the server"):
                    team.refuse_server_folder("../other/app")
            else:
                team.refuse_server_folder(str(tmp_path))
        finally:
            LocalContext.request.reset(token)
