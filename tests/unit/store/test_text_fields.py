"""Text a user types into a name or pastes as examples: a lone surrogate is refused in words
(never "Something went wrong (UnicodeEncodeError)"), and one bad pasted line is one
rejected row, not a failed paste."""

from __future__ import annotations

import gradio as gr
import pytest

from studio.data.versions import create_version, pasted_source
from studio.errors import StudioError
from studio.ui.apps import handlers as apps_tab
from studio.ui.context import UIContext
from studio.ui.settings import handlers as settings_panel

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


@pytest.mark.parametrize(
    "name",
    [
        "bob\u200b-app",  # zero-width space: looks exactly like bob-app
        "bob\u200d-app",  # zero-width joiner
        "\u202eppa-bob",  # right-to-left override
        "bob\u2066-app",  # left-to-right isolate
        "bob\ufeff-app",  # byte order mark
        "bob\u00ad-app",  # soft hyphen
        "bob\x07-app",  # a control character
        "bob\u3164app",  # Hangul filler: a blank that is a letter
    ],
)
def test_invisible_and_direction_characters_are_refused_in_names(store, name):
    with pytest.raises(StudioError, match="invisible or direction"):
        store.create_app(name)
    app = store.create_app("plain")
    for call in (
        lambda: store.rename_app(app["id"], name),
        lambda: store.create_model(app["id"], name, "smollm2-135m-lora", "causal", None, {}),
        lambda: store.create_api_key("ann", name),
    ):
        with pytest.raises(StudioError, match="invisible or direction"):
            call()


def test_names_are_normalised_so_look_alikes_are_one_name(store):
    app = store.create_app("\uff42\uff4f\uff42 app")  # fullwidth letters
    assert app["name"] == "bob app"
    assert store.create_app("caf\u0065\u0301")["name"] == "caf\u00e9"  # one é
    with pytest.raises(StudioError, match="already have an app named"):
        store.create_app("bob\u00a0app")  # a no-break space is a space


def test_names_and_descriptions_have_lengths_and_module_lists_have_no_repeats(store):
    app = store.create_app("sizes")
    with pytest.raises(StudioError, match="at most 80"):
        store.create_model(app["id"], "m" * 100_000, "smollm2-135m-lora", "causal", None, {})
    with pytest.raises(StudioError, match="at most 2,000"):
        store.create_app("big", description="d" * 1_000_000)
    with pytest.raises(StudioError, match="at most 2,000"):
        store.update_app(app["id"], description="d" * 1_000_000)
    from studio.configs.fields import check_value
    from studio.configs.schemas import PEFT

    spec = PEFT["target_modules"]
    assert check_value("peft.target_modules", spec, ["q_proj", "v_proj"]) is None
    assert "at most 256" in str(check_value("peft.target_modules", spec, ["q_proj"] * 10_000))
    assert "twice" in str(check_value("peft.target_modules", spec, ["q_proj", "v_proj", "q_proj"]))
    many = [f"m{i}" for i in range(10_000)]
    assert "at most" in str(check_value("peft.target_modules", spec, many))
