"""The Generate tab's running streams: one per browser session. Starting Generate stops a
Compare still streaming in the same page (and the other way round), cleanly and visibly.

    ticket = STREAMS.start(session, "Compare")        # stops the session's previous stream
    for values in follow(ticket, updates, show, stopped): yield values

Why not Gradio's `cancels=`: it drops the running event without closing its generator, so
the engine kept decoding, the generation slot stayed held (the next stream waited for it
for minutes), and the page never learned the stream had ended. Here the old stream sees its
ticket stopped at its next update, says so in its own outputs and returns; closing its
engine stream cancels the decoding and releases the slot.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass(eq=False)
class Ticket:
    """One running stream; `reason` says why it was stopped (empty while it runs)."""

    what: str
    reason: str = ""
    _stopped: threading.Event = field(default_factory=threading.Event)

    @property
    def stopped(self) -> bool:
        return self._stopped.is_set()

    def stop(self, reason: str) -> None:
        self.reason = reason
        self._stopped.set()


class PageStreams:
    """Which stream each browser session is running."""

    def __init__(self):
        self._lock = threading.Lock()
        self._running: dict[str, Ticket] = {}

    def start(self, session: str | None, what: str) -> Ticket:
        """A ticket for a new stream of `session`; the one it was running is stopped."""
        ticket = Ticket(what)
        if session is None:  # an API caller: nothing on a page to replace
            return ticket
        with self._lock:
            old = self._running.get(session)
            if old is not None:
                old.stop(f"{what} was started")
            self._running[session] = ticket
        return ticket

    def end(self, session: str | None, ticket: Ticket) -> None:
        with self._lock:
            if session is not None and self._running.get(session) is ticket:
                del self._running[session]


def follow(
    ticket: Ticket,
    updates: Iterator[Any],
    show: Callable[[Any], tuple],
    stopped: Callable[[Any, str], tuple],
) -> Iterator[tuple]:
    """`show(update)` for each update until the stream ends, or `stopped(last update,
    reason)` once when the ticket is stopped (the engine stream is closed either way)."""
    last = None
    try:
        for update in updates:
            if ticket.stopped:
                yield stopped(last, ticket.reason)
                return
            last = update
            yield show(update)
    finally:
        close = getattr(updates, "close", None)
        if close is not None:
            close()  # cancels the decoding at its next step
