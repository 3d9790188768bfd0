"""A small bounded memo for Validate's costly constructions (studio.configs.construct).

    memo = Memo(16)
    problems = memo.get((base, fingerprint(cfg), fingerprint(peft)), lambda: build(...))

The key must hold everything the answer depends on: `fingerprint` turns the settings dicts
into an exact, order-free text, so a changed value (1 vs 1.0 vs true included) is a new key
and never served from the memo. An answer that raised is not kept. Thread-safe: Gradio runs
handlers in worker threads.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any


def fingerprint(value: Any) -> str:
    """An exact text of JSON-like settings; dict key order does not matter, types do."""
    return json.dumps(value, sort_keys=True, default=repr, allow_nan=True)


class Memo:
    """Least-recently-used answers, at most `size` of them."""

    def __init__(self, size: int):
        if size < 1:
            raise ValueError("a memo holds at least one answer")
        self.size = size
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """The remembered answer for `key`, else compute() (outside the lock), kept."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                self.hits += 1
                return self._items[key]
            self.misses += 1
        value = compute()  # two threads may both compute a new key: same answer, no harm
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value

    def __len__(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        """Forget every answer (tests)."""
        with self._lock:
            self._items.clear()
            self.hits = self.misses = 0
