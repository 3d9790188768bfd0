"""Validate / Save problems in the form's words: each names the form field the user sees
(not the JSON key it is stored under), is listed once, and marks that field on the page.

The validator speaks in config keys ("trainer.learning_rate: must be > 0"); the form and the
JSON editors hold the same value, so one mistake could be reported twice under two names.
"""

from __future__ import annotations

import gradio as gr

from studio.configs.hyper import LINKS
from studio.ui.views.config_form import FORM_ORDER, LABELS, SECTION_TITLES

# "section.key" (and bare hyper keys) -> the form field holding that value.
_FIELD_OF = {f"{link.section}.{link.key}": link.hyper for link in LINKS}
_FIELD_OF.update({key: key for key in FORM_ORDER})
_FIELD_OF.update({f"data.{key}": key for key in FORM_ORDER})
NAME_PROBLEM = "**Model name**: type a name (saving again under the same name makes a new version)"
VERSION_PROBLEM = (
    "Dataset version: choose the one to train on (add one in the Inputs tab if the list is empty)"
)
PROBLEM_CLASS = "studio-has-problem"


def _label(field: str) -> str:
    return LABELS[field].split(" (")[0]


def form_problems(problems: list[str], model_name: str | None = "") -> tuple[list[str], list[str]]:
    """(lines to show, form fields to mark): deduplicated and named after the form fields.

    `model_name` None means "not checked" (the name is only needed to save).
    """
    lines: list[str] = [] if model_name is None or (model_name or "").strip() else [NAME_PROBLEM]
    fields: list[str] = []
    seen: set[tuple[str, str]] = set()
    for problem in problems:
        where, sep, message = problem.partition(": ")
        if not sep:
            where, message = "", problem
        field = _FIELD_OF.get(where)
        if field:
            name = _label(field)
            fields.append(field)
        elif where in SECTION_TITLES:  # a whole JSON editor (e.g. not valid JSON)
            name = SECTION_TITLES[where].split(" (")[0]
        elif "." in where and where.split(".")[0] in SECTION_TITLES:
            section, key = where.split(".", 1)
            name = f"{SECTION_TITLES[section].split(' (')[0]} → {key}"
        else:
            name = where
        if (name, message) in seen:
            continue
        seen.add((name, message))
        lines.append(f"**{name}**: {message}" if name else message)
    return lines, list(dict.fromkeys(fields))


def problems_text(lines: list[str]) -> str:
    """The Validate / Save message: every problem as a bullet, or an all-clear."""
    if not lines:
        return "No problems: these settings can be saved."
    return f"**{len(lines)} problem(s):**\n" + "\n".join(f"- {line}" for line in lines)


def mark_fields(flagged: list[str] | None) -> list:
    """Updates for every form field: marked when it has a problem, plain otherwise."""
    flagged = set(flagged or [])
    return [gr.update(elem_classes=[PROBLEM_CLASS] if key in flagged else []) for key in FORM_ORDER]
