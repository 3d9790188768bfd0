"""Validate / Save problems in the form's words: each names the form field the user sees
(not the JSON key it is stored under), is listed once, and marks that field on the page.

Each Problem names the key its value is stored under (`Problem.key`, "trainer.learning_rate");
the settings table says which form field shows that key, so no message is ever parsed. The
form and the JSON editors hold the same value, so one mistake is listed once, under the form
field's name.
"""

from __future__ import annotations

import gradio as gr

from studio.configs.table import FIELD_OF
from studio.errors import Problem
from studio.ui.models.config_form import FORM_ORDER, LABELS, SECTION_TITLES

NAME_PROBLEM = "**Model name**: type a name (saving again under the same name makes a new version)"
VERSION_PROBLEM = Problem(
    "dataset_version",
    "choose the one to train on (add one in the Inputs tab if the list is empty)",
)
# Problems about the settings as a whole, named as the page names them.
OTHER_NAMES = {"dataset_version": "Dataset version", "model_type": "Model type"}
PROBLEM_CLASS = "studio-has-problem"


def _label(field: str) -> str:
    return LABELS[field].split(" (")[0]


def _field(key: str) -> str | None:
    """The form field showing the value a problem's key names ("form.<field>" for a form
    value that has no key of its own)."""
    if key.startswith("form."):
        name = key.removeprefix("form.")
        return name if name in LABELS else None
    return FIELD_OF.get(key)


def _name(problem: Problem, field: str | None) -> str:
    """What the page calls the place of a problem: its form field's label, a JSON editor, or
    an editor's key."""
    if field:
        return _label(field)
    section, _, key = problem.key.partition(".")
    if section in SECTION_TITLES:
        title = SECTION_TITLES[section].split(" (")[0]
        return f"{title} → {key}" if key else title
    return OTHER_NAMES.get(problem.key, problem.key)


def form_problems(
    problems: list[Problem], model_name: str | None = ""
) -> tuple[list[str], list[str]]:
    """(lines to show, form fields to mark): deduplicated and named after the form fields.

    `model_name` None means "not checked" (the name is only needed to save).
    """
    lines: list[str] = [] if model_name is None or (model_name or "").strip() else [NAME_PROBLEM]
    fields: list[str] = []
    seen: set[tuple[str, str]] = set()
    for problem in problems:
        field = _field(problem.key)
        if field:
            fields.append(field)
        name = _name(problem, field)
        if (name, problem.message) in seen:
            continue
        seen.add((name, problem.message))
        lines.append(f"**{name}**: {problem.message}" if name else problem.message)
    return lines, list(dict.fromkeys(fields))


def problems_text(lines: list[str]) -> str:
    """The Validate / Save message: every problem as a bullet, or an all-clear."""
    if not lines:
        return "No problems: these settings can be saved."
    return f"**{len(lines)} problem(s):**\n" + "\n".join(f"- {line}" for line in lines)


def mark_fields(flagged: list[str] | None, marked: list[str] | None = None) -> list:
    """Updates for every form field: marked when it has a problem, plain otherwise; then the
    fields now marked. With `marked` (the fields the page shows marked), a field whose mark
    does not change gets gr.skip(), so Validate re-renders only what it marks or unmarks."""
    flagged = set(flagged or [])
    before = None if marked is None else set(marked)
    updates = [
        gr.skip()
        if before is not None and (key in flagged) == (key in before)
        else gr.update(elem_classes=[PROBLEM_CLASS] if key in flagged else [])
        for key in FORM_ORDER
    ]
    return [*updates, sorted(flagged)]
