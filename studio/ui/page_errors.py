"""Where a failed click shows its error on the page: in the event's own message box.

When a handler raises, Gradio marks the event failed and puts a red "Error" pill on each
of its progress targets, the message box included, which keeps its previous text: the page
then says "Created FPB by hand" and "Error" at once. So for clicks made on the page, a
gr.Error (every StudioError becomes one in common.user_errors) is turned into an ordinary
answer: the message box shows the error text, a download box of the event is emptied (its
old file no longer answers the click), every other output keeps what it shows, and an
error toast says it as before. Nothing is marked failed, so no pill is drawn.

Calls through the API (gradio_client, another Gradio app) still fail with the error, as
API callers expect. Gradio's own clients say which is which: the page sends the header
`x-gradio-user: app`, gradio_client sends `api`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from functools import wraps

import gradio as gr
from gradio.context import LocalContext
from gradio.helpers import log_message

ERROR_PREFIX = "**Error:** "


def errors_in_messages(blocks: gr.Blocks) -> int:
    """Wrap every event that has a handler so a page click's gr.Error becomes its message;
    the number of events wrapped. Run after narrow_progress_targets (it reads the targets)."""
    wrapped = 0
    for block_fn in blocks.fns.values():
        fn = block_fn.fn
        if fn is None or getattr(fn, "_studio_page_errors", False):
            continue
        if inspect.iscoroutinefunction(fn) or inspect.isasyncgenfunction(fn):
            continue  # none on this page; a sync wrapper would break them
        block_fn.fn = _answer_errors(block_fn.fn, _error_values(block_fn))
        wrapped += 1
    return wrapped


def from_page() -> bool:
    """Whether the event running now was sent by the page (not by an API client)."""
    request = LocalContext.request.get(None)
    headers = getattr(request, "headers", None) or {}
    return headers.get("x-gradio-user") == "app"


def error_markdown(message: str) -> str:
    """The text a message box shows for an error."""
    return ERROR_PREFIX + message


def _error_values(block_fn) -> Callable[[str], object]:
    """The event's answer to an error: its outputs, with the message boxes (the Markdown
    progress targets) showing the error and its download boxes emptied."""
    outputs = list(block_fn.outputs or [])
    targets = {id(t) for t in (block_fn.show_progress_on or [])}

    def values(message: str):
        out = []
        for o in outputs:
            if id(o) in targets and isinstance(o, gr.Markdown):
                out.append(error_markdown(message))
            elif id(o) in targets and isinstance(o, gr.File):
                out.append(None)
            else:
                out.append(gr.skip())
        if not out:
            return None
        return out[0] if len(out) == 1 else tuple(out)

    return values


def _toast(message: str) -> None:
    # Gradio's page draws a log message of level "error" as the same red toast a raised
    # gr.Error gives (gradio.helpers.log_message's hint lists only the other levels).
    log_message(message, title="Error", level="error")  # type: ignore[arg-type]


def _answer_errors(fn: Callable, values: Callable[[str], object]) -> Callable:
    if inspect.isgeneratorfunction(fn):

        @wraps(fn)
        def streaming(*args, **kwargs):
            try:
                yield from fn(*args, **kwargs)
            except gr.Error as exc:
                if not from_page():
                    raise
                _toast(exc.message)
                yield values(exc.message)

        wrapper = streaming
    else:

        @wraps(fn)
        def wrapper(*args, **kwargs):
            try:
                return fn(*args, **kwargs)
            except gr.Error as exc:
                if not from_page():
                    raise
                _toast(exc.message)
                return values(exc.message)

    wrapper._studio_page_errors = True  # type: ignore[attr-defined]
    return wrapper
