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

from tests.integration.teams import file_data, raw_call

ASSETS = Path(__file__).resolve().parent.parent / "assets"
SECRET = "the quarterly numbers are secret"
SECRET_LINE = f"### Human: {SECRET} ### Assistant: positive"


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
            [file_data(target)],
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
        out = raw_call(url, keys["bob"], "upload_dataset", args)
        assert "event: error" in out and ("not uploaded" in out or "blocked_paths" in out), out
        assert SECRET not in out and "not for you" not in out
        out = raw_call(url, keys["bob"], "detect_columns", [[file_data(target)], ""])
        assert "event: error" in out and SECRET not in out and "not for you" not in out
    assert len(ctx.store.list_dataset_versions(bob_app)) == before
    # A zip from elsewhere on disk is not imported.
    import zipfile

    fake = tmp_path / "adapter.zip"
    with zipfile.ZipFile(fake, "w") as z:
        z.writestr("adapter_config.json", "{}")
    out = raw_call(url, keys["bob"], "import_adapter", [bob_app, file_data(fake), ""])
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
