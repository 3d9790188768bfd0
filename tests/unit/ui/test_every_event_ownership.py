"""Every event of the page, public and private alike, called as one user with another
user's ids, answers exactly as for an id that does not exist, and changes nothing of theirs.

The list of events is read from the built page (`blocks.fns`), with the inputs each reads.
Inputs that hold ids are the components a tab declared with `ctx.carries(component, kind)`.
For each event and each id input, bob calls the event with his own ids everywhere else and,
in that one input, once each of ann's ids of that kind and once a missing id: the answers
(or errors) must read the same, with the id itself masked, hold none of ann's other ids, and
ann's rows and files must not change. An event that reads no declared id must be listed in
NO_ID_EVENTS with the reason it cannot take one: a new event fails this test until it is
either declared or listed.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import re
from pathlib import Path
from types import SimpleNamespace

import gradio as gr
import pandas as pd
import pytest
from gradio import helpers
from gradio.context import LocalContext
from gradio.utils import get_upload_folder

from studio.errors import StudioError
from studio.store.rows import new_id
from studio.ui.id_guard import id_positions

# fn name -> why it takes no id (inputs are form values, page layout, or the caller's own).
NO_ID_EVENTS = {
    "show": "the Settings panel shows the caller's own name and keys; no input",
    "create_key": "makes a key for the caller from a name",
    "create_app": "makes an app for the caller from a name and a description",
    "create_demo": "makes an app for the caller from a sample's key",
    "on_layout": "form values of the Models tab only",
    "form_to_json": "form values of the Models tab only",
    "json_to_form": "form values of the Models tab only",
    "arch_to_json": "form values of the Models tab only",
    "json_to_arch": "form values of the Models tab only",
    "on_base": "a template key and a base model name (server folders refused for users)",
    "on_validate_and_mark": "form values of the Models tab only",
    "mark_fields": "which form fields to mark",
    "show_mode": "page layout only",
    "<lambda>": "page layout only",
    "set_polls": "which tab's timer runs",
    "studio_activity": "the whole log, for administrators only; no input",
}


@pytest.fixture(scope="module")
def page(tmp_path_factory, models_cache, tiny_causal_dir):
    """(ctx, blocks, ann's ids, bob's ids) on a signed-in studio."""
    import app
    from studio.settings import Settings
    from studio.users import add_user
    from tests.support.trained import make_trained_run

    home = tmp_path_factory.mktemp("every-event")
    patch = pytest.MonkeyPatch()
    patch.setenv("GRADIO_TEMP_DIR", str(home / "gradio"))
    users = home / "users.txt"
    for name in ("ann", "bob"):
        add_user(users, name, f"{name}-password")
    settings = Settings.from_env(
        home=home / "home",
        models_root=models_cache,
        port=0,
        sign_in="users",
        users_file=users,
        user_max_queued=10_000,  # the calls below queue jobs for bob: no limit in the way
    )
    _, blocks, ctx = app.create_server(settings, start_runner=False)
    owned = {}
    for user in ("ann", "bob"):
        run = make_trained_run(
            ctx.store, dataclasses.replace(settings, owner=user), tiny_causal_dir
        )
        app_id = run["app_id"]
        queued = ctx.store.create_job(app_id, run["model_id"], "train")
        evaluation = ctx.store.create_job(
            app_id, run["model_id"], "evaluate", {"train_job_id": run["job_id"]}
        )
        key, _ = ctx.store.create_api_key(user, "ci")
        upload = Path(get_upload_folder()) / new_id() / f"{user}.csv"
        upload.parent.mkdir(parents=True)
        upload.write_text("text\nan example\n")
        ctx.uploads.record([str(upload)], user)
        owned[user] = {
            "app": [app_id],
            "version": [run["version_id"]],
            "model": [run["model_id"]],
            "job": [run["job_id"], queued["id"], evaluation["id"]],
            "ref": [f"job:{run['job_id']}"],
            "key": [key["id"]],
            "job_table": [run["job_id"], evaluation["id"]],
            "upload": [str(upload)],
        }
    yield ctx, blocks, owned["ann"], owned["bob"]
    patch.undo()


def _missing(kind: str) -> str:
    if kind == "upload":
        return str(Path(get_upload_folder()) / new_id() / "never-uploaded.csv")
    return f"job:{new_id()}" if kind == "ref" else new_id()


def _table(job_id: str) -> pd.DataFrame:
    return pd.DataFrame([[job_id, "x", "x"]], columns=["Job", "Model", "Status"])


def _default(component):
    if isinstance(component, gr.File):
        return None
    if isinstance(component, gr.Dataframe):
        return pd.DataFrame()
    if isinstance(component, gr.Chatbot):
        return []
    value = getattr(component, "value", None)
    return None if callable(value) else copy.deepcopy(value)


def _value(kind: str, id_: str):
    return _table(id_) if kind == "job_table" else id_


def _call(ctx, dep, inputs: list, user: str):
    """What the event answers (its values, or its error), as bob's page would get it."""
    request = SimpleNamespace(username=user, headers={}, client=None)
    event = gr.SelectData(None, {"index": [0, 0], "value": None, "selected": True})
    args, *_ = helpers.special_args(dep.fn, list(inputs), request=request, event_data=event)
    tokens = (LocalContext.request.set(request), LocalContext.blocks.set(ctx.blocks))
    try:
        out = dep.fn(*args)
        if dep.types_generator:
            out = list(out)
        return out
    except Exception as exc:  # the answer a caller gets is the error
        return exc
    finally:
        LocalContext.request.reset(tokens[0])
        LocalContext.blocks.reset(tokens[1])


def _plain(value):
    """Answers as comparable data: components as their arguments, frames as rows."""
    if isinstance(value, BaseException):
        return ("error", type(value).__name__, str(value))
    if isinstance(value, gr.blocks.Block):
        return (type(value).__name__, _plain(value.constructor_args))
    if isinstance(value, pd.DataFrame):
        return ("frame", value.astype(str).values.tolist())
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _masked(value, tested: str, known: set[str]) -> str:
    """The answer's text with the tested id masked, ids made during the call (bob's new
    jobs) named <new> and the clock's digits dropped."""
    text = repr(_plain(value)).replace(tested.removeprefix("job:"), "<ID>")
    text = re.sub(r"[\w/.-]*(never-uploaded|ann|bob)\.csv", "<file>", text)
    text = re.sub(r"\d{15,}", "<n>", text)  # a change counter's clock
    text = re.sub(r"\b[0-9a-f]{32}\b", "<random>", text)
    return re.sub(r"\b[0-9a-f]{12}\b", lambda m: m.group() if m.group() in known else "<new>", text)


def _anns_state(ctx, ann: dict) -> str:
    """A fingerprint of ann's rows (every table) and files."""
    store, app_id = ctx.store, ann["app"][0]
    rows = [
        store._query("SELECT * FROM apps WHERE id = ?", (app_id,)),
        store._query("SELECT * FROM datasets WHERE app_id = ?", (app_id,)),
        store._query("SELECT * FROM models WHERE app_id = ?", (app_id,)),
        store._query("SELECT * FROM jobs WHERE app_id = ?", (app_id,)),
        store._query("SELECT * FROM evaluations WHERE app_id = ?", (app_id,)),
        store._query("SELECT * FROM activity WHERE app_id = ?", (app_id,)),
        store._query("SELECT id, owner, name FROM api_keys WHERE owner = 'ann'"),
    ]
    files = []
    for root in (ctx.settings.app_dir(app_id), ctx.settings.home / "exports" / app_id):
        if root.exists():
            files += [
                (str(p), p.stat().st_size, p.stat().st_mtime_ns)
                for p in sorted(Path(root).rglob("*"))
            ]
    return hashlib.sha256(repr((rows, files)).encode()).hexdigest()


def _events(blocks):
    return [dep for dep in blocks.fns.values() if dep.fn is not None]


def test_every_event_reads_declared_ids_or_says_why_it_takes_none(page):
    ctx, blocks, _, _ = page
    unlisted, stale = [], set(NO_ID_EVENTS)
    for dep in _events(blocks):
        if id_positions(ctx, dep.inputs):
            continue
        stale.discard(dep.fn.__name__)
        if dep.fn.__name__ not in NO_ID_EVENTS:
            unlisted.append(f"{dep.api_name} ({dep.fn.__name__})")
    assert not unlisted, (
        "these events read no declared id: declare their id inputs with ctx.carries(), "
        f"or list them in NO_ID_EVENTS with the reason: {unlisted}"
    )
    assert not stale, f"NO_ID_EVENTS lists events that read ids or are gone: {sorted(stale)}"


def test_another_users_ids_read_like_missing_ones_and_change_nothing(page):
    ctx, blocks, ann, bob = page
    known = {i.removeprefix("job:") for ids in (*ann.values(), *bob.values()) for i in ids}
    anns = {i.removeprefix("job:") for kind, ids in ann.items() for i in ids if kind != "upload"}
    checked, problems = 0, []
    for dep in _events(blocks):
        positions = id_positions(ctx, dep.inputs)
        if not positions:
            continue
        # Bob's own ids in every id input, defaults elsewhere: the event may refuse them
        # (in words), but must not fail, or the comparisons below would compare two bugs.
        base = [_default(c) for c in dep.inputs]
        for i, kind in positions.items():
            base[i] = _value(kind, bob[kind][0])
        own = _call(ctx, dep, base, "bob")
        if isinstance(own, Exception) and not isinstance(own, gr.Error | StudioError):
            problems.append(f"{dep.api_name} fails on bob's own ids: {own!r}")
        for i, kind in positions.items():
            missing = _missing(kind)
            for theirs in ann[kind]:
                before = _anns_state(ctx, ann)
                args = list(base)
                args[i] = _value(kind, theirs)
                got = _call(ctx, dep, args, "bob")
                if _anns_state(ctx, ann) != before:
                    problems.append(f"{dep.api_name}[{i}] changed ann's data with {theirs}")
                args[i] = _value(kind, missing)
                want = _call(ctx, dep, args, "bob")
                text = _masked(got, theirs, known)
                if text != _masked(want, missing, known):
                    problems.append(
                        f"{dep.api_name}[{i}] ({kind}) answers ann's id unlike a missing one:"
                        f"\n  theirs: {text[:300]}\n  missing: {_masked(want, missing, known)[:300]}"
                    )
                leaked = sorted(a for a in anns if a in text)
                if leaked:
                    problems.append(f"{dep.api_name}[{i}] shows ann's ids {leaked}")
                checked += 1
    assert not problems, "\n".join(problems)
    assert checked > 60  # every id input of every event, with each of ann's ids
