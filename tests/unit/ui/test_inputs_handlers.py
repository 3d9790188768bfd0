"""The Inputs tab's handlers called as plain functions: detect a pasted table's columns,
create a version from pasted text, list and preview it; no page involved."""

from __future__ import annotations

import gradio as gr
import pytest

from studio.ui import inputs_handlers
from studio.ui.context import UIContext

PASTED = "sentence,label\nprofit rose,positive\nsales fell,negative\nflat year,neutral\n"


@pytest.fixture
def ctx(settings, store):
    return UIContext(settings=settings, store=store)


def test_detect_columns_proposes_a_mapping_and_an_instruction(ctx):
    box, note, shape, *columns, seen, instruction = inputs_handlers.detect_columns(
        ctx, None, PASTED, "", {}
    )
    assert box.visible and "Detected" in note and "3 rows" in note
    assert seen["source"] and seen["proposed"] == instruction and "positive" in instruction
    hidden, *_ = inputs_handlers.detect_columns(ctx, None, "", "", {})
    assert hidden.visible is False


def test_upload_then_list_and_preview_the_version(ctx, store):
    app = store.create_app("a")
    with pytest.raises(gr.Error, match="Choose or create an app"):
        inputs_handlers.upload_dataset(ctx, "", None, PASTED, "", 0, 1, "text", *[""] * 6, {})
    out = inputs_handlers.upload_dataset(
        ctx,
        app["id"],
        None,
        "first line\nsecond line\nthird",
        "notes",
        0,
        1,
        "text",
        *[""] * 6,
        {},
        "",
    )
    counts, rejects, rejects_file, versions, pick, preview, stats, *_ = out
    assert "3" in counts and rejects == []
    assert rejects_file == gr.update(value=None, visible=False)  # no empty box for 0 rejects
    [version] = store.list_dataset_versions(app["id"])
    assert versions[0][:2] == ["notes", 1] and pick.value == version["id"]
    assert [row[2] for row in preview] == ["first line", "second line", "third"]
    no_app, table, picker, *shown, note, rejected, rejected_file = inputs_handlers.on_app(
        ctx, app["id"]
    )
    assert no_app.visible is False and picker.value == version["id"]
    assert shown[0] == preview and (note, rejected) == ("", [])
    assert rejected_file == gr.update(value=None, visible=False)
    out = inputs_handlers.upload_dataset(
        ctx, app["id"], None, "a good line\na bad\x00line", "", 0, 1, "text", *[""] * 6, {}, ""
    )
    rejected_file = out[2]
    assert rejected_file["visible"] is True and rejected_file["value"].endswith(".csv")
