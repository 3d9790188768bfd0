"""wait_for: poll until something is true, or fail saying what never happened."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def wait_for(
    predicate: Callable[[], Any],
    timeout: float = 120,
    what: str | Callable[[], str] = "condition",
    interval: float = 0.3,
) -> Any:
    """The first truthy value of predicate(), polled every `interval` seconds; an
    AssertionError naming `what` (or what it returns: a log tail) after `timeout`."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what() if callable(what) else what}")
