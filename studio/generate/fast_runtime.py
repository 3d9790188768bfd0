"""A converted model served by ONNX Runtime GenAI: its Engine for streams, its Generator for
beam search, seeded sampling and long requests.

    fast = FastModel(folder)
    request = fast.submit(prompt_ids, FastTurn(max_new=64, search={"do_sample": False}))
    for token_id in request: ...          # request.cancel() stops it at the next step

Streams (greedy, unseeded sampling) go to the Engine, which decodes the requests it holds in
one batch per step. On a CPU its scheduler batches statically: a request that arrives while
a batch is running waits for that batch to end. So the model keeps LANES lanes, each an
Engine with its own worker thread: a new request starts on an idle lane at once (a burst of
requests is gathered into one batch), and the requests that arrive while every lane is busy
join the next free lane together, as one batch. A lane takes at most MAX_BATCH requests, so
a burst is shared between the lanes: measured on 2 cores, two lanes of 4 decode about twice
as many tokens per second as one lane of 8 (bench/README.md, "Fast engine").
The Engine sizes every request's key-value cache by the model's max_length; it is capped at
ENGINE_MAX_LENGTH (a whole context of 8k tokens cost 30 ms more per batch start here), and a
longer request runs on its own og.Generator instead, like beam search, several sequences and
a seed (which the CPU Engine does not take per request), each in a worker thread.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

LANES = 2  # engines per model: a late request waits for no running batch while one is idle
MAX_BATCH = 4  # requests one lane decodes together (a burst of 8 fills both lanes)
ENGINE_MAX_LENGTH = 2048  # prompt + new tokens an Engine request may hold; longer: a Generator
GATHER_GAP_S = 0.01  # a batch waits this long for the next request of a burst...
GATHER_MAX_S = 0.05  # ...and no longer than this in all
_END = object()


@dataclass
class FastTurn:
    """One request's generation settings: token counts and ORT GenAI search options."""

    max_new: int
    min_new: int = 0
    search: dict[str, Any] = field(default_factory=dict)  # do_sample, temperature, top_k, ...


@dataclass(eq=False)
class FastRequest:
    """A request in a lane; iterate it for its token ids as they are decoded."""

    prompt: list[int]
    turn: FastTurn
    cancelled: bool = False
    finish: str = ""  # the engine's finish reason, once finished
    error: BaseException | None = None
    finished: bool = False
    _out: queue.Queue = field(default_factory=queue.Queue)

    def cancel(self) -> None:
        """Stop at the next step (a stop sequence was found, the client went away)."""
        self.cancelled = True

    def __iter__(self) -> Iterator[int]:
        while (item := self._out.get()) is not _END:
            yield item
        if self.error is not None:
            raise self.error

    def _done(self, error: BaseException | None = None) -> None:
        if self.finished:
            return
        self.finished, self.error = True, error
        self._out.put(_END)


def turn_options(og, request, turn: FastTurn):
    """og.TurnOptions for `turn` on an Engine request."""
    options = og.TurnOptions(request)
    options.set_max_generated_tokens(int(turn.max_new))
    if turn.min_new:
        options.set_min_generated_tokens(int(turn.min_new))
    search = turn.search
    options.set_do_sample(bool(search.get("do_sample", False)))
    if search.get("do_sample"):
        options.set_temperature(float(search.get("temperature", 1.0)))
        options.set_top_k(int(search.get("top_k", 0)))
        options.set_top_p(float(search.get("top_p", 1.0)))
    if search.get("repetition_penalty", 1.0) != 1.0:
        options.set_repetition_penalty(float(search["repetition_penalty"]))
    if search.get("no_repeat_ngram_size"):
        options.set_no_repeat_ngram_size(int(search["no_repeat_ngram_size"]))
    return options


class Lane:
    """One og.Engine and the worker thread that runs it, a batch at a time."""

    def __init__(self, model, pending: queue.Queue, eos_id: int | None = None):
        self.model, self.pending, self.eos_id = model, pending, eos_id
        self.batch_sizes: list[int] = []
        threading.Thread(target=self._loop, daemon=True, name="fast-lane").start()

    def _loop(self) -> None:
        import numpy as np
        import onnxruntime_genai as og

        engine = og.Engine(self.model)
        events = engine.create_event_buffer(64)
        while True:
            batch = [self.pending.get()]
            # Requests of a burst arrive a few milliseconds apart: gather them into this
            # batch while they keep coming (a lone request waits GATHER_GAP_S at most).
            deadline = time.monotonic() + GATHER_MAX_S
            while len(batch) < MAX_BATCH:
                wait = min(GATHER_GAP_S, deadline - time.monotonic())
                try:
                    batch.append(
                        self.pending.get(timeout=wait) if wait > 0 else self.pending.get_nowait()
                    )
                except queue.Empty:
                    break
            self.batch_sizes = (self.batch_sizes + [len(batch)])[-1000:]
            try:
                self._run(og, np, engine, events, batch)
            except BaseException as exc:  # every request of the batch gets the error
                log.exception("fast generation failed")
                for r in batch:
                    r._done(exc)

    def _run(self, og, np, engine, events, batch: list[FastRequest]) -> None:
        live: dict[int, tuple[Any, int, FastRequest]] = {}
        for r in batch:
            if r.cancelled:
                r._done()
                continue
            request = engine.create_request()
            prompt = np.asarray(r.prompt, dtype=np.int32)
            turn = request.begin_turn(prompt, turn_options(og, request, r.turn))
            live[id(request)] = (request, turn, r)
        token_flag = int(og.EngineEventFlags.TOKEN)
        finished_flag = int(og.EngineEventFlags.TURN_FINISHED)
        failed_flag = int(og.EngineEventFlags.FAILED)
        cancelling: set[int] = set()
        while live:
            for key, (request, turn, r) in live.items():
                if r.cancelled and key not in cancelling:
                    request.cancel_turn(turn)
                    cancelling.add(key)
            for event in engine.run(events):
                key = id(event.request)
                entry = live.get(key)
                if entry is None:
                    continue
                flags = int(event.flags)
                if flags & token_flag and key not in cancelling:
                    entry[2]._out.put(int(event.token))
                if flags & (finished_flag | failed_flag):
                    entry[2].finish = str(event.finish_reason)
                    # The Engine ends a turn on the end-of-sequence token without sending it
                    # (a Generator sends it): pass it on, so the answer reads as ended by
                    # the model ("stop", not "length") and counts its tokens as exact does.
                    ended = event.finish_reason == og.FinishReason.EOS
                    if ended and self.eos_id is not None and key not in cancelling:
                        entry[2]._out.put(self.eos_id)
                    error = RuntimeError(f"fast engine error {event.error_code}")
                    entry[2]._done(error if flags & failed_flag else None)
                    entry[0].close()
                    del live[key]
            if not live and engine.has_pending_requests():
                engine.run(events)  # drain what cancelled requests left behind


class FastModel:
    """A converted model folder loaded once, with its lanes (see the module doc)."""

    def __init__(self, folder: str, lanes: int = LANES):
        import onnxruntime_genai as og

        config = og.Config(folder)
        with open(f"{folder}/genai_config.json", encoding="utf-8") as f:
            described = json.load(f)["model"]
        context = int(described.get("context_length") or ENGINE_MAX_LENGTH)
        eos = described.get("eos_token_id")
        self.eos_id = eos[0] if isinstance(eos, list) and eos else eos
        self.engine_max_length = min(context, ENGINE_MAX_LENGTH)
        config.overlay(
            json.dumps(
                {
                    "engine": {"static_batching": {"max_batch_size": MAX_BATCH}},
                    "search": {"max_length": self.engine_max_length},
                }
            )
        )
        self.folder = folder
        self.model = og.Model(config)
        self._pending: queue.Queue = queue.Queue()
        self._lanes_wanted = max(1, lanes)
        self._lanes: list[Lane] = []
        self._lock = threading.Lock()

    @property
    def batch_sizes(self) -> list[int]:
        """How many requests each lane batch held (tests, stats)."""
        return [n for lane in self._lanes for n in lane.batch_sizes]

    def submit(self, prompt: list[int], turn: FastTurn) -> FastRequest:
        """Queue a streamed request (greedy or unseeded sampling) on the next free lane; one
        longer than an Engine request may hold streams from its own Generator."""
        if len(prompt) + int(turn.max_new) > self.engine_max_length:
            return self.stream(prompt, turn)
        request = FastRequest(list(prompt), turn)
        with self._lock:
            while len(self._lanes) < self._lanes_wanted:  # started with the first request
                self._lanes.append(Lane(self.model, self._pending, self.eos_id))
            self._pending.put(request)
        return request

    def generate(self, prompt: list[int], turn: FastTurn, rows: int = 1) -> list[list[int]]:
        """Whole sequences from an og.Generator: beam search (its `rows` best beams) or one
        seeded sample. Returns the generated ids of each row."""
        import onnxruntime_genai as og

        params = og.GeneratorParams(self.model)
        search = dict(turn.search)
        search.update(
            max_length=len(prompt) + int(turn.max_new),
            min_length=len(prompt) + int(turn.min_new) if turn.min_new else 0,
            num_return_sequences=rows,
        )
        params.set_search_options(**search)
        generator = og.Generator(self.model, params)
        generator.append_tokens(list(prompt))
        while not generator.is_done():
            generator.generate_next_token()
        return [[int(t) for t in generator.get_sequence(i)[len(prompt) :]] for i in range(rows)]

    def stream(self, prompt: list[int], turn: FastTurn) -> FastRequest:
        """A request streamed from its own og.Generator in a worker thread (a seeded sample, or
        one longer than an Engine request may be)."""
        import onnxruntime_genai as og

        request = FastRequest(list(prompt), turn)

        def work() -> None:
            try:
                params = og.GeneratorParams(self.model)
                search = dict(turn.search)
                search.update(max_length=len(prompt) + int(turn.max_new))
                if turn.min_new:
                    search["min_length"] = len(prompt) + int(turn.min_new)
                params.set_search_options(**search)
                generator = og.Generator(self.model, params)
                generator.append_tokens(list(prompt))
                while not generator.is_done() and not request.cancelled:
                    generator.generate_next_token()
                    request._out.put(int(generator.get_next_tokens()[0]))
                request._done()
            except BaseException as exc:
                request._done(exc)

        threading.Thread(target=work, daemon=True, name="fast-seeded").start()
        return request
