"""Admission of /v1 requests: a user's extra requests wait their turn instead of failing.

    admission = Admission(slots, per_user_queue=settings.api_queue_per_user)
    ticket = await admission.enter(user)     # waits; APIError 429 (Retry-After) past the bound
    try: ... generate with slots.hold(user) ...
    finally: admission.leave(user, ticket)

A user may have up to `per_user_queue` requests in the studio at once (STUDIO_API_QUEUE_PER_USER),
running or waiting; one more is refused with 429 and a Retry-After header estimated from
how long requests have been taking. Of those, as many run at once as the shared generation
slots allow a user (STUDIO_GENERATE_WORKERS, all but one of them while sign-in is on); the
rest wait here, in the event loop, holding no thread. Requests that run at once are decoded
together by the batch scheduler, so a burst from one client shares a batch.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import Counter

from studio.api.request import APIError

_AVERAGE_WEIGHT = 0.2  # of the newest request's duration in the running average


class QueueFullError(APIError):
    """429: the user's queue is full; `retry_after` seconds go in the Retry-After header."""

    def __init__(self, message: str, retry_after: int):
        super().__init__(429, message, code="rate_limit_exceeded")
        self.retry_after = retry_after


class Admission:
    def __init__(self, slots, per_user_queue: int):
        self.slots = slots
        self.per_user_queue = max(1, int(per_user_queue))
        self._in: Counter[str] = Counter()
        self._running: dict[str, asyncio.Semaphore] = {}
        self._everyone: asyncio.Semaphore | None = None
        self._average_s = 2.0

    def _semaphores(self, user: str) -> tuple[asyncio.Semaphore, asyncio.Semaphore]:
        if self._everyone is None:  # made in the server's event loop
            self._everyone = asyncio.Semaphore(self.slots.total)
        mine = self._running.get(user)
        if mine is None:
            mine = self._running[user] = asyncio.Semaphore(self.slots.per_user)
        return mine, self._everyone

    def retry_after_s(self, user: str) -> int:
        """About when one of `user`'s requests will have finished."""
        ahead = self._in[user] / max(1, self.slots.per_user)
        return max(1, math.ceil(self._average_s * ahead))

    async def enter(self, user: str) -> float:
        """Wait for a turn; returns a ticket for leave(). APIError 429 past the bound."""
        if self._in[user] >= self.per_user_queue:
            wait = self.retry_after_s(user)
            raise QueueFullError(
                f"You already have {self._in[user]} requests running or waiting, the most one "
                f"user may have (STUDIO_API_QUEUE_PER_USER={self.per_user_queue}); retry in "
                f"about {wait} s.",
                wait,
            )
        self._in[user] += 1
        mine, everyone = self._semaphores(user)
        try:
            await mine.acquire()
            try:
                await everyone.acquire()
            except BaseException:
                mine.release()
                raise
        except BaseException:  # the client went away while waiting
            self._in[user] -= 1
            raise
        return time.monotonic()

    def leave(self, user: str, ticket: float) -> None:
        """Give the turn back (call from the event loop, once per enter)."""
        mine, everyone = self._semaphores(user)
        everyone.release()
        mine.release()
        self._in[user] -= 1
        took = time.monotonic() - ticket
        self._average_s += _AVERAGE_WEIGHT * (took - self._average_s)
