"""The Models tab's handlers called as plain functions (no page): the dataset version
summary and its validation share, template changes, save / clone / delete."""

from __future__ import annotations

import gradio as gr
import pytest

from studio.configs.defaults import default_dicts, default_hyper
from studio.templates import DEFAULT_TEMPLATE, get_template
from studio.ui.context import UIContext
from studio.ui.models import handlers as h
from studio.ui.models.config_form import FORM_ORDER, dicts_to_texts, hyper_to_form

SKIP = gr.skip()


@pytest.fixture
def ctx(settings, store):
    return UIContext(settings=settings, store=store)


def _version(store, app_id: str, n_rows=110, n_accepted=100, n_rejected=10, valid_pct=20.0):
    with store.transaction() as conn:
        ds = store.get_or_create_dataset(app_id, "reviews", conn=conn)
        return store.add_dataset_version(
            conn,
            ds["id"],
            content_hash=f"h{n_rows}",
            path="",
            n_rows=n_rows,
            n_accepted=n_accepted,
            n_rejected=n_rejected,
            valid_pct=valid_pct,
            stats={"task": "generation"},
        )


def _form_values(key: str = DEFAULT_TEMPLATE) -> list:
    t = get_template(key)
    return [*hyper_to_form(default_hyper(t)), *dicts_to_texts(default_dicts(t))]


def test_versions_list_the_newest_with_its_summary_and_share(ctx, store):
    app = store.create_app("a")
    version = _version(store, app["id"])
    dropdown, summary, valid_pct = h.versions(ctx, app["id"])
    assert dropdown["value"] == version["id"] and valid_pct == 20.0
    # 10 of 110 rows rejected: the tolerance rule's share, rounded.
    assert summary.startswith("**reviews v1:** 110 rows, 100 accepted, 10 rejected (9%)")
    assert h.on_version(ctx, app["id"], version["id"]) == (summary, 20.0)
    assert h.on_version_summary(ctx, app["id"], version["id"]) == summary
    # Another app's or no version: nothing shown, the form's share left as it is.
    assert h.on_version(ctx, app["id"], "nope") == ("", SKIP)
    assert h.on_version_summary(ctx, "", version["id"]) == ""
    empty = store.create_app("b")
    assert h.versions(ctx, empty["id"])[1:] == ("", SKIP)


def test_template_changes_reset_the_form_and_a_closed_dropdown_does_nothing(ctx, store):
    assert h.on_template(ctx, DEFAULT_TEMPLATE, "causal", "", None, DEFAULT_TEMPLATE) == SKIP
    out = h.on_template(ctx, "tiny-gpt-scratch", "causal", "", None, DEFAULT_TEMPLATE)
    *state, parent, shown, note = out
    assert (parent, shown) == ("", "tiny-gpt-scratch") and "reset to its defaults" in note
    assert len(state) == 1 + len(FORM_ORDER) + 6  # card, every field, the six sections
    chooser, *_, key, _note = h.on_type(ctx, "causal", "", None)
    assert chooser["value"] == DEFAULT_TEMPLATE == key
    lora_row, lora_note, peft, arch_row, *arch = h.on_layout(ctx, "tiny-gpt-scratch", "", "{")
    assert (lora_row["visible"], arch_row["visible"]) == (False, True)
    assert arch and all(v == SKIP for v in arch)  # the model dict is not JSON: left alone


def test_save_lists_problems_then_saves_clones_and_deletes(ctx, store):
    app = store.create_app("a")
    version = _version(store, app["id"])
    values = _form_values()
    with pytest.raises(gr.Error, match="Choose or create an app"):
        h.on_save(ctx, "", "causal", DEFAULT_TEMPLATE, version["id"], "bot", "", *values)
    problems, _rows, _pick, bumped, parent, _marked = h.on_save(
        ctx, app["id"], "causal", DEFAULT_TEMPLATE, None, "bot", "p", *values
    )
    assert "dataset version" in problems.lower() and bumped == SKIP and parent == "p"
    note, rows, pick, bumped, parent, marked = h.on_save(
        ctx, app["id"], "causal", DEFAULT_TEMPLATE, version["id"], "bot", "", *values
    )
    [model] = store.list_models(app["id"])
    assert note == "Saved **bot v1**." and (parent, marked) == ("", [])
    assert pick["value"] == model["id"] and len(rows) == 1 and bumped != SKIP
    cloned = h.on_clone(ctx, model["id"])
    assert cloned[0] == "causal" and cloned[-1] == DEFAULT_TEMPLATE
    assert cloned[-5:-2] == [version["id"], "bot", model["id"]]
    with pytest.raises(gr.Error, match="Tick 'I understand'"):
        h.on_delete(ctx, app["id"], model["id"], False, model["id"])
    note, rows, pick, _, confirm, parent = h.on_delete(
        ctx, app["id"], model["id"], True, model["id"]
    )
    assert note == "Deleted **bot v1**." and rows == [] and pick["value"] is None
    assert (confirm, parent) == (False, "")  # the cloned form now saves a fresh model
    assert store.list_models(app["id"]) == []


def test_validate_answers_with_the_marks_that_change(ctx):
    """Validate's single answer: the problems, the fields named, one update per form field
    (a mark only where it changes), then the fields now marked."""
    values = _form_values()
    lr = FORM_ORDER.index("learning_rate")
    bad = list(values)
    bad[lr] = -1
    text, flagged, *marks, shown = h.on_validate_and_mark(
        ctx, [], DEFAULT_TEMPLATE, "causal", "m", *bad
    )
    assert "problem" in text and flagged == shown == ["learning_rate"]
    assert len(marks) == len(FORM_ORDER)
    assert [i for i, m in enumerate(marks) if m != SKIP] == [lr]
    # Fixed: only that field's mark changes back; the page then shows none.
    text, flagged, *marks, shown = h.on_validate_and_mark(
        ctx, ["learning_rate"], DEFAULT_TEMPLATE, "causal", "m", *values
    )
    assert text.startswith("No problems") and flagged == shown == []
    assert [i for i, m in enumerate(marks) if m != SKIP] == [lr]
    assert marks[lr]["elem_classes"] == []


def test_validate_and_save_refuse_a_server_folder_alike(settings, store, tmp_path):
    """With sign-in on, a base model named by a folder on the server is one problem, said
    the same by Validate and by Save (which then saves nothing)."""
    import dataclasses
    from types import SimpleNamespace

    from gradio.context import LocalContext

    team = UIContext(settings=dataclasses.replace(settings, sign_in="users"), store=store)
    app = store.create_app("a", owner="bob")
    version = _version(store, app["id"])
    values = _form_values("custom")
    values[FORM_ORDER.index("base_model")] = str(tmp_path)
    token = LocalContext.request.set(SimpleNamespace(username="bob", headers={}))
    try:
        validated, _ = h.on_validate(team, "custom", "causal", "m", *values)
        saved = h.on_save(team, app["id"], "causal", "custom", version["id"], "m", "", *values)
    finally:
        LocalContext.request.reset(token)
    assert "folder on the server" in validated
    assert saved[0] == validated  # the same problems, in the same words
    assert store.list_models(app["id"]) == []
