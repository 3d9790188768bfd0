"""Every id an event receives is checked against its caller before any handler reads it.

    ctx.carries(model_dropdown, "model")    # in a tab: this component's value is a model id
    guard_events(ctx, blocks)                # once the page is built (layout.build_blocks)

An event's inputs come from the caller, not from the page: through the API anyone can send
any id in any of them. A tab declares which of its components hold ids and of what kind;
here every event listener that reads one of them is wrapped so that an id the caller may
not see (someone else's, or one that does not exist) is blanked, the way the store's
ownership rule (studio.store.owners) reads "not yours" and "missing" the same: the handler
then sees "nothing chosen", whichever it was. Handlers keep their own checks too.

Kinds and their checks (all through UIContext, so the one ownership rule):
  app, version, model, job: ctx.app / ctx.version / ctx.model / ctx.job;
  ref: a Generate model name, "job:<id>" checked as a job ("base:..." passes; the engine
       refuses server folders itself);
  key: one of the caller's own API keys;
  job_table: a table whose first column holds job ids (a row's id is blanked);
  upload: a file input: only files the caller uploaded are kept (studio.signin.uploads).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from functools import wraps
from typing import Any

import gradio as gr

from studio.errors import StudioError
from studio.ui.context import UIContext

JOB_REF = "job:"
_SPECIAL = (gr.Request, gr.SelectData, gr.EventData, gr.OAuthToken, gr.OAuthProfile)


def owned_or_blank(ctx: UIContext, kind: str, value: Any) -> Any:
    """`value` if the current caller may use it as an id of `kind`, else its blank."""
    if value is None or (isinstance(value, str) and not value):
        return value
    check = _CHECKS[kind]
    try:
        return check(ctx, value)
    except StudioError:  # NotFoundError: missing and not-yours read the same
        return None if kind == "upload" else ""


def _ref(ctx: UIContext, value: Any) -> Any:
    text = str(value)
    if text.startswith(JOB_REF):
        ctx.job(text[len(JOB_REF) :])
    return value


def _key(ctx: UIContext, value: Any) -> Any:
    if str(value).strip() not in {k["id"] for k in ctx.store.list_api_keys(ctx.owner())}:
        raise StudioError("not one of your keys")
    return value


def _job_table(ctx: UIContext, table: Any) -> Any:
    """The table with every first-column id the caller may not see blanked."""
    if table is None or not hasattr(table, "iloc") or table.empty:
        return table
    ids = [str(v) for v in table.iloc[:, 0]]
    visible = set()
    for job_id in set(ids):
        try:
            ctx.job(job_id)
            visible.add(job_id)
        except StudioError:
            pass
    if visible == set(ids):
        return table
    table = table.copy()
    table.iloc[:, 0] = [i if i in visible else "" for i in ids]
    return table


def _upload(ctx: UIContext, value: Any) -> Any:
    """Only files the caller uploaded (a file input holds one path or a list of them)."""
    if ctx.uploads is None:  # sign-in off: one user
        return value
    items = value if isinstance(value, list | tuple) else [value]
    kept = [i for i in items if _path(i) and ctx.uploads.owner_of(_path(i)) == ctx.owner()]
    if isinstance(value, list | tuple):
        return kept
    if not kept:
        raise StudioError("not uploaded by the caller")
    return value


def _path(item: Any) -> str | None:
    if isinstance(item, str):
        return item
    if isinstance(item, dict):
        return item.get("path")
    return getattr(item, "path", None)


_CHECKS: dict[str, Callable[[UIContext, Any], Any]] = {
    "app": lambda ctx, v: (ctx.app(v), v)[1],
    "version": lambda ctx, v: (ctx.version(v), v)[1],
    "model": lambda ctx, v: (ctx.model(v), v)[1],
    "job": lambda ctx, v: (ctx.job(v), v)[1],
    "ref": _ref,
    "key": _key,
    "job_table": _job_table,
    "upload": _upload,
}
KINDS = tuple(_CHECKS)


def id_positions(ctx: UIContext, inputs: list) -> dict[int, str]:
    """{input index: kind} of an event's inputs that hold ids."""
    return {i: ctx.id_inputs[id(c)] for i, c in enumerate(inputs) if id(c) in ctx.id_inputs}


def guard_events(ctx: UIContext, blocks: gr.Blocks) -> int:
    """Wrap every listener that reads an id; returns how many were wrapped."""
    wrapped = 0
    for dep in blocks.fns.values():
        positions = id_positions(ctx, dep.inputs)
        if dep.fn is not None and positions:
            dep.fn = _guarded(ctx, dep.fn, positions)
            wrapped += 1
    return wrapped


def _guarded(ctx: UIContext, fn: Callable, positions: dict[int, str]) -> Callable:
    """`fn` with the inputs at `positions` checked first. Gradio inserts the request and the
    event data among the arguments by their annotations: input i is the i-th of the others."""
    sig = inspect.signature(fn)
    hints = _hints(fn)
    params = [
        p for p in sig.parameters.values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    plain = [n for n, p in enumerate(params) if not _special(hints.get(p.name))]
    # Inputs past the named parameters land in *args, after every named one.
    at = {
        (plain[i] if i < len(plain) else len(params) + i - len(plain)): kind
        for i, kind in positions.items()
    }

    def checked(args: tuple) -> list:
        out = list(args)
        for n, kind in at.items():
            if n < len(out):
                out[n] = owned_or_blank(ctx, kind, out[n])
        return out

    if inspect.isgeneratorfunction(fn):

        @wraps(fn)
        def gen_listener(*args, **kwargs):
            yield from fn(*checked(args), **kwargs)

        listener = gen_listener
    else:

        @wraps(fn)
        def listener(*args, **kwargs):
            return fn(*checked(args), **kwargs)

    listener.__signature__ = sig
    return listener


def _hints(fn: Callable) -> dict:
    try:
        return inspect.get_annotations(inspect.unwrap(fn), eval_str=True)
    except Exception:  # an annotation that does not evaluate: none is special then
        return {}


def _special(hint: Any) -> bool:
    if hint is None:
        return False
    options = getattr(hint, "__args__", None) or (hint,)
    return any(isinstance(o, type) and issubclass(o, _SPECIAL) for o in options)
