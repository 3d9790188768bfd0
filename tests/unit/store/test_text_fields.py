"""Text a user types into a name or pastes as examples: a lone surrogate is refused in words
(never "Something went wrong (UnicodeEncodeError)"), and one bad pasted line is one
rejected row, not a failed paste."""

from __future__ import annotations

import gradio as gr
import pytest

from studio.data.versions import create_version, pasted_source
from studio.errors import StudioError
from studio.ui import apps_tab, settings_panel
from studio.ui.context import UIContext

SURROGATE = "\ud800"


@pytest.fixture
def ctx(settings, store):
    return UIContext(settings=settings, store=store)


def test_a_lone_surrogate_in_a_name_is_refused_in_words(ctx, store):
    for call in (
        lambda: apps_tab.create_app(ctx, f"bad{SURROGATE}", "", None),
        lambda: apps_tab.create_app(ctx, "fine", f"desc{SURROGATE}", None),
        lambda: settings_panel.create_key(ctx, f"key{SURROGATE}", None),
    ):
        with pytest.raises(gr.Error, match="not valid text") as err:
            call()
        assert "Something went wrong" not in str(err.value)
    app = store.create_app("ok")
    with pytest.raises(StudioError, match="not valid text"):
        store.rename_app(app["id"], f"x{SURROGATE}")
    with pytest.raises(StudioError, match="not valid text"):
        store.create_model(app["id"], f"m{SURROGATE}", "smollm2-135m-lora", "causal", None, {})
    with pytest.raises(StudioError, match="not valid text"):
        create_version(store, ctx.settings, app["id"], f"d{SURROGATE}", [("a.txt", b"one\n")])
    assert [a["name"] for a in store.list_apps()] == ["ok"]


def test_one_bad_pasted_line_is_one_rejected_row(ctx, store):
    app = store.create_app("paste")["id"]
    text = f"### Human: good one ### Assistant: yes\n### Human: bad {SURROGATE} ### Assistant: no\n"
    text += "### Human: good two ### Assistant: yes\n"
    _, report = create_version(store, ctx.settings, app, "pasted", [pasted_source(text)])
    assert report["n_accepted"] == 2 and report["n_rejected"] == 1
    assert "not valid UTF-8" in str(report["rejects"][0])
