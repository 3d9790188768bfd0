"""The Generate tab's handlers called as plain functions: the mode switch,
what a model change clears, and the refusals that come before any model is loaded."""

from __future__ import annotations

import gradio as gr
import pytest

from studio.ui.context import UIContext
from studio.ui.generate import handlers as generate_handlers
from studio.ui.generate.form import OPTION_FIELDS, named_parameters


@pytest.fixture
def ctx(settings, store):
    return UIContext(settings=settings, store=store)


def test_mode_and_model_changes_clear_the_last_output(ctx):
    inst, text, chat, actions, *cleared = generate_handlers.show_mode("Chat")
    assert (inst["visible"], text["visible"], chat["visible"], actions["visible"]) == (
        False,
        False,
        True,
        False,
    )
    assert cleared == [""] * generate_handlers.N_STALE
    out = generate_handlers.follow_model(ctx, "base:anything", "my own words", "", None)
    assert out[: generate_handlers.N_STALE] == ("",) * generate_handlers.N_STALE
    assert out[generate_handlers.N_STALE] == gr.skip()  # a base model taught no instruction


def test_refusals_come_before_any_model_loads(ctx):
    options = [None] * len(OPTION_FIELDS)
    with pytest.raises(gr.Error, match="Type a message first"):
        next(generate_handlers.chat(ctx, "base:x", [], "  ", *options))
    with pytest.raises(gr.Error, match="Compare works in Instruction or Free text mode"):
        next(generate_handlers.compare(ctx, "base:x", None, "Chat", "", "", "", *options))
    assert generate_handlers.render_preview(ctx, None, "an instruction", "") == ""


def test_named_parameters_give_every_option_a_name_and_default():
    def handler(*values):
        return values

    sig = named_parameters(handler, ["model", "text"]).__signature__
    assert list(sig.parameters) == ["model", "text", *OPTION_FIELDS]
    assert sig.parameters["model"].default is sig.empty and sig.parameters["text"].default is None
