"""The Apps tab's handlers called as plain functions (no page), and `bind`, which turns them
into the listeners Gradio sees: the same parameter names and the same request injection."""

from __future__ import annotations

import dataclasses
import inspect
from types import SimpleNamespace

import gradio as gr
import pytest
from gradio import helpers

from studio.ui.apps import handlers as apps_tab
from studio.ui.apps.views import app_rows, current_note, log_rows
from studio.ui.common import bind, in_background
from studio.ui.context import UIContext


def _req(user: str | None):
    return SimpleNamespace(username=user)


@pytest.fixture
def ctx(settings, store):
    return UIContext(settings=settings, store=store)


def test_create_rename_choose_and_delete_an_app(ctx, store):
    app_id, table, chooser, note, *rest = apps_tab.create_app(ctx, "Reviews", " mine ", None)
    assert store.get_app(app_id)["description"] == "mine"
    assert table["value"][0][:2] == ["Reviews", "mine"] and chooser["value"] == app_id
    assert note == "Current app: **Reviews**"
    assert rest[-1] == "Created **Reviews**; it is now the current app."
    *_, message = apps_tab.rename_app(ctx, app_id, "Tweets", None)
    assert message == "Renamed to **Tweets**." and store.get_app(app_id)["name"] == "Tweets"
    assert apps_tab.choose_app(ctx, app_id, None)[0] == app_id
    assert [r[2] for r in apps_tab.activity_rows(ctx, app_id, None)] == ["renamed", "created"]
    with pytest.raises(gr.Error, match="Tick 'I understand'"):
        apps_tab.delete_app(ctx, app_id, False, None)
    new_id, _, chooser, note, confirm, message = apps_tab.delete_app(ctx, app_id, True, None)
    assert (new_id, chooser["value"], confirm) == ("", None, False)
    assert message.startswith("Deleted **Tweets**") and store.list_apps() == []
    with pytest.raises(gr.Error, match="no longer exists"):
        apps_tab.choose_app(ctx, app_id, None)


def test_signed_in_users_see_and_change_only_their_own_apps(settings, store):
    team = UIContext(settings=dataclasses.replace(settings, sign_in="users"), store=store)
    ann = apps_tab.create_app(team, "Ann's", "", _req("ann"))[0]
    assert store.get_app(ann)["owner"] == "ann"
    table, chooser, note = apps_tab.refresh(team, ann, _req("bob"))
    assert table["value"] == [] and chooser["value"] is None and note.startswith("No app")
    with pytest.raises(gr.Error, match="Choose the app to rename"):
        apps_tab.rename_app(team, ann, "Bob's now", _req("bob"))
    assert apps_tab.activity_rows(team, ann, _req("bob")) == []


def test_app_presenters():
    apps = [{"id": "a", "name": "A", "description": "d", "created_at": 0.0}]
    assert app_rows(apps)[0][:2] == ["A", "d"]
    assert current_note(apps, "a") == "Current app: **A**"
    assert current_note(apps, None).startswith("No app chosen yet")
    entry = {"created_at": 0.0, "user": "ann", "action": "created", "detail": "app A"}
    assert log_rows([entry])[0][1:] == ["ann", "created", "app A"]


def test_bind_keeps_the_listener_signature_request_and_streaming(ctx):
    def handler(ctx: UIContext, name: str, request: gr.Request = None):
        return ctx, name, request

    def stream(ctx: UIContext, n: int):
        yield from range(n)

    listener = bind(ctx, handler)
    filled, *_ = helpers.special_args(listener, ["x"], request="REQ")
    assert filled == ["x", "REQ"]  # Gradio finds the request parameter through bind
    assert listener(*filled) == (ctx, "x", "REQ") and listener.__name__ == "handler"
    assert list(listener.__signature__.parameters) == ["name", "request"]
    streamed = bind(ctx, stream)
    assert inspect.isgeneratorfunction(streamed) and list(streamed(3)) == [0, 1, 2]


def test_slow_work_is_answered_with_the_seconds_waited():
    import time

    def slow():
        time.sleep(0.35)
        return "done"

    def run():
        return (yield from in_background(slow, lambda s: f"{s:.1f} s", every_s=0.1))

    gen, ticks = run(), []
    while True:
        try:
            ticks.append(next(gen))
        except StopIteration as end:
            assert end.value == "done"
            break
    assert len(ticks) >= 2 and ticks[0].endswith(" s")
    with pytest.raises(ZeroDivisionError):  # the work's own error reaches the handler
        list(in_background(lambda: 1 / 0, str, every_s=0.1))


def test_demo_app_says_what_it_waits_for_then_what_it_made(ctx, store, monkeypatch):
    made_after = {}

    def fake_demo(store_, settings, caller, key):
        made_after["owner"] = caller.owner
        app = store_.create_app("Demo: Sentiment classification", owner=caller.owner)
        return {"app": app, "version": {"version": 1, "n_accepted": 72}, "model": {"name": "m"}}

    monkeypatch.setattr(apps_tab, "create_demo_app", fake_demo)
    monkeypatch.setattr(apps_tab, "packaged_model_ready", lambda settings: False)
    answers = list(apps_tab.create_demo(ctx, "sentiment", None))
    first, last = answers[0], answers[-1]
    assert first[:4] == (gr.skip(),) * 4
    assert first[4].startswith("Preparing the built-in model SmolLM2-135M-Instruct")
    assert first[4].endswith("0 s")
    app_id, *_, note, data_bump, models_bump = last
    assert store.get_app(app_id)["name"] == "Demo: Sentiment classification"
    assert note.startswith("Created **Demo: Sentiment classification** with dataset version 1")
    assert data_bump and models_bump and made_after["owner"] == "local"
    assert apps_tab.demo_progress(12.4, False) == "Creating the demo app… 12 s"
