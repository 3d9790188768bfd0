"""Every event of the page names where its progress shows, and that place is small.

The page keeps a loading status for each component an event ever marked pending and hands
all of them back, copying each component's properties, on every status change of any event.
So an event that marks its every output (the default), a row or group (everything inside
is copied), a table or a chart (every row or point) makes every later click slower."""

from __future__ import annotations

import gradio as gr
import pytest

from studio.ui.progress import narrow_progress_targets


@pytest.fixture(scope="module")
def blocks(tmp_path_factory):
    from app import create_server
    from studio.settings import Settings

    home = tmp_path_factory.mktemp("home")
    _, blocks, _ = create_server(Settings.from_env(home=home), start_runner=False)
    return blocks


def ids_of(blocks):
    return {b._id: b for b in blocks.blocks.values()}


def _config_targets(blocks):
    ids = ids_of(blocks)
    for dep in blocks.get_config_file()["dependencies"]:
        yield (
            dep,
            [ids[i] for i in dep["show_progress_on"]]
            if dep["show_progress_on"] is not None
            else None,
        )


def test_every_event_names_small_progress_targets(blocks):
    deps = list(_config_targets(blocks))
    assert len(deps) > 50  # the whole page, not a part of it
    for dep, targets in deps:
        assert targets is not None, f"event {dep['id']} marks all its outputs pending"
        if dep["show_progress"] == "hidden":
            assert targets == [], f"event {dep['id']}: a hidden progress needs no target"
        for t in targets:
            assert not isinstance(t, (gr.Row, gr.Column, gr.Group, gr.Tabs, gr.Tab))
            assert not isinstance(t, (gr.Dataframe, gr.LinePlot, gr.State, gr.Timer))
        # An event that shows its progress and displays a result keeps a spinner on it
        # (an export's file, a status line), so a long wait never looks like nothing.
        outputs = [ids_of(blocks)[i] for i in dep["outputs"]]
        if dep["show_progress"] != "hidden" and dep["backend_fn"]:
            if any(isinstance(o, (gr.Markdown, gr.HTML, gr.Chatbot)) for o in outputs) or any(
                isinstance(o, (gr.Textbox, gr.File)) and o.interactive is False for o in outputs
            ):
                assert targets, f"event {dep['id']} shows its result without a spinner"
    # In all, a handful of places show progress, not the page's ~190 components.
    distinct = {id(t) for _, targets in deps for t in targets}
    assert len(distinct) < 40


def test_rule_keeps_explicit_targets_and_narrows_the_rest():
    with gr.Blocks() as demo:
        box = gr.Textbox()
        note = gr.Markdown()
        table = gr.Dataframe()
        with gr.Row() as row:
            gr.Button()
        btn = gr.Button()
        btn.click(lambda x: (x, x, None, None), [box], [box, note, table, row])
        btn.click(lambda x: x, [box], [note], show_progress="hidden")
        btn.click(lambda x: x, [box], [note, box], show_progress_on=[box])
    assert narrow_progress_targets(demo) == 2
    shown, hidden, explicit = demo.fns.values()
    assert shown.show_progress_on == [note]  # not the input box, the table or the row
    assert hidden.show_progress_on == []
    assert explicit.show_progress_on == [box]  # named by the developer: kept
    assert narrow_progress_targets(demo) == 0  # idempotent


def test_validate_answers_in_one_event_with_its_marks(blocks):
    """Validate marks the fields it names in its own answer, not in a second event."""
    deps = blocks.get_config_file()["dependencies"]
    ids = {b._id: b for b in blocks.blocks.values()}
    validate = [
        d
        for d in deps
        if any(getattr(ids.get(t[0]), "elem_id", None) == "models-validate" for t in d["targets"])
    ]
    assert len(validate) == 1
    after = [d for d in deps if d.get("trigger_after") == validate[0]["id"]]
    assert after == []
    assert len(validate[0]["outputs"]) > 20  # problems, fields named, every field's mark


def test_every_click_on_the_jobs_table_runs(blocks):
    """A row clicked while the previous click is still answering is not dropped (Gradio's
    default for a select listener, "once", drops it)."""
    ids = {b._id: b for b in blocks.blocks.values()}
    selects = [
        d
        for d in blocks.get_config_file()["dependencies"]
        if any(
            getattr(ids.get(t[0]), "elem_id", None) == "train-jobs" and t[1] == "select"
            for t in d["targets"]
        )
    ]
    assert len(selects) == 1
    assert selects[0]["trigger_mode"] == "multiple"


def test_the_train_plan_is_drawn_again_when_the_tab_opens_and_a_job_changes(blocks):
    """The plan's "ends by" clock and its estimate from the last run go stale: opening the
    Train tab and every change of a job's state draw it again, not only picking a model."""
    ids = ids_of(blocks)
    triggers = set()
    for dep in blocks.get_config_file()["dependencies"]:
        if [getattr(ids[i], "elem_id", None) for i in dep["outputs"]] == ["train-plan"]:
            triggers |= {(type(ids[block]).__name__, event) for block, event in dep["targets"]}
    assert {("Dropdown", "change"), ("Tab", "select"), ("State", "change")} <= triggers
