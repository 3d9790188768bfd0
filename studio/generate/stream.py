"""Streaming pieces: the update a stream yields, a token-counting streamer, stop-string
trimming, and interleaving two streams (Compare)."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from studio.errors import StudioError

log = logging.getLogger(__name__)


@dataclass
class StreamUpdate:
    """The state of one generation so far (each yield is the whole text, not a delta)."""

    status: str = "loading"  # loading | generating | done | error
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
    engine: str = ""  # which weights answered: "fast (int4)" or "exact (fp32)"

    @property
    def tokens_per_s(self) -> float:
        return self.new_tokens / self.seconds if self.seconds > 0 else 0.0

    def stats(self) -> str:
        """One line for the page: tokens, speed, time to first token."""
        if self.status == "loading":
            return self.message
        if self.status == "error":
            return f"Error: {self.message}"
        ttft = f"{self.ttft * 1000:.0f} ms" if self.ttft is not None else "-"
        line = (
            f"{self.new_tokens} tokens · {self.tokens_per_s:.1f} tokens/s · "
            f"first token after {ttft} · prompt {self.prompt_tokens} tokens"
        )
        if self.engine:
            line += f" · {self.engine}"
        if self.status == "done" and self.finish_reason:
            line += f" · finished: {self.finish_reason}"
        return line


def trim_at_stop(text: str, stops: list[str]) -> tuple[str, bool]:
    """(text cut before the earliest stop sequence, whether one was found)."""
    cut = min((i for i in (text.find(s) for s in stops if s) if i >= 0), default=-1)
    return (text[:cut], True) if cut >= 0 else (text, False)


def advance(state: StreamUpdate, streamer, start: float, text: str) -> None:
    """Update `state` with the text so far, the tokens counted by `streamer`, the seconds
    since `start` and the time to the first token."""
    state.text = text
    state.new_tokens = streamer.count
    state.seconds = time.perf_counter() - start
    if streamer.first_token_at is not None:
        state.ttft = streamer.first_token_at - start


def counting_streamer(tokenizer, timeout: float | None = None):
    """A TextIteratorStreamer that also counts generated tokens and times the first one."""
    from transformers import TextIteratorStreamer

    class CountingStreamer(TextIteratorStreamer):
        def __init__(self):
            super().__init__(tokenizer, skip_prompt=True, timeout=timeout, skip_special_tokens=True)
            self.count = 0
            self.first_token_at: float | None = None
            self.ended = False

        def put(self, value):
            if not (self.skip_prompt and self.next_tokens_are_prompt):
                self.count += int(value.numel())
                if self.first_token_at is None:
                    self.first_token_at = time.perf_counter()
            super().put(value)

        def end(self):
            self.ended = True
            super().end()

    return CountingStreamer()


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

    def pump(side: int, make: Callable[[], Iterator[StreamUpdate]]) -> None:
        try:
            for update in make():
                events.put((side, update))
        except StudioError as exc:
            events.put((side, StreamUpdate(status="error", message=str(exc))))
        except Exception as exc:
            log.exception("compare stream failed")
            events.put(
                (
                    side,
                    StreamUpdate(
                        status="error", message=f"{type(exc).__name__}; see the server log"
                    ),
                )
            )
        finally:
            events.put((side, None))

    for side, make in enumerate((left, right)):
        threading.Thread(target=pump, args=(side, make), daemon=True).start()
    running = 2
    while running:
        side, update = events.get()
        if update is None:
            running -= 1
            continue
        if update.status == "error" and not update.model:
            update.model = latest[side].model
        latest[side] = update
        yield latest[0], latest[1]
