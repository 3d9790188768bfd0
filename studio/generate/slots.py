"""A bounded pool of generation slots shared by the page and /v1.

    with ctx.slots.hold(user):          # waits for a free slot; refuses a user's extra one
        for update in engine.generate_stream(...): ...

At most `total` generations (STUDIO_GENERATE_WORKERS) run at once, page and API together,
so a burst of requests cannot oversubscribe the CPU. With sign-in on, one user may hold at
most total - 1 of them (1 when total is 1): a user's long request, or many of them, always
leaves a slot for someone else, and their extra request is refused with the limit and
their usage instead of queueing behind themselves. A batching scheduler can replace this
class behind the same `hold()`.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from studio.errors import StudioError


class GenerationBusyError(StudioError):
    """No generation slot for this user right now."""


class GenerationSlots:
    def __init__(self, total: int, per_user_cap: bool = False, wait_s: float = 300.0):
        self.total = max(1, int(total))
        self.per_user = max(1, self.total - 1) if per_user_cap else self.total
        self.wait_s = wait_s
        self._cond = threading.Condition()
        self._busy: Counter[str] = Counter()

    def busy(self, user: str | None = None) -> int:
        with self._cond:
            return self._busy[user] if user is not None else sum(self._busy.values())

    @contextmanager
    def hold(self, user: str) -> Iterator[None]:
        """One slot for `user` for the length of the `with` (a whole stream)."""
        with self._cond:
            # Only a per-user cap refuses at once; without one (sign-in off: every request is
            # the same user) a request waits for a free slot like everyone else's.
            if self.per_user < self.total and self._busy[user] >= self.per_user:
                raise GenerationBusyError(
                    f"You already have {self._busy[user]} generation(s) running; the limit is "
                    f"{self.per_user} per user of the studio's {self.total} "
                    "(STUDIO_GENERATE_WORKERS). Wait for one to finish."
                )
            if not self._cond.wait_for(
                lambda: sum(self._busy.values()) < self.total, timeout=self.wait_s
            ):
                raise GenerationBusyError(
                    f"All {self.total} generation slots stayed busy for {self.wait_s:.0f} s; "
                    "try again in a moment."
                )
            self._busy[user] += 1
        try:
            yield
        finally:
            with self._cond:
                self._busy[user] -= 1
                self._cond.notify_all()
