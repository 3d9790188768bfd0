"""The one end-of-generation loop: token ids in (from any backend), text updates out.

Every way the studio generates -- model.generate with a streamer, the exact batch scheduler,
the fast engine -- yields token ids; `follow_tokens` turns them into StreamUpdates: the text
decoded so far (what could be the start of a stop sequence held back), the time to the first
token, a cut at the first stop sequence (and `cancel()` so the backend stops), and at the end
one finish reason by one rule (`finish_reason`). Whole answers (beam search, several
sequences) go through `finish_rows`, which applies the same rule to each row.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace

from studio.generate.stream import StreamUpdate, trim_at_stop


def finish_reason(stopped: bool, hit_eos: bool) -> str:
    """ "stop" when a stop sequence or end-of-sequence ended the text, else "length"."""
    return "stop" if stopped or hit_eos else "length"


def follow_tokens(
    tokens: Iterable[int],
    decode: Callable[[list[int]], str],
    stops: list[str],
    eos: set[int],
    state: StreamUpdate,
    cancel: Callable[[], None] = lambda: None,
    start: float | None = None,
) -> Iterator[StreamUpdate]:
    """Yield `state` as each token of `tokens` arrives, then once more, done."""
    start = time.perf_counter() if start is None else start
    holdback = max((len(s) for s in stops), default=1) - 1
    ids: list[int] = []
    text, stopped = "", False
    try:
        for token in tokens:
            if state.ttft is None:
                state.ttft = time.perf_counter() - start
            ids.append(int(token))
            text = decode(ids)
            shown, stopped = trim_at_stop(text, stops)
            if not stopped and holdback:
                shown = text[: max(0, len(text) - holdback)]  # maybe a stop's beginning
            state.text, state.new_tokens = shown, len(ids)
            state.seconds = time.perf_counter() - start
            state.status = "generating"
            yield replace(state)  # a snapshot: consumers may keep every update
            if stopped:
                break
    finally:
        cancel()  # a stop sequence, or the consumer went away: no more tokens wanted
    state.text, stopped = trim_at_stop(text, stops)
    state.seconds = time.perf_counter() - start
    state.new_tokens = len(ids)
    state.status, state.texts = "done", [state.text]
    state.finish_reason = finish_reason(stopped, bool(ids) and ids[-1] in eos)
    state.finish_reasons = [state.finish_reason]
    yield state


def finish_rows(
    rows: list[list[int]],
    decode: Callable[[list[int]], str],
    stops: list[str],
    eos: set[int],
    pad: int | None,
    state: StreamUpdate,
) -> StreamUpdate:
    """`state` done with every returned sequence (generated ids only, padding allowed)."""
    texts, reasons, count = [], [], 0
    for row in rows:
        ids = [int(t) for t in row]
        end = next((i + 1 for i, t in enumerate(ids) if t in eos), None)
        if end is None:
            end = len(ids)
            while end and ids[end - 1] == pad:  # rows that ended early are padded
                end -= 1
        count += end
        text, stopped = trim_at_stop(decode(ids[:end]), stops)
        texts.append(text)
        reasons.append(finish_reason(stopped, any(t in eos for t in ids[:end])))
    state.status, state.texts, state.text = "done", texts, texts[0] if texts else ""
    state.new_tokens, state.finish_reasons = count, reasons
    state.finish_reason = reasons[0] if reasons else "stop"
    return state
