"""The Models form and its six JSON editors kept in step: an edit of either rewrites the
other at once (half-typed JSON is left alone; Validate points at it)."""

from __future__ import annotations

import gradio as gr

from studio.configs import STORED_SECTIONS
from studio.configs.hyper import apply_hyperparameters, hyperparameters_from_dicts
from studio.ui.models.config_form import (
    FORM_ORDER,
    dicts_to_texts,
    form_to_hyper,
    hyper_to_form,
    texts_to_dicts,
)
from studio.ui.models.views import arch_to_form, form_to_arch, model_dict_from_text


def gather(values: tuple) -> tuple[dict, dict, list[str]]:
    """(hyper, sections, json problems) from the form values + the six JSON texts.

    The form wins for the keys it maps (apply_hyperparameters writes it over the dicts); the
    two stay in step anyway because each edit of one rewrites the other at once.
    """
    n = len(FORM_ORDER)
    dicts, problems = texts_to_dicts(list(values[n : n + len(STORED_SECTIONS)]))
    return form_to_hyper(values[:n]), dicts, problems


def _only_changed(new: list, shown: tuple | list) -> list:
    """gr.skip() where the page already shows the new value, so a keystroke in one field
    re-renders only the editors (or fields) it changes, not all of them."""
    return [gr.skip() if v == old else v for v, old in zip(new, shown, strict=True)]


def form_to_json(*values):
    """The six JSON texts rewritten from the form (the changed ones only)."""
    n = len(FORM_ORDER)
    dicts, bad = texts_to_dicts(list(values[n:]))
    if bad:  # keep the user's half-typed JSON; Validate will point at it
        return [gr.skip()] * len(STORED_SECTIONS)
    texts = dicts_to_texts(apply_hyperparameters(dicts, form_to_hyper(values[:n])))
    return _only_changed(list(texts), values[n:])


def json_to_form(*values):
    """The form fields rewritten from the six JSON texts (the changed ones only)."""
    hyper, dicts, bad = gather(values)
    if bad:  # half-typed JSON: leave the form as it is
        return [gr.skip()] * len(FORM_ORDER)
    return _only_changed(
        list(hyper_to_form(hyperparameters_from_dicts(dicts, hyper))), values[: len(FORM_ORDER)]
    )


def wire_form_sync(fields: list, codes: list, arch: list, model_code) -> None:
    """Listeners that copy form edits into the JSON and JSON edits into the form."""

    def arch_to_json(model_text: str, *values):
        model_dict = model_dict_from_text(model_text)
        if model_dict is None:  # half-typed JSON: Validate will point at it
            return gr.skip()
        return dicts_to_texts({"model": form_to_arch(model_dict, list(values))})[0]

    def json_to_arch(model_text: str):
        model_dict = model_dict_from_text(model_text)
        return arch_to_form(model_dict) if model_dict is not None else [gr.skip()] * len(arch)

    quiet = dict(show_progress="hidden", queue=False)
    form_and_json, code_and_arch, code = [*fields, *codes], [model_code, *arch], [model_code]
    form_edits, json_edits = [f.input for f in fields], [c.input for c in codes]
    gr.on(form_edits, form_to_json, form_and_json, codes, api_name="form_to_json", **quiet)
    gr.on(json_edits, json_to_form, form_and_json, fields, api_name="json_to_form", **quiet)
    arch_edits = [a.input for a in arch]
    gr.on(arch_edits, arch_to_json, code_and_arch, code, api_name="arch_to_json", **quiet)
    model_code.input(json_to_arch, code, arch, api_name="json_to_arch", **quiet)
