"""The Inputs tab's handlers called as plain functions: detect a pasted table's columns,
create a version from pasted text, list and preview it; no page involved."""

from __future__ import annotations

import gradio as gr
import pytest

from studio.ui.context import UIContext
from studio.ui.inputs import handlers as inputs_handlers

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
    assert "3" in counts and rejects == [] and rejects_file is None
    [version] = store.list_dataset_versions(app["id"])
    assert versions[0][:2] == ["notes", 1] and pick.value == version["id"]
    assert [row[2] for row in preview] == ["first line", "second line", "third"]
    no_app, table, picker, *shown, note, rejected, rejected_file = inputs_handlers.on_app(
        ctx, app["id"]
    )
    assert no_app.visible is False and picker.value == version["id"]
    assert shown[0] == preview and (note, rejected, rejected_file) == ("", [], None)
    out = inputs_handlers.upload_dataset(
        ctx, app["id"], None, "a good line\na bad\x00line", "", 0, 1, "text", *[""] * 6, {}, ""
    )
    assert out[2].endswith(".csv")  # rejects.csv to download


def test_create_clicked_while_the_new_file_is_detected_uses_the_detection(ctx, store, monkeypatch):
    """The guess for the new file is in the page's state, the form does not show it yet
    (shape "text", no column): an incomplete form is no edit, the file is read as detected."""
    monkeypatch.setattr(inputs_handlers, "trusted_uploads", lambda files: list(files or []))
    app = store.create_app("race")
    csv = ctx.settings.home / "sentiment.csv"
    csv.write_text("sentence,label\nSales rose,positive\nSales fell,negative\nFlat,neutral\n")
    guess = inputs_handlers.detect_columns(ctx, [str(csv)], "", "", {})[-2]
    assert guess["shape"] == "sentence_label"
    with_stale_form = (app["id"], [str(csv)], "", "news", 0, 1, "text", *[""] * 6, guess, "")
    counts, *_ = inputs_handlers.upload_dataset(ctx, *with_stale_form)
    assert "3 accepted" in counts and "Sentence + label" in counts
