"""The Generate tab's handlers: plain functions of (ctx, *values), wired in tab.py
with common.bind. Every streaming handler is also a Gradio API endpoint (/generate, /compare,
/chat). No torch import here: the engine loads models on first use.
"""

from __future__ import annotations

import gradio as gr

from studio.errors import StudioError
from studio.generate.engine import get_engine
from studio.generate.refs import ensure_reachable, list_models
from studio.ui.common import choices_update, user_errors
from studio.ui.context import UIContext
from studio.ui.generate.form import (
    OPTION_FIELDS,
    join_sequences,
    options_from_form,
    prompt_from_form,
)
from studio.ui.generate.notes import cpu_note, trained_instruction
from studio.ui.generate.streams import PageStreams, follow

STREAMS = PageStreams()  # one running stream per browser session (streams.py)

N_STALE = 6  # output, stats, left, right, left and right stats: cleared on a new model / mode


def _engine(ctx: UIContext):
    return get_engine(ctx.settings, ctx.store)


def _reach(ctx: UIContext, *refs: str | None) -> None:
    """Refuse (as "not found") a model the current user may not use."""
    allow = not ctx.settings.signed_in or ctx.is_admin()
    for ref in refs:
        if ref:
            ensure_reachable(ref, ctx.store, ctx.scope(), allow_folders=allow)


def model_choices(ctx: UIContext, app_id: str | None) -> list[tuple[str, str]]:
    """(label, ref) for the app's succeeded train jobs, then the base models."""
    app = ctx.current_app(app_id)
    rows = list_models(ctx.store, ctx.settings, app["id"] if app else "")
    return [
        (
            "Trained: " + r["name"]
            if r["kind"] == "trained"
            else "Base: " + r["name"].removesuffix(" (base)"),
            r["id"],
        )
        for r in rows
    ]


def show_mode(m: str):
    # A new mode starts clean: the last output answered another kind of prompt.
    return (
        gr.update(visible=m == "Instruction"),
        gr.update(visible=m == "Free text"),
        gr.update(visible=m == "Chat"),
        gr.update(visible=m != "Chat"),
        *[""] * N_STALE,
    )


def follow_model(
    ctx: UIContext, ref: str | None, current: str | None, last: str, request: gr.Request = None
):
    """Clear the last model's output; offer the instruction the new model was trained on
    (unless the user typed their own)."""
    learned = trained_instruction(ctx.store, ref, lambda j: ctx.job(j, request))
    keep = (current or "").strip() and current != last
    return (
        *[""] * N_STALE,
        gr.skip() if keep or not learned else learned,
        learned or last,
        cpu_note(ctx.store),
    )


@user_errors
def render_preview(
    ctx: UIContext, model_ref: str | None, instr: str | None, inp: str | None
) -> str:
    instr, inp = instr or "", inp or ""  # a textbox nobody typed in yet sends None
    if not model_ref or not (instr.strip() or inp.strip()):
        return ""
    try:
        _reach(ctx, model_ref)
        return _engine(ctx).render(model_ref, prompt_from_form("instruction", instr, inp))
    except StudioError as exc:
        return f"(cannot render: {exc})"


def _split(values: tuple) -> tuple[tuple, gr.Request | None]:
    """(the option values, the page's request when Gradio passed one after them)."""
    n = len(OPTION_FIELDS)
    return values[:n], values[n] if len(values) > n else None


def _session(request: gr.Request | None) -> str | None:
    return getattr(request, "session_hash", None) if request is not None else None


def _failed(exc: Exception) -> str:
    """The stats line of a stream that failed (the reason a user can act on, or the log)."""
    if isinstance(exc, StudioError):
        return f"**Failed:** {exc}"
    return f"**Failed:** {type(exc).__name__}; see the server log"


@user_errors
def generate(
    ctx: UIContext, model: str, mode: str, instruction: str, input_text: str, text: str, *values
):
    """Stream a generation: yields (output text, stats line). Clears the last output first;
    a Compare started meanwhile stops it, and the stats line says so."""
    options, request = _split(values)
    opts = options_from_form(dict(zip(OPTION_FIELDS, options, strict=True)))
    prompt = prompt_from_form(mode, instruction, input_text, text)
    _reach(ctx, model)
    yield "", "Starting…"
    session = _session(request)
    ticket = STREAMS.start(session, "Generate")

    def show(u):
        return join_sequences(u.texts) if u.status == "done" else u.text, u.stats()

    def stopped(last, why: str):
        text = last.text if last is not None else ""
        return text, (last.stats() + " · " if last is not None else "") + f"**stopped:** {why}"

    last = None
    try:
        with ctx.slots.hold(ctx.owner()):
            updates = _engine(ctx).generate_stream(model, prompt, opts)
            for last in follow(ticket, updates, show, stopped):
                yield last
    except Exception as exc:
        # The stats line says the run failed; the error itself still reaches the page and
        # an API caller (user_errors turns it into a gr.Error).
        yield (last[0] if last else ""), _failed(exc)
        raise
    finally:
        STREAMS.end(session, ticket)


@user_errors
def compare(
    ctx: UIContext,
    model: str,
    compare_with: str | None,
    mode: str,
    instruction: str,
    input_text: str,
    text: str,
    *values,
):
    """Stream the same prompt through two models: yields (left, right, left/right stats).
    Clears the last comparison first; a Generate started meanwhile stops it, visibly."""
    options, request = _split(values)
    opts = options_from_form(dict(zip(OPTION_FIELDS, options, strict=True)))
    if mode == "Chat":
        raise gr.Error("Compare works in Instruction or Free text mode.")
    prompt = prompt_from_form(mode, instruction, input_text, text)
    _reach(ctx, model, compare_with)
    yield "", "", "Starting…", "Starting…"
    session = _session(request)
    ticket = STREAMS.start(session, "Compare")

    def show(pair):
        a, b = pair
        return a.text, b.text, f"**{a.model}** · {a.stats()}", f"**{b.model}** · {b.stats()}"

    def stopped(pair, why: str):
        if pair is None:
            return "", "", f"**stopped:** {why}", f"**stopped:** {why}"
        a, b = pair
        ends = [u.status in ("done", "error") for u in pair]
        marks = ["" if end else f" · **stopped:** {why}" for end in ends]
        return (
            a.text,
            b.text,
            f"**{a.model}** · {a.stats()}{marks[0]}",
            f"**{b.model}** · {b.stats()}{marks[1]}",
        )

    last = None
    try:
        with ctx.slots.hold(ctx.owner()):
            pairs = _engine(ctx).compare_stream(model, compare_with or None, prompt, opts)
            for last in follow(ticket, pairs, show, stopped):
                yield last
    except Exception as exc:
        left, right = (last[0], last[1]) if last else ("", "")
        yield left, right, _failed(exc), _failed(exc)
        raise
    finally:
        STREAMS.end(session, ticket)


@user_errors
def chat(ctx: UIContext, model: str, history: list, message: str, *values):
    """One chat turn: yields (history with the growing reply, cleared message, stats)."""
    if not message or not message.strip():
        raise gr.Error("Type a message first.")
    options, _ = _split(values)
    opts = options_from_form(dict(zip(OPTION_FIELDS, options, strict=True)))
    prompt = prompt_from_form("Chat", history=history or [], message=message)
    turns = list(prompt.messages)
    _reach(ctx, model)
    with ctx.slots.hold(ctx.owner()):
        for u in _engine(ctx).generate_stream(model, prompt, opts):
            reply = {"role": "assistant", "content": u.text or ("…" if u.status != "done" else "")}
            yield turns + [reply], "", u.stats()


def refresh_models(
    ctx: UIContext, app_id: str, current: str | None, compare: str | None, shown: list | None
):
    """Both model lists, each sent only when it differs from what the page shows."""
    choices = model_choices(ctx, app_id)
    refs = [ref for _, ref in choices]
    value = current if current in refs else (refs[0] if refs else None)
    return (
        choices_update(choices, value, current, shown),
        choices_update(choices, None, compare, shown),
        choices,
    )


def on_tab(
    ctx: UIContext,
    app_id: str,
    current: str | None,
    compare: str | None,
    shown,
    note: str | None,
):
    """On a tab switch: the model lists and the CPU note, each only when it changed."""
    # One event per tab switch; each output only when it changed.
    text = cpu_note(ctx.store)
    return *refresh_models(
        ctx, app_id, current, compare, shown
    ), gr.skip() if text == note else text
