"""The bounded generation pool: a total bound, and a per-user share when sign-in is on."""

from __future__ import annotations

import threading
import time

import pytest

from studio.generate.slots import GenerationBusyError, GenerationSlots


def test_one_user_cannot_take_every_slot():
    slots = GenerationSlots(2, per_user_cap=True)
    with slots.hold("ann"):
        with pytest.raises(GenerationBusyError, match="You already have 1 generation"):
            with slots.hold("ann"):
                pass
        with slots.hold("bob"):  # bob is served while ann's long request runs
            assert slots.busy() == 2
    assert slots.busy() == 0


def test_the_total_bound_makes_others_wait_not_fail():
    slots = GenerationSlots(1, per_user_cap=True, wait_s=5)
    order = []
    release = threading.Event()

    def long_request():
        with slots.hold("ann"):
            order.append("ann starts")
            release.wait(5)
            order.append("ann ends")

    t = threading.Thread(target=long_request)
    t.start()
    while slots.busy() == 0:
        time.sleep(0.01)
    threading.Timer(0.2, release.set).start()
    with slots.hold("bob"):
        order.append("bob starts")
    t.join()
    assert order == ["ann starts", "ann ends", "bob starts"]


def test_without_sign_in_the_single_user_may_use_every_slot():
    slots = GenerationSlots(2, per_user_cap=False)
    with slots.hold("local"), slots.hold("local"):
        assert slots.busy("local") == 2
