"""Keys and sessions of a shared studio: a removed user's keys and sessions die, signing
out ends every copy of the cookie, and a key cannot reach key management."""

from __future__ import annotations

import httpx

from studio.users import add_user


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
