"""Handlers send an output only when it differs from what the page shows (gr.skip() else),
so polls, tab switches and repeated clicks do not re-render unchanged components."""

from __future__ import annotations

import gradio as gr
import pandas as pd

from studio.ui.common import changed, choices_update
from studio.ui.models.config_form import FORM_ORDER
from studio.ui.models.problems import PROBLEM_CLASS, mark_fields

SKIP = gr.skip()


def test_changed_compares_values_types_and_frames():
    frame = pd.DataFrame({"step": [1, 2], "value": [0.5, float("nan")]})
    old = ("status", "", frame, "log", True, False)
    assert changed(old, None) == [True] * 6  # nothing sent yet
    assert changed(old, old) == [False] * 6
    same = ("status", "", frame.copy(), "log", True, False)  # NaN in place counts as equal
    assert changed(same, old) == [False] * 6
    new = ("status 2", "", frame.assign(value=[0.4, 0.3]), "log", False, 0)
    assert changed(new, old) == [True, False, True, False, True, True]  # 0 is not False
    assert changed((None,), (frame,)) == [True]
    assert changed(("a", "b"), ("a",)) == [True, True]  # another shape: send all


def test_choices_update_skips_only_when_choices_and_value_are_shown():
    choices = [("Trained: a", "job-1"), ("Base: b", "base")]
    assert choices_update(choices, "job-1", "job-1", None) == gr.update(
        choices=choices, value="job-1"
    )  # nothing listed yet
    assert choices_update(choices, "job-1", "job-1", list(choices)) == SKIP
    # The page shows another value (the user's, or none): the value is sent.
    assert choices_update(choices, "job-1", "base", choices) != SKIP
    assert choices_update(choices, None, "base", choices) == gr.update(choices=choices, value=None)
    # A new choice: sent, even with the same value.
    more = [*choices, ("Trained: c", "job-2")]
    assert choices_update(more, "job-1", "job-1", choices) == gr.update(choices=more, value="job-1")


def test_mark_fields_touches_only_fields_whose_mark_changes():
    a, b = FORM_ORDER[1], FORM_ORDER[2]
    first = mark_fields([a], [])
    assert first[-1] == [a]
    updates = dict(zip(FORM_ORDER, first[:-1], strict=True))
    assert updates[a] == gr.update(elem_classes=[PROBLEM_CLASS])
    assert all(u == SKIP for k, u in updates.items() if k != a)
    second = dict(zip(FORM_ORDER, mark_fields([b], [a])[:-1], strict=True))
    assert second[a] == gr.update(elem_classes=[])
    assert second[b] == gr.update(elem_classes=[PROBLEM_CLASS])
    assert sum(u != SKIP for u in second.values()) == 2
    assert all(u == SKIP for u in mark_fields([b], [b])[:-1])
    # Not knowing what the page shows: every field gets its mark.
    assert all(u != SKIP for u in mark_fields([a])[:-1])


def test_page_shows_detects_crossed_answers():
    from studio.ui.train.views import page_shows

    rows = [["job-b", "m v1", "cancelled", "1/18", "–", "–", "–", "2026-12-01 10:00", "0m05s"]]
    last = (("job-b",), rows, ("**Job job-b** — **cancelled**", "", None, "", False, True))
    table = pd.DataFrame(rows)
    assert page_shows(last, "**Job job-b** — **cancelled**\n", table)
    # A late poll answer drew another job, or an older table: not what was last sent.
    assert not page_shows(last, "**Job job-a** — **running**", table)
    older = pd.DataFrame([[*rows[0][:2], "running", *rows[0][3:]]])
    assert not page_shows(last, "**Job job-b** — **cancelled**", older)
    assert not page_shows(None, "anything", table)  # nothing sent yet
    assert page_shows(last, "**Job job-b** — **cancelled**", None)  # table not asked


def test_a_form_edit_rewrites_only_the_json_editors_it_changes():
    from studio.configs.defaults import default_dicts, default_hyper
    from studio.templates import DEFAULT_TEMPLATE, get_template
    from studio.ui.models.config_form import dicts_to_texts, hyper_to_form
    from studio.ui.models.sync import form_to_json, json_to_form

    template = get_template(DEFAULT_TEMPLATE)
    texts = dicts_to_texts(default_dicts(template))
    form = hyper_to_form(default_hyper(template))
    assert form_to_json(*form, *texts) == [SKIP] * 6  # the page shows it all already
    edited = list(form)
    edited[FORM_ORDER.index("max_steps")] = 7
    out = form_to_json(*edited, *texts)
    trainer = out[4]
    assert out[:4] == [SKIP] * 4 and '"max_steps": 7' in trainer  # the trainer dict only
    assert out[5] == SKIP
    # And back: the edited trainer text changes only the Max steps field.
    back = json_to_form(*form, *texts[:4], trainer, texts[5])
    assert back[FORM_ORDER.index("max_steps")] == 7
    assert sum(v != SKIP for v in back) == 1
