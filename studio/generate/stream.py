"""Streaming pieces: the update a stream yields, a token-counting streamer, stop-string
trimming, and interleaving two streams (Compare)."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from studio.errors import StudioError

log = logging.getLogger(__name__)

# A rate over fewer tokens than this says nothing ("1 tokens · 0.4 tokens/s"): while a stream
# runs, the stats line shows it from this many tokens on (and always once it is done).
MIN_RATE_TOKENS = 4


@dataclass
class StreamUpdate:
    """The state of one generation so far (each yield is the whole text, not a delta)."""

    status: str = "loading"  # loading | generating | done | stopped | error
    text: str = ""  # the first (or only) sequence so far
    texts: list[str] = field(default_factory=list)  # every returned sequence (when done)
    message: str = ""  # "Loading <model>…" or an error message
    model: str = ""  # the model's readable name
    prompt: str = ""  # the exact text sent to the model
    prompt_tokens: int = 0
    new_tokens: int = 0
    ttft: float | None = None  # seconds from start of generation to the first token
    seconds: float = 0.0  # generation time so far (loading excluded)
    finish_reason: str = ""  # stop (EOS or a stop sequence) | length (max_new_tokens)
    finish_reasons: list[str] = field(default_factory=list)  # per sequence in texts (when done)
    engine: str = ""  # which engine answered, e.g. "exact (fp32)"
    note: str = ""  # why the fast engine did not answer, or how far its conversion is

    @property
    def tokens_per_s(self) -> float:
        return self.new_tokens / self.seconds if self.seconds > 0 else 0.0

    def stats(self) -> str:
        """One line for the page: tokens, speed (once it means something), first token,
        the engine that answered and why, and how it finished."""
        if self.status == "loading":
            return " · ".join(x for x in (self.message, self.note) if x)
        if self.status == "error":
            return f"Error: {self.message}"
        parts = [f"{self.new_tokens} token{'s' if self.new_tokens != 1 else ''}"]
        if self.status != "generating" or (self.new_tokens >= MIN_RATE_TOKENS and self.seconds):
            parts.append(f"{self.tokens_per_s:.1f} tokens/s")
        if self.ttft is not None:
            parts.append(f"first token after {self.ttft * 1000:.0f} ms")
        parts.append(f"prompt {self.prompt_tokens} tokens")
        if self.engine:
            parts.append(self.engine)
        if self.note:
            parts.append(self.note)
        if self.status == "done" and self.finish_reason:
            parts.append(f"finished: {self.finish_reason}")
        if self.status == "stopped":
            parts.append(f"stopped: {self.message or 'cancelled'}")
        return " · ".join(parts)


def trim_at_stop(text: str, stops: list[str]) -> tuple[str, bool]:
    """(text cut before the earliest stop sequence, whether one was found)."""
    cut = min((i for i in (text.find(s) for s in stops if s) if i >= 0), default=-1)
    return (text[:cut], True) if cut >= 0 else (text, False)


class TokenStreamer:
    """A model.generate streamer that hands the new token ids to another thread, in order.

    generate() first puts the prompt (or the decoder's start token): that is skipped.
    Iterate it for the ids; `end()` (called by generate, or on failure) ends the iteration."""

    _END = object()

    def __init__(self):
        self._queue: queue.Queue = queue.Queue()
        self._prompt_seen = False

    def put(self, value) -> None:
        if not self._prompt_seen:
            self._prompt_seen = True
            return
        for token in value.reshape(-1).tolist():
            self._queue.put(int(token))

    def end(self) -> None:
        self._queue.put(self._END)

    def __iter__(self) -> Iterator[int]:
        while (item := self._queue.get()) is not self._END:
            yield item


def run_in_thread(target: Callable[[], None], on_error: Callable[[BaseException], None]):
    """Start `target` in a daemon thread; an exception goes to `on_error` (never lost)."""

    def wrapper():
        try:
            target()
        except BaseException as exc:  # handed to the consumer, which re-raises it
            on_error(exc)

    thread = threading.Thread(target=wrapper, daemon=True)
    thread.start()
    return thread


def interleave(
    left: Callable[[], Iterator[StreamUpdate]], right: Callable[[], Iterator[StreamUpdate]]
) -> Iterator[tuple[StreamUpdate, StreamUpdate]]:
    """Run two streams at once; yield (left, right) latest states whenever either moves.

    An error on one side shows in that side's update and does not stop the other side.
    """
    events: queue.Queue = queue.Queue()
    latest = [StreamUpdate(status="loading", message="Waiting…") for _ in range(2)]
    stop = threading.Event()  # the consumer went away: both sides stop at their next token

    def pump(side: int, make: Callable[[], Iterator[StreamUpdate]]) -> None:
        updates = None
        try:
            updates = make()
            for update in updates:
                if stop.is_set():
                    break
                events.put((side, update))
        except StudioError as exc:
            events.put((side, StreamUpdate(status="error", message=str(exc))))
        except Exception as exc:
            log.exception("compare stream failed")
            message = f"{type(exc).__name__}; see the server log"
            events.put((side, StreamUpdate(status="error", message=message)))
        finally:
            if updates is not None:
                updates.close()  # cancels that side's decoding
            events.put((side, None))

    for side, make in enumerate((left, right)):
        threading.Thread(target=pump, args=(side, make), daemon=True).start()
    running = 2
    try:
        while running:
            side, update = events.get()
            if update is None:
                running -= 1
                continue
            if update.status == "error" and not update.model:
                update.model = latest[side].model
            latest[side] = update
            yield latest[0], latest[1]
    finally:
        stop.set()
