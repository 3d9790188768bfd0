"""A shared studio through its HTTP API: sign-in, API keys, per-user isolation, and file
paths that were not uploaded through the page (refused before anything is read).

Two users (ann, bob) in a users file; each gets an API key from the store. Everything runs
against a real server (uvicorn) through gradio_client, raw httpx and /v1.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError

from studio.settings import Settings
from studio.users import add_user
from tests.helpers import serve

ASSETS = Path(__file__).resolve().parent.parent / "assets"
SECRET = "the quarterly numbers are secret"
SECRET_LINE = f"### Human: {SECRET} ### Assistant: positive"


@pytest.fixture(scope="module")
def studio(tmp_path_factory, models_cache):
    home = tmp_path_factory.mktemp("teams")
    patch = pytest.MonkeyPatch()
    patch.setenv("GRADIO_TEMP_DIR", str(home / "gradio"))
    users = home / "users.txt"
    add_user(users, "ann", "ann-password")
    add_user(users, "bob", "bob-password")
    add_user(users, "root", "root-password")
    import app

    settings = Settings.from_env(
        home=home / "home",
        models_root=models_cache,
        port=0,
        sign_in="users",
        users_file=users,
        admins=("root",),
    )
    fastapi_app, _, ctx = app.create_server(settings, start_runner=False)
    keys = {u: ctx.store.create_api_key(u, "test")[1] for u in ("ann", "bob", "root")}
    with serve(fastapi_app) as url:
        clients = {
            u: Client(url, verbose=False, headers={"Authorization": f"Bearer {k}"})
            for u, k in keys.items()
        }
        yield url, ctx, keys, clients
        for c in clients.values():
            c.close()
    patch.undo()


def _shown(table) -> str:
    """Everything the apps table shows (its update may wrap the frame in 'value')."""
    value = table.get("value", table) if isinstance(table, dict) else table
    return str(value)


def _upload(client, app_id, path):
    return client.predict(
        app_id=app_id,
        file_list=[handle_file(str(path))],
        dataset_name="d",
        api_name="/upload_dataset",
    )


@pytest.fixture(scope="module")
def ann_app(studio, tmp_path_factory):
    """ann's app with one uploaded version holding a line only ann knows."""
    _, ctx, _, clients = studio
    app_id = clients["ann"].predict("Ann's app", "", api_name="/create_app")[0]
    data = tmp_path_factory.mktemp("ann") / "secret.csv"
    lines = [f"### Human: {SECRET} {i} ### Assistant: positive" for i in range(3)]
    lines += [f"### Human: fine {i} ### Assistant: negative" for i in range(3)]
    data.write_text("text\n" + "\n".join(lines) + "\n")
    _upload(clients["ann"], app_id, data)
    [version] = ctx.store.list_dataset_versions(app_id)
    return app_id, version


def test_no_key_no_session_is_refused_everywhere(studio):
    url, *_ = studio
    with httpx.Client(base_url=url) as http:
        assert http.get("/config").status_code == 401
        assert http.post("/gradio_api/upload", files={"files": ("a.txt", b"x")}).status_code == 401
        r = http.get("/", headers={"accept": "text/html"}, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/login"
        assert http.get("/v1/models").status_code == 401
        bad = {"Authorization": "Bearer tgs-not-a-key"}
        assert http.get("/v1/models", headers=bad).status_code == 401
        assert http.get("/config", headers=bad).status_code == 401
    with pytest.raises(ValueError):  # gradio_client cannot even read the page's config
        Client(url, verbose=False)


def test_login_page_signs_in_with_the_users_file(studio):
    url, *_ = studio
    with httpx.Client(base_url=url) as http:
        r = http.post(
            "/login", data={"username": "ann", "password": "wrong-password"}, follow_redirects=True
        )
        assert "Wrong user name or password" in r.text
        assert http.get("/config").status_code == 401
        r = http.post(
            "/login", data={"username": "ann", "password": "ann-password"}, follow_redirects=False
        )
        assert r.status_code == 303
        assert http.get("/config").status_code == 200
        http.get("/logout")
        assert http.get("/config").status_code == 401


def test_apps_are_private_to_their_owner(studio, ann_app):
    _, ctx, _, clients = studio
    app_id, version = ann_app
    bob = clients["bob"]
    table = bob.predict(app_id, api_name="/refresh_apps")[0]
    assert app_id not in _shown(table) and "Ann's app" not in _shown(table)
    for call, args in [
        ("/choose_app", (app_id,)),
        ("/rename_app", (app_id, "mine now")),
        ("/delete_app", (app_id, True)),
    ]:
        with pytest.raises(AppError):
            bob.predict(*args, api_name=call)
    assert ctx.store.get_app(app_id)["name"] == "Ann's app"
    with pytest.raises(AppError) as err:
        bob.predict(version["id"], api_name="/preview_version")
    assert SECRET not in str(err.value)
    # Bob cannot upload into ann's app either.
    with pytest.raises(AppError, match="Choose or create an app"):
        _upload(bob, app_id, ASSETS / "sentiment_with_bad_row.csv")
    assert len(ctx.store.list_dataset_versions(app_id)) == 1
    # The owner and the administrator see it; the activity log names who did what.
    ann_table = clients["ann"].predict(app_id, api_name="/refresh_apps")[0]
    assert "Ann's app" in _shown(ann_table)  # the table shows names, not internal ids
    root_table = clients["root"].predict(app_id, api_name="/refresh_apps")[0]
    assert "Ann's app" in _shown(root_table)
    actions = [(e["user"], e["action"]) for e in ctx.store.list_activity(app_id)]
    assert ("ann", "created") in actions and ("ann", "uploaded") in actions


def test_ownership_check_reads_the_same_for_missing_and_foreign(studio, ann_app):
    _, ctx, _, _ = studio
    app_id, version = ann_app
    from studio.errors import NotFoundError

    with pytest.raises(NotFoundError) as foreign:
        ctx.store.app_of("bob", app_id)
    with pytest.raises(NotFoundError) as missing:
        ctx.store.app_of("bob", "000000000000")
    assert str(foreign.value).replace(app_id, "X") == str(missing.value).replace(
        "000000000000", "X"
    )
    assert ctx.store.version_of("ann", version["id"])["id"] == version["id"]
    with pytest.raises(NotFoundError):
        ctx.store.version_of("bob", version["id"])
    assert ctx.store.app_of(None, app_id)["id"] == app_id  # administrator


def _raw_call(url, key, api_name, data):
    """POST /gradio_api/call/<api_name> the way a hand-written client would; returns the
    event stream's text (its 'event: error' carries the refusal)."""
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=url, headers=headers, timeout=60) as http:
        r = http.post(f"/gradio_api/call/{api_name}", json={"data": data})
        r.raise_for_status()
        event = r.json()["event_id"]
        return http.get(f"/gradio_api/call/{api_name}/{event}").text


def _file(path) -> dict:
    return {"path": str(path), "meta": {"_type": "gradio.FileData"}, "orig_name": Path(path).name}


def test_server_paths_are_refused_and_nothing_is_read(studio, ann_app, tmp_path):
    url, ctx, keys, clients = studio
    ann_id, version = ann_app
    bob_app = clients["bob"].predict("Bob's app", "", api_name="/create_app")[0]
    outside = tmp_path / "outside.csv"
    outside.write_text("text\nnot for you ### positive\n")
    from studio.data.versions import version_folder

    ann_train = version_folder(ctx.store, version) / "train.jsonl"
    assert SECRET in ann_train.read_text()
    targets = [
        outside,  # outside STUDIO_HOME
        ann_train,  # another user's app
        ctx.settings.db_path,  # the database
        ctx.settings.home / "session.key",  # inside STUDIO_HOME
        Path(__file__),  # the project's own files
    ]
    before = len(ctx.store.list_dataset_versions(bob_app))
    for target in targets:
        args = [
            bob_app,
            [_file(target)],
            "",
            "stolen",
            10,
            42,
            "text",
            "",
            "",
            "",
            "",
            "",
            "",
            {},
            "smollm2-135m",
        ]
        out = _raw_call(url, keys["bob"], "upload_dataset", args)
        assert "event: error" in out and ("not uploaded" in out or "blocked_paths" in out), out
        assert SECRET not in out and "not for you" not in out
        out = _raw_call(url, keys["bob"], "detect_columns", [[_file(target)], ""])
        assert "event: error" in out and SECRET not in out and "not for you" not in out
    assert len(ctx.store.list_dataset_versions(bob_app)) == before
    # A zip from elsewhere on disk is not imported.
    import zipfile

    fake = tmp_path / "adapter.zip"
    with zipfile.ZipFile(fake, "w") as z:
        z.writestr("adapter_config.json", "{}")
    out = _raw_call(url, keys["bob"], "import_adapter", [bob_app, _file(fake), ""])
    assert "event: error" in out and "not uploaded" in out, out
    assert not ctx.store.list_jobs(bob_app)
    # Nothing of the refused files was copied into Gradio's cache either.
    cache = Path(ctx.settings.home).parent / "gradio"
    copied = [
        p
        for p in cache.rglob("*")
        if p.is_file() and p.name in {t.name for t in targets} | {"adapter.zip"}
    ]
    assert not copied, copied


def test_a_real_upload_is_accepted(studio):
    _, ctx, _, clients = studio
    app_id = clients["bob"].predict("Bob's uploads", "", api_name="/create_app")[0]
    out = _upload(clients["bob"], app_id, ASSETS / "sentiment_with_bad_row.csv")
    assert "24 accepted" in out[0]


def test_v1_keys_reach_only_their_owners_models(studio, ann_app):
    url, ctx, keys, _ = studio
    app_id, _ = ann_app
    job = ctx.store.create_job(
        app_id,
        None,
        "import",
        status="succeeded",
        run_dir=str(ctx.settings.app_dir(app_id) / "runs" / "x"),
    )
    run = Path(job["run_dir"]) / "adapter"
    run.mkdir(parents=True)
    (run / "studio.json").write_text("{}")
    ref = f"job:{job['id']}"
    with httpx.Client(base_url=url, timeout=60) as http:

        def ids(user):
            r = http.get("/v1/models", headers={"Authorization": f"Bearer {keys[user]}"})
            assert r.status_code == 200
            return {m["id"] for m in r.json()["data"]}

        assert ref in ids("ann") and ref not in ids("bob") and ref in ids("root")
        body = {"model": ref, "prompt": "hi", "max_tokens": 2}
        r = http.post(
            "/v1/completions", json=body, headers={"Authorization": f"Bearer {keys['bob']}"}
        )
        assert r.status_code == 404 and r.json()["error"]["code"] == "model_not_found"
        r = http.post("/v1/completions", json=body)
        assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_api_key"
        # A base model named by a server folder is refused with sign-in on.
        r = http.post(
            "/v1/completions",
            json={**body, "model": f"base:{ctx.settings.home}"},
            headers={"Authorization": f"Bearer {keys['bob']}"},
        )
        assert r.status_code == 404 and "folder on the server" in r.json()["error"]["message"]


def test_revoked_key_stops_working(studio):
    url, ctx, *_ = studio
    row, secret = ctx.store.create_api_key("bob", "temp")
    with httpx.Client(base_url=url) as http:
        auth = {"Authorization": f"Bearer {secret}"}
        assert http.get("/v1/models", headers=auth).status_code == 200
        ctx.store.revoke_api_key("bob", row["id"])
        assert http.get("/v1/models", headers=auth).status_code == 401
    from studio.errors import NotFoundError

    with pytest.raises(NotFoundError):  # someone else's key id is "not found"
        ctx.store.revoke_api_key("ann", ctx.store.list_api_keys("bob")[0]["id"])


def test_others_jobs_cannot_be_trained_generated_cancelled_or_downloaded(studio, ann_app):
    """Another user's ids read exactly like ids that do not exist (every event, every id:
    tests/unit/ui/test_every_event_ownership.py); here through the real API."""
    _, ctx, _, clients = studio
    app_id, version = ann_app
    bob = clients["bob"]
    model = ctx.store.create_model(app_id, "m", "smollm2-135m-lora", "causal", version["id"], {})
    job = ctx.store.create_job(app_id, model["id"], "train")  # queued: cancellable by its owner
    with pytest.raises(AppError, match="Choose or create an app"):
        bob.predict(app_id, model["id"], api_name="/start_training")
    bob_app = bob.predict("Bob's trainer", "", api_name="/create_app")[0]

    def refusal(call, *args):
        with pytest.raises(AppError) as err:
            bob.predict(*args, api_name=call)
        return str(err.value)

    for call, theirs, missing in [
        ("/start_training", (bob_app, model["id"]), (bob_app, "0" * 12)),
        ("/cancel_training", (job["id"],), ("0" * 12,)),
        ("/export_adapter", (bob_app, job["id"]), (bob_app, "0" * 12)),
    ]:
        assert refusal(call, *theirs) == refusal(call, *missing), call
    assert ctx.store.get_job(job["id"])["status"] == "queued"
    with pytest.raises(AppError) as theirs:
        bob.predict(model=f"job:{job['id']}", instruction="x", api_name="/generate")
    with pytest.raises(AppError) as missing:
        bob.predict(model=f"job:{'0' * 12}", instruction="x", api_name="/generate")
    assert str(theirs.value) == str(missing.value)
    # The administrator may stop anyone's job.
    clients["root"].predict(job["id"], api_name="/cancel_training")
    assert ctx.store.get_job(job["id"])["status"] == "cancelled"
    assert not ctx.store.list_jobs(bob_app)


def test_a_removed_users_keys_die_on_v1_and_every_gradio_endpoint(studio):
    url, ctx, *_ = studio
    users = ctx.settings.users_file
    add_user(users, "carl", "carl-password")
    _, secret = ctx.store.create_api_key("carl", "laptop")
    auth = {"Authorization": f"Bearer {secret}"}
    with httpx.Client(base_url=url, headers=auth, timeout=60) as http:
        assert http.get("/v1/models").status_code == 200
        assert http.get("/config").status_code == 200
        from studio.users import main as users_cli

        cli = ["remove", "carl", "--file", str(users), "--home", str(ctx.settings.home)]
        assert users_cli(cli) == 0
        # Added again under the same name at once: the old key was revoked with the user.
        add_user(users, "carl", "carl-password-2")
        assert http.get("/v1/models").status_code == 401
        body = {"model": "base:smollm2-135m-lora", "prompt": "hi", "max_tokens": 1}
        assert http.post("/v1/completions", json=body).status_code == 401
        assert http.get("/config").status_code == 401
        r = http.post("/gradio_api/call/create_app", json={"data": ["Carl's", ""]})
        assert r.status_code == 401
    assert ctx.store.list_api_keys("carl") == []
    assert not [a for a in ctx.store.list_apps() if a["owner"] == "carl"]


def test_a_key_dies_when_its_user_is_taken_out_of_the_file_by_hand(studio):
    url, ctx, *_ = studio
    users = ctx.settings.users_file
    add_user(users, "dora", "dora-password")
    _, secret = ctx.store.create_api_key("dora", "ci")
    auth = {"Authorization": f"Bearer {secret}"}
    with httpx.Client(base_url=url, headers=auth, timeout=60) as http:
        assert http.get("/v1/models").status_code == 200
        text = users.read_text()
        users.write_text("".join(x for x in text.splitlines(True) if not x.startswith("dora:")))
        assert http.get("/v1/models").status_code == 401
        assert http.get("/config").status_code == 401
    assert ctx.store.list_api_keys("dora") == []


def _file_url(event_stream: str) -> str:
    """The /gradio_api/file= link of the file an event's answer carries."""
    import re

    found = re.search(r'"url": ?"([^"]+/gradio_api/file=[^"]+)"', event_stream)
    assert found, event_stream
    return found.group(1)


def test_exports_are_served_only_to_their_owner(studio, tiny_causal_dir):
    url, ctx, keys, _ = studio
    from tests.unit.evaluate.trained import make_trained_run

    run = make_trained_run(ctx.store, ctx.settings, tiny_causal_dir)
    with ctx.store.transaction() as conn:  # the trained run is ann's
        conn.execute("UPDATE apps SET owner = 'ann' WHERE id = ?", (run["app_id"],))
    out = _raw_call(url, keys["ann"], "export_adapter", [run["app_id"], run["job_id"]])
    link = _file_url(out)
    served = link.split("/gradio_api/file=", 1)[1]
    # Served from the app's exports folder itself: no copy in Gradio's cache.
    assert served.startswith(str(ctx.settings.home / "exports" / run["app_id"]))
    with httpx.Client(timeout=60) as http:
        for user, status in (("ann", 200), ("root", 200), ("bob", 404)):
            r = http.get(link, headers={"Authorization": f"Bearer {keys[user]}"})
            assert r.status_code == status, (user, r.status_code)
        r = http.head(link, headers={"Authorization": f"Bearer {keys['bob']}"})
        assert r.status_code == 404
        # A path that walks out and back in is resolved before it is judged.
        sneaky = link.replace(run["app_id"], run["app_id"] + "/../" + run["app_id"])
        r = http.get(sneaky, headers={"Authorization": f"Bearer {keys['bob']}"})
        assert r.status_code == 404


def _queue_call(url: str, key: str, fn_name: str, blocks, data: list) -> str:
    """Call a page event (private ones too) the way the page does, by its fn_index, with an
    API key; returns the queue's event stream."""
    import uuid

    fn_index = next(i for i, d in blocks.fns.items() if getattr(d.fn, "__name__", "") == fn_name)
    session = uuid.uuid4().hex
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=url, headers=headers, timeout=60) as http:
        body = {"data": data, "fn_index": fn_index, "session_hash": session, "trigger_id": None}
        assert http.post("/gradio_api/queue/join", json=body).status_code == 200
        return http.get(f"/gradio_api/queue/data?session_hash={session}").text


def test_an_api_key_cannot_reach_key_management(studio):
    url, ctx, keys, _ = studio
    before = {k["id"] for k in ctx.store.list_api_keys("bob")}
    out = _queue_call(url, keys["bob"], "create_key", ctx.blocks, ["minted"])
    assert "browser" in out and "tgs-" not in out
    assert {k["id"] for k in ctx.store.list_api_keys("bob")} == before
    other, _ = ctx.store.create_api_key("bob", "laptop")
    out = _queue_call(url, keys["bob"], "revoke_key", ctx.blocks, [other["id"]])
    assert "browser" in out
    assert other["id"] in {k["id"] for k in ctx.store.list_api_keys("bob")}


def _signed_in_cookies(url: str, name: str, password: str) -> httpx.Cookies:
    with httpx.Client(base_url=url) as http:
        r = http.post("/login", data={"username": name, "password": password})
        assert r.status_code == 303 and r.headers["location"] == "/", r.text
        return httpx.Cookies(http.cookies)


def test_signing_out_ends_the_session_for_every_copy_of_the_cookie(studio):
    url, *_ = studio
    saved = _signed_in_cookies(url, "ann", "ann-password")
    with httpx.Client(base_url=url, cookies=saved) as http:
        assert http.get("/config").status_code == 200
        http.get("/logout")
    with httpx.Client(base_url=url, cookies=saved) as replay:  # the copy saved before
        assert replay.get("/config").status_code == 401


def test_removing_a_user_ends_their_sessions(studio):
    url, ctx, *_ = studio
    users = ctx.settings.users_file
    add_user(users, "erin", "erin-password")
    saved = _signed_in_cookies(url, "erin", "erin-password")
    with httpx.Client(base_url=url, cookies=saved) as http:
        assert http.get("/config").status_code == 200
        from studio.users import main as users_cli

        cli = ["remove", "erin", "--file", str(users), "--home", str(ctx.settings.home)]
        assert users_cli(cli) == 0
        add_user(users, "erin", "erin-password")  # the same name again: still signed out
        assert http.get("/config").status_code == 401


def _send(url: str, key: str, name: str, data: bytes) -> str:
    """Upload a file the way gradio_client does; returns the server path it was stored at."""
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=url, headers=headers, timeout=60) as http:
        r = http.post("/gradio_api/upload", files={"files": (name, data)})
        assert r.status_code == 200, r.text
        return r.json()[0]


def test_an_upload_is_readable_only_by_its_uploader(studio):
    url, ctx, keys, _ = studio
    path = _send(url, keys["bob"], "bob-notes.csv", b"text\nbob's private line\n")
    assert ctx.uploads.owner_of(path) == "bob"
    link = f"{url}/gradio_api/file={path}"
    with httpx.Client(timeout=60) as http:
        for user, status in (("bob", 200), ("root", 200), ("ann", 404)):
            r = http.get(link, headers={"Authorization": f"Bearer {keys[user]}"})
            assert r.status_code == status, (user, r.status_code)
    # Handed to an event by another user, the path reads like a file never uploaded.
    theirs = _raw_call(url, keys["ann"], "detect_columns", [[_file(path)], "", "", {}])
    missing_path = str(Path(path).parent.with_name("0" * 64) / Path(path).name)
    missing = _raw_call(url, keys["ann"], "detect_columns", [[_file(missing_path)], "", "", {}])
    assert "bob's private line" not in theirs

    def answer(stream: str) -> str:
        return stream.split("event: ", 2)[-1].replace(path, "P").replace(missing_path, "P")

    assert answer(theirs) == answer(missing)


def _routes(app, prefix: str = "") -> list[tuple[str, set]]:
    """(path, methods) of every route the server answers, mounted apps included."""
    found = []
    for route in app.routes:
        path = prefix + getattr(route, "path", "")
        inner = getattr(route, "app", None)
        included = getattr(route, "original_router", None)  # an included router (FastAPI)
        if included is not None:
            found += _routes(included, prefix + route.include_context.prefix)
        elif hasattr(inner, "routes") and not hasattr(route, "endpoint"):
            found += _routes(inner, path)
        elif getattr(route, "methods", None):
            found.append((path, set(route.methods)))
    return found


def test_no_route_answers_an_anonymous_request(studio):
    """Deny by default: every route of the server, Gradio's included, refuses a request
    without a user (401, or the login page for a browser), but the login routes."""
    import re

    import app as studio_app
    from studio.signin.middleware import is_public

    url, ctx, *_ = studio
    same_routes, _, _ = studio_app.create_server(ctx.settings, start_runner=False)
    answered = []
    with httpx.Client(base_url=url, timeout=5) as http:
        for path, methods in _routes(same_routes):
            if is_public(path) or path == "":  # the login routes; /v1 answers its own 401
                continue
            concrete = re.sub(r"\{[^}]+\}", "x", path) or "/"
            method = "GET" if "GET" in methods else sorted(methods)[0]
            try:
                with http.stream(method, concrete, headers={"accept": "application/json"}) as r:
                    status = r.status_code
            except httpx.ReadTimeout:
                status = "held open"
            if status == "held open" or (isinstance(status, int) and status < 300):
                answered.append((method, concrete, status))
    assert not answered, "\n".join(map(str, answered))
