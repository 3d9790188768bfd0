"""Sign-in throttling: per name and per address, with exponential back-off; a bounded
number of password hashes at once; unknown names cost what known ones do."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import statistics
import time

import fastapi
import pytest
from fastapi.testclient import TestClient

from studio.signin import install_sign_in
from studio.signin.throttle import FREE_FAILURES, HashingGate, SignInThrottle
from studio.users import add_user, check_login
from tests.helpers import run_coroutine


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_back_off_grows_after_the_free_failures_and_a_success_clears_the_name():
    clock = Clock()
    t = SignInThrottle(clock=clock)
    for _ in range(FREE_FAILURES):
        assert t.wait_s("ann", "10.0.0.1") == 0
        t.failed("ann", "10.0.0.1")
    first = t.wait_s("ann", "10.0.0.1")
    assert first > 0  # the (N+1)th try must wait
    assert t.wait_s("ann", "10.0.0.2") == first  # another address does not help
    assert t.wait_s("bob", "10.0.0.1") == first  # another name from the address neither
    assert t.wait_s("bob", "10.0.0.9") == 0  # someone else, elsewhere, is not slowed
    clock.now += first
    assert t.wait_s("ann", "10.0.0.2") == 0
    t.failed("ann", "10.0.0.2")
    assert t.wait_s("ann", "10.0.0.3") == pytest.approx(2 * first)  # exponential
    clock.now += 2 * first
    t.succeeded("ann", "10.0.0.3")
    assert t.wait_s("ann", "10.0.0.3") == 0


def test_the_throttle_holds_a_bounded_number_of_entries():
    t = SignInThrottle(clock=Clock(), max_entries=100)
    for i in range(1000):
        t.failed(f"name-{i}", f"10.0.{i // 250}.{i % 250}")
    assert len(t) <= 200  # names and addresses, each bounded


def test_at_most_n_hashes_run_at_once_and_a_full_queue_is_refused():
    gate = HashingGate(running=2, waiting=4)
    busy, peak, refused = 0, 0, 0

    async def attempt():
        nonlocal busy, peak, refused
        async with gate.slot() as admitted:
            if not admitted:
                refused += 1
                return
            busy += 1
            peak = max(peak, busy)
            await asyncio.sleep(0.01)
            busy -= 1

    async def burst():
        await asyncio.gather(*(attempt() for _ in range(20)))

    run_coroutine(burst())
    assert peak == 2 and refused == 20 - 2 - 4


def _scrypt_calls(monkeypatch) -> list:
    calls = []
    real = hashlib.scrypt

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(hashlib, "scrypt", counting)
    return calls


def test_an_unknown_name_costs_what_a_known_one_does(tmp_path, monkeypatch):
    users = tmp_path / "users.txt"
    add_user(users, "ann", "ann-password")
    check_login(users, "nobody", "x")  # the dummy hash is made once, before timing
    calls = _scrypt_calls(monkeypatch)
    check_login(users, "ann", "wrong-password")
    known = len(calls)
    check_login(users, "nobody", "wrong-password")
    assert len(calls) - known == known == 1  # one hash each, whatever the name
    # And the same CPU time, measured side by side (A B A B), as a ratio of medians.
    a, b = [], []
    for _ in range(7):
        for name, out in (("ann", a), ("nobody", b)):
            start = time.process_time()
            check_login(users, name, "wrong-password")
            out.append(time.process_time() - start)
    ratio = statistics.median(b) / statistics.median(a)
    assert 0.6 < ratio < 1.6, ratio


def test_the_right_password_is_refused_while_a_name_waits(tmp_path, store, settings):
    users = tmp_path / "users.txt"
    add_user(users, "ann", "ann-password")
    s = dataclasses.replace(settings, sign_in="users", users_file=users)
    api = fastapi.FastAPI()
    install_sign_in(api, store, s)
    with TestClient(api) as http:
        for _ in range(FREE_FAILURES):
            r = http.post("/login", data={"username": "ann", "password": "nope"})
            assert "Wrong user name or password" in r.text
        r = http.post("/login", data={"username": "ann", "password": "ann-password"})
        assert "Too many failed sign-ins" in r.text
        assert http.get("/config").status_code != 200


def test_the_login_page_shows_only_its_own_messages(tmp_path, store, settings):
    users = tmp_path / "users.txt"
    add_user(users, "ann", "ann-password")
    s = dataclasses.replace(settings, sign_in="users", users_file=users)
    api = fastapi.FastAPI()
    install_sign_in(api, store, s)
    phishing = "Your account is locked: call +1 555 0100 and give your password"
    with TestClient(api) as http:
        page = http.get("/login", params={"error": phishing}).text
        assert "call +1 555" not in page and 'role="alert"' not in page
        r = http.post("/login", data={"username": "ann", "password": "nope"})
        assert "Wrong user name or password." in r.text
        assert "error=" in str(r.url) and "Wrong" not in str(r.url)  # a code, not words
        page = http.get("/login", params={"error": "wait", "seconds": "<b>9</b>"}).text
        assert "<b>" not in page
