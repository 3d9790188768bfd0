"""Sign-in throttling: failed passwords slow their name and their address down, and only a
few password hashes run at once.

    throttle = SignInThrottle()
    if (wait := throttle.wait_s(name, address)) > 0: refuse, "try again in {wait} s"
    ... check the password (inside `async with gate.slot() as admitted:`) ...
    throttle.failed(name, address) | throttle.succeeded(name, address)

After FREE_FAILURES failures of a name (or from an address) within WINDOW_S, each further
try must wait BASE_WAIT_S * 2**(failures - FREE_FAILURES) seconds (at most MAX_WAIT_S)
after the last failure; a try that comes sooner is refused without checking the password,
so it costs no hashing, and the right password is refused too until the wait is over. A
success clears its name (never its address: one good account must not reset an address
that guesses others'). Both tables keep at most `max_entries` rows (the oldest go).

A scrypt hash costs about 16 MB and 50-100 ms of a core: HashingGate lets `running` of them
run at once and `waiting` more queue; beyond that a sign-in is refused at once ("busy").
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

FREE_FAILURES = 5
BASE_WAIT_S = 2.0
MAX_WAIT_S = 15 * 60.0
WINDOW_S = 15 * 60.0  # failures older than this are forgotten
MAX_ENTRIES = 10_000


@dataclass
class _Failures:
    count: int
    last: float


class SignInThrottle:
    """Failures per user name and per client address, with exponential back-off."""

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        free: int = FREE_FAILURES,
        max_entries: int = MAX_ENTRIES,
    ):
        self.clock, self.free, self.max_entries = clock, free, max_entries
        self._tables: dict[str, OrderedDict[str, _Failures]] = {
            "name": OrderedDict(),
            "address": OrderedDict(),
        }

    def __len__(self) -> int:
        return sum(len(t) for t in self._tables.values())

    def _wait(self, table: str, key: str, now: float) -> float:
        entry = self._tables[table].get(key)
        if entry is None or now - entry.last > WINDOW_S or entry.count < self.free:
            return 0.0
        wait = min(MAX_WAIT_S, BASE_WAIT_S * 2 ** (entry.count - self.free))
        return max(0.0, entry.last + wait - now)

    def wait_s(self, name: str, address: str) -> float:
        """Seconds before this name may try again from this address (0: now)."""
        now = self.clock()
        return max(self._wait("name", name.lower(), now), self._wait("address", address, now))

    def failed(self, name: str, address: str) -> None:
        now = self.clock()
        for table, key in (("name", name.lower()), ("address", address)):
            rows = self._tables[table]
            entry = rows.pop(key, None)
            if entry is None or now - entry.last > WINDOW_S:
                entry = _Failures(0, now)
            rows[key] = _Failures(entry.count + 1, now)  # newest last
            while len(rows) > self.max_entries:
                rows.popitem(last=False)

    def succeeded(self, name: str, address: str) -> None:
        self._tables["name"].pop(name.lower(), None)


class HashingGate:
    """At most `running` password checks at once, `waiting` more queued, the rest refused."""

    def __init__(self, running: int = 2, waiting: int = 16):
        self.running, self.waiting = running, waiting
        self._semaphore: asyncio.Semaphore | None = None
        self._queued = 0

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[bool]:
        """Yields True once a check may run, False (at once) when the queue is full."""
        if self._semaphore is None:  # made in the server's event loop
            self._semaphore = asyncio.Semaphore(self.running)
        if self._queued >= self.running + self.waiting:
            yield False
            return
        self._queued += 1
        try:
            async with self._semaphore:
                yield True
        finally:
            self._queued -= 1
