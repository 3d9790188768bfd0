"""A click's error is shown in its own message box, not as a pill beside an old success, and
API callers still get the error raised; the tab bar lists each tab once."""

from __future__ import annotations

import types

import gradio as gr
import pytest
from gradio.context import LocalContext

from studio.errors import StudioError
from studio.ui import page_errors
from studio.ui.common import user_errors
from studio.ui.layout import keep_only_tabs
from studio.ui.page_errors import errors_in_messages, from_page


@pytest.fixture
def toasts(monkeypatch):
    seen: list[str] = []
    monkeypatch.setattr(page_errors, "log_message", lambda message, **kw: seen.append(message))
    return seen


def _as(user: str | None):
    """Run as a request from the page ("app"), an API client ("api") or no request."""
    headers = {} if user is None else {"x-gradio-user": user}
    return LocalContext.request.set(types.SimpleNamespace(headers=headers))


def _taken(name: str) -> StudioError:
    return StudioError(f"You already have an app named {name!r}; pick another name.")


@user_errors
def _refuse(name: str):
    raise _taken(name)


def _demo():
    with gr.Blocks() as demo:
        name = gr.Textbox()
        table = gr.Dataframe()
        message = gr.Markdown()
        download = gr.File(interactive=False)
        button = gr.Button()
        button.click(_refuse, [name], [name, table, message], show_progress_on=[message])
        button.click(_refuse, [name], [download], show_progress_on=[download])
        button.click(_refuse, [name], None)
    return demo


def test_a_page_click_shows_its_error_in_the_message_and_nothing_else_changes(toasts):
    demo = _demo()
    assert errors_in_messages(demo) == 3
    assert errors_in_messages(demo) == 0  # idempotent
    with_message, with_file, without_outputs = (f.fn for f in demo.fns.values())
    token = _as("app")
    try:
        name, table, message = with_message("FPB")
        assert name == gr.skip() and table == gr.skip()  # the user's input is kept
        assert message == "**Error:** You already have an app named 'FPB'; pick another name."
        assert with_file("FPB") is None  # the old download no longer answers the click
        assert without_outputs("FPB") is None
    finally:
        LocalContext.request.reset(token)
    assert len(toasts) == 3 and "already have an app" in toasts[0]


@pytest.mark.parametrize("user", ["api", None])
def test_an_api_call_still_fails_with_the_error(toasts, user):
    demo = _demo()
    errors_in_messages(demo)
    with_message = next(iter(demo.fns.values())).fn
    token = _as(user)
    try:
        assert not from_page()
        with pytest.raises(gr.Error, match="already have an app"):
            with_message("FPB")
    finally:
        LocalContext.request.reset(token)
    assert toasts == []


def test_a_streaming_handler_ends_with_its_error_as_the_message(toasts):
    @user_errors
    def stream(n: int):
        yield "working", gr.skip()
        raise _taken("x")

    with gr.Blocks() as demo:
        box, note = gr.Textbox(), gr.Markdown()
        gr.Button().click(stream, [box], [box, note], show_progress_on=[note])
    errors_in_messages(demo)
    token = _as("app")
    try:
        answers = list(next(iter(demo.fns.values())).fn(1))
    finally:
        LocalContext.request.reset(token)
    assert answers[0] == ("working", gr.skip())
    assert answers[-1][1].startswith("**Error:** You already have")


def test_a_state_beside_the_tabs_does_not_shift_the_tab_bar():
    """The page numbers tabs among all of the Tabs' children; a State there made the last
    tab appear twice."""
    with gr.Blocks() as demo:
        with gr.Tabs() as tabs:
            with gr.Tab("One"):
                gr.Markdown("1")
            stray = gr.State(None)
            with gr.Tab("Two"):
                gr.Markdown("2")
        keep_only_tabs(tabs)
    assert [type(c) for c in tabs.children] == [gr.Tab, gr.Tab]
    assert stray in demo.children and stray.parent is demo


def test_the_studio_tab_bar_holds_only_tabs(tmp_path):
    from app import create_server
    from studio.settings import Settings

    _, blocks, _ = create_server(Settings.from_env(home=tmp_path), start_runner=False)
    tabs = [b for b in blocks.blocks.values() if getattr(b, "elem_id", None) == "studio-tabs"]
    assert len(tabs) == 1
    children = tabs[0].children
    assert len(children) == 6 and all(isinstance(c, gr.Tab) for c in children)
