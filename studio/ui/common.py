"""Small helpers shared by the tabs: error display, change-counter bumps, and `bind`, which
turns a module-level handler `fn(ctx, *inputs)` into the Gradio listener `fn(*inputs)`."""

from __future__ import annotations

import inspect
import logging
import threading
import time
from collections.abc import Callable
from functools import wraps
from typing import Any

import gradio as gr

from studio.errors import StudioError

log = logging.getLogger("studio.ui")

NO_APP = "Choose or create an app in the **Apps** tab first."


def bump() -> str:
    """A new value for a *_changed textbox, so its .change listeners fire."""
    return str(time.time_ns())


def changed(new: tuple | list, old: tuple | list | None) -> list[bool]:
    """Per output, whether `new` differs from what was last sent (`old`, None: nothing yet).

    Handlers send gr.skip() where this is False, so a poll or a repeated click does not make
    the page re-render a component (a chart, a table, a dropdown) that shows the same thing.
    """
    if old is None or len(old) != len(new):
        return [True] * len(new)
    return [not _same(a, b) for a, b in zip(new, old, strict=True)]


def choices_update(choices: list, value, shown_value, listed: list | None):
    """A dropdown's new choices and value, or gr.skip() when the page shows both already
    (`listed`: the choices last sent to this page; `shown_value`: its value now)."""
    if listed is not None and list(listed) == list(choices) and value == shown_value:
        return gr.skip()
    return gr.update(choices=choices, value=value)


def _same(a, b) -> bool:
    if hasattr(a, "equals") or hasattr(b, "equals"):  # pandas frames: compare the data
        return type(a) is type(b) and a.equals(b)
    try:
        return bool(a == b) and type(a) is type(b)
    except (TypeError, ValueError):  # values that do not compare to a single truth value
        return False


def hidden_until_file(box: gr.File) -> gr.File:
    """Show a download box (built with visible=False) only while it holds a file: an empty
    one is 150 px of nothing. The handlers that fill it keep returning a plain path (what
    API callers get); this listener follows its value in the page."""
    box.change(
        lambda path: gr.update(visible=bool(path)),
        [box],
        [box],
        queue=False,
        show_progress="hidden",
        api_name=f"show_{(box.elem_id or 'file').replace('-', '_')}",
        api_visibility="private",
    )
    return box


def plot_value(frame):
    """What to send to a gr.LinePlot: the frame, or None while it has no rows.

    A colored LinePlot (Gradio 6) that once received an empty frame never draws its lines
    again, though its axes follow later data; starting from None it draws them.
    """
    return frame if frame is not None and len(frame) else None


def in_background(work: Callable[[], Any], waiting: Callable[[float], Any], every_s: float = 1.0):
    """For a streaming handler: run `work` in a thread and, every `every_s` seconds while it
    runs, yield `waiting(seconds waited)`; return work's result (or raise its error).

        made = yield from in_background(lambda: slow(...), lambda s: f"Working… {s:.0f} s")
    """
    started = time.monotonic()
    done, outcome = threading.Event(), {}

    def run() -> None:
        try:
            outcome["value"] = work()
        except BaseException as exc:  # raised again on the handler's thread
            outcome["error"] = exc
        finally:
            done.set()

    # A daemon thread: a page closed meanwhile leaves the work to finish on its own.
    threading.Thread(target=run, daemon=True, name="studio-background").start()
    while not done.wait(every_s):
        yield waiting(time.monotonic() - started)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def user_errors(fn: Callable) -> Callable:
    """Show a StudioError's message as a gr.Error; log anything else and show a short note."""

    def translate(exc: Exception) -> gr.Error:
        if isinstance(exc, StudioError):
            return gr.Error(str(exc))
        # A bug: the full traceback goes to the log, a short note to the page.
        log.exception("unexpected error in %s", fn.__name__)
        return gr.Error(f"Something went wrong ({type(exc).__name__}); see the server log.")

    if inspect.isgeneratorfunction(fn):  # streaming handlers must stay generators

        @wraps(fn)
        def gen_wrapper(*args, **kwargs):
            try:
                yield from fn(*args, **kwargs)
            except gr.Error:
                raise
            except Exception as exc:
                raise translate(exc) from exc

        return gen_wrapper

    @wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except gr.Error:
            raise
        except Exception as exc:
            raise translate(exc) from exc

    return wrapper


def bind(ctx: Any, fn: Callable) -> Callable:
    """`fn(ctx, *inputs)` as the listener `handler(*inputs)`.

    The tabs' handlers are module-level functions taking the UI context first, so a test
    calls them with values and reads the values back, without a page. Gradio reads a
    listener's signature and type hints (API parameter names, where to put gr.Request or
    gr.SelectData, whether it streams): the handler keeps fn's, less `ctx`. A
    functools.partial would hide the type hints, and with them the request.
    """
    if inspect.isgeneratorfunction(fn):

        @wraps(fn)
        def handler(*args, **kwargs):
            yield from fn(ctx, *args, **kwargs)

    else:

        @wraps(fn)
        def handler(*args, **kwargs):
            return fn(ctx, *args, **kwargs)

    sig = inspect.signature(fn)
    handler.__signature__ = sig.replace(parameters=list(sig.parameters.values())[1:])
    return handler
