"""Who a request is: API key, users-file session, or Hugging Face OAuth session."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import fastapi
import pytest

from studio.signin import SESSION_KEY, install_sign_in, key_user, user_from_request
from studio.users import (
    add_user,
    check_login,
    hash_password,
    read_users,
    verify_password,
    write_users,
)


def _request(headers=None, session=None):
    return SimpleNamespace(headers=headers or {}, scope={"session": session or {}})


def test_passwords_are_salted_scrypt_hashes(tmp_path):
    a, b = hash_password("same-password"), hash_password("same-password")
    assert a != b and a.startswith("scrypt$") and "same-password" not in a
    assert verify_password("same-password", a) and not verify_password("other", a)
    users = tmp_path / "users.txt"
    add_user(users, "ann", "ann-password")
    assert list(read_users(users)) == ["ann"] and (users.stat().st_mode & 0o777) == 0o600
    assert check_login(users, "ann", "ann-password") and not check_login(users, "bob", "x")


def test_users_mode_reads_the_session_and_drops_removed_users(tmp_path, store, settings):
    users = tmp_path / "users.txt"
    add_user(users, "ann", "ann-password")
    s = dataclasses.replace(settings, sign_in="users", users_file=users)
    token = store.start_session("ann")
    assert user_from_request(_request(session={SESSION_KEY: token}), store, s) == "ann"
    assert user_from_request(_request(session={SESSION_KEY: "ann"}), store, s) is None
    ghost = store.start_session("ghost")  # a session of a name the file does not hold
    assert user_from_request(_request(session={SESSION_KEY: ghost}), store, s) is None
    assert user_from_request(_request(), store, s) is None
    store.end_session(token)  # signed out: the same cookie no longer signs in
    assert user_from_request(_request(session={SESSION_KEY: token}), store, s) is None


def test_hf_mode_reads_gradios_oauth_session(store, settings):
    s = dataclasses.replace(settings, sign_in="hf")
    session = {"oauth_info": {"userinfo": {"preferred_username": "hf-user"}}}
    assert user_from_request(_request(session=session), store, s) == "hf-user"
    assert SESSION_KEY in session  # a server-side session is kept for it
    saved = dict(session)
    store.end_session(session[SESSION_KEY])  # signed out: a saved copy signs nobody in
    assert user_from_request(_request(session=saved), store, s) is None
    assert user_from_request(_request(session={SESSION_KEY: "ann"}), store, s) is None


def test_a_bearer_key_wins_and_a_wrong_one_is_nobody(tmp_path, store, settings):
    users = tmp_path / "users.txt"
    add_user(users, "bob", "bob-password")
    s = dataclasses.replace(settings, sign_in="users", users_file=users)
    _, secret = store.create_api_key("bob", "ci")
    assert user_from_request(_request({"authorization": f"Bearer {secret}"}), store, s) == "bob"
    wrong = _request({"authorization": "Bearer tgs-wrong"}, session={SESSION_KEY: "bob"})
    assert user_from_request(wrong, store, s) is None  # never falls back to the session
    assert store.list_api_keys("bob")[0]["last_used_at"] is not None
    assert secret not in str(store._query("SELECT * FROM api_keys"))


def test_hf_mode_installs_the_oauth_routes_it_is_given(store, settings):
    s = dataclasses.replace(settings, sign_in="hf")
    installed = []
    api = fastapi.FastAPI()
    auth = install_sign_in(api, store, s, add_hf_routes=installed.append)
    assert installed == [api] and callable(auth)
    with pytest.raises(ValueError, match="OAuth routes"):
        install_sign_in(fastapi.FastAPI(), store, s)


def test_a_key_is_checked_against_the_users_file_at_every_use(tmp_path, store, settings):
    users = tmp_path / "users.txt"
    add_user(users, "bob", "bob-password")
    add_user(users, "eve", "eve-password")
    s = dataclasses.replace(settings, sign_in="users", users_file=users)
    _, secret = store.create_api_key("bob", "ci")
    assert key_user(secret, store, s) == "bob"
    write_users(users, {"eve": read_users(users)["eve"]})  # bob taken out by hand
    assert key_user(secret, store, s) is None
    add_user(users, "bob", "a-new-password")  # the name comes back: the old key does not
    assert key_user(secret, store, s) is None and store.list_api_keys("bob") == []
    # With Hugging Face sign-in there is no users file: the store's keys are the truth.
    _, hf_secret = store.create_api_key("hf-user", "ci")
    assert key_user(hf_secret, store, dataclasses.replace(settings, sign_in="hf")) == "hf-user"
