"""Sharing one machine: round-robin across users, per-user limits with their messages."""

from __future__ import annotations

import dataclasses
import time

import pytest

from studio.jobs.limits import LimitError, check_queue_room, check_storage, storage_used


def _queue(store, app_id, n):
    jobs = []
    for _ in range(n):
        jobs.append(store.create_job(app_id, None, "train"))
        time.sleep(0.002)  # distinct created_at
    return jobs


def _run_queue(store, cap=None):
    """Start jobs as the runner would, one slot at a time, finishing each before the next."""
    order = []
    while True:
        queue = store.fair_queue(cap)
        if not queue:
            return order
        job = queue[0]
        store.update_job(job["id"], status="running", started_at=time.time())
        order.append(store.owner_of_app(job["app_id"]))
        time.sleep(0.002)
        store.update_job(job["id"], status="succeeded", finished_at=time.time())


def test_two_users_are_served_round_robin(store):
    ann = store.create_app("a", owner="ann")["id"]
    bob = store.create_app("b", owner="bob")["id"]
    _queue(store, ann, 4)  # ann queues first and more
    _queue(store, bob, 2)
    assert _run_queue(store) == ["ann", "bob", "ann", "bob", "ann", "ann"]


def test_one_user_alone_is_first_come_first_served(store):
    app = store.create_app("a", owner="local")["id"]
    jobs = _queue(store, app, 3)
    assert [j["id"] for j in store.fair_queue()] == [j["id"] for j in jobs]


def test_running_cap_makes_a_users_extra_jobs_wait(store):
    ann = store.create_app("a", owner="ann")["id"]
    bob = store.create_app("b", owner="bob")["id"]
    a1, a2 = _queue(store, ann, 2)
    [b1] = _queue(store, bob, 1)
    store.update_job(a1["id"], status="running", started_at=time.time())
    # ann is at her cap of 1 running job: only bob's job may start.
    assert [j["id"] for j in store.fair_queue(1)] == [b1["id"]]
    assert [j["id"] for j in store.fair_queue(2)] == [b1["id"], a2["id"]]


def test_queued_limit_names_the_limit_and_usage(store, settings):
    s = dataclasses.replace(settings, sign_in="users", user_max_queued=2)
    app = store.create_app("a", owner="ann")["id"]
    check_queue_room(store, s, app)
    _queue(store, app, 2)
    with pytest.raises(LimitError, match=r"You have 2 jobs waiting .* limit is 2 waiting jobs"):
        check_queue_room(store, s, app)
    check_queue_room(store, settings, app)  # sign-in off: no per-user limits


def test_storage_limit_counts_only_the_users_own_apps(store, settings):
    s = dataclasses.replace(settings, sign_in="users", user_max_storage_mb=1)
    ann = store.create_app("a", owner="ann")["id"]
    bob = store.create_app("b", owner="bob")["id"]
    folder = s.app_dir(ann) / "datasets"
    folder.mkdir(parents=True)
    (folder / "big.bin").write_bytes(b"x" * (1024 * 1024 + 1))
    assert storage_used(store, s, "ann") > 1024 * 1024
    assert storage_used(store, s, "bob") == 0 and bob
    with pytest.raises(LimitError, match=r"use 1\.0 MB of your 1 MB storage limit"):
        check_storage(store, s, "ann")
    check_storage(store, s, "bob")
