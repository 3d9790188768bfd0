"""Step-level (continuous) batching: many generations share one model, one forward per step.

    scheduler = BatchScheduler(model)
    request = scheduler.submit(prompt_ids, max_new_tokens=64, eos_ids={2})
    for token_id in request:  # blocks until each token is decoded
        ...

One worker thread owns the model. Each loop it admits every waiting request (a prefill
forward pass of its prompt, whose KV cache is then left-padded into the shared batch cache),
then runs ONE decode forward pass for every active sequence together: input_ids (B, 1), a
padded attention mask, per-row position ids. A request that arrives while a long one is
decoding joins at the next step, so nobody waits behind a long generation for more than one
step. Finished or cancelled rows leave the batch between steps.

On a CPU, decoding one token reads every weight once whatever the batch size, so 8 rows cost
little more than 1: aggregate tokens/s grows with the number of concurrent users.
Token choice per row goes through that row's logits processors (repetition penalty, the
seeded sampler, ...), then argmax: the same rule as greedy `model.generate`.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any

import torch

log = logging.getLogger(__name__)

_DONE = object()


@dataclass(eq=False)
class Request:
    """One generation in the scheduler; iterate it for its token ids as they are decoded."""

    prompt: list[int]
    max_new_tokens: int
    eos_ids: frozenset[int] = frozenset()
    processors: list[Callable] = field(default_factory=list)  # (ids (1, L), scores) -> scores
    generated: list[int] = field(default_factory=list)
    cancelled: bool = False
    error: BaseException | None = None
    _out: queue.Queue = field(default_factory=queue.Queue)

    def cancel(self) -> None:
        """Stop at the next step (a stop sequence was found, the client went away)."""
        self.cancelled = True

    def __iter__(self) -> Iterator[int]:
        while True:
            item = self._out.get()
            if item is _DONE:
                if self.error is not None:
                    raise self.error
                return
            yield item

    def _emit(self, token: int) -> bool:
        """Record `token`; True when this request is finished."""
        self.generated.append(token)
        self._out.put(token)
        return token in self.eos_ids or len(self.generated) >= self.max_new_tokens

    def _finish(self, error: BaseException | None = None) -> None:
        self.error = error
        self._out.put(_DONE)


class BatchScheduler:
    """Serve many requests on one causal LM with step-level batching (see module doc).

    `context()` wraps every forward pass (e.g. activating a LoRA adapter). `batch_sizes`
    keeps how many rows each decode step ran (the most recent 1000), for tests and stats.
    """

    def __init__(
        self,
        model: Any,
        context: Callable[[], AbstractContextManager] | None = None,
        max_batch: int = 16,
    ):
        self.model = model
        self.context = context or nullcontext
        self.max_batch = max_batch
        self.batch_sizes: list[int] = []
        self._waiting: list[Request] = []
        self._active: list[Request] = []
        self._keys: list[torch.Tensor] = []  # per layer (B, heads, T, dim)
        self._values: list[torch.Tensor] = []
        self._mask = torch.zeros(0, 0, dtype=torch.long)  # (B, T): 1 = real token
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None

    def submit(
        self,
        prompt: list[int],
        max_new_tokens: int,
        eos_ids=(),
        processors: list[Callable] | None = None,
    ) -> Request:
        """Queue a generation; it joins the running batch before the next decode step."""
        request = Request(
            list(prompt), int(max_new_tokens), frozenset(eos_ids), list(processors or [])
        )
        with self._cond:
            self._waiting.append(request)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._loop, daemon=True, name="batch-scheduler"
                )
                self._thread.start()
            self._cond.notify()
        return request

    # -- the worker -------------------------------------------------------------------
    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._waiting and not self._active:
                    if not self._cond.wait(timeout=30):
                        self._thread = None  # idle: let the thread go; submit restarts it
                        return
                room = max(0, self.max_batch - len(self._active))
                joining, self._waiting = self._waiting[:room], self._waiting[room:]
            try:
                with torch.inference_mode():
                    for request in joining:
                        self._admit(request)
                    self._drop_finished()
                    if self._active:
                        self._step()
                        self._drop_finished()
            except BaseException as exc:  # every request in flight gets the error
                log.exception("batched generation failed")
                for request in self._active + joining:
                    if request.error is None:
                        request._finish(exc)
                self._active, self._keys, self._values = [], [], []
                self._mask = torch.zeros(0, 0, dtype=torch.long)

    def _forward(self, **kwargs) -> Any:
        with self.context():
            return self.model(use_cache=True, **kwargs)

    def _choose(self, request: Request, logits: torch.Tensor) -> int:
        scores = logits.float().unsqueeze(0)
        if request.processors:
            ids = torch.tensor([request.prompt + request.generated], dtype=torch.long)
            for process in request.processors:
                scores = process(ids, scores)
        return int(scores.argmax(dim=-1))

    def _admit(self, request: Request) -> None:
        if request.cancelled:
            request._finish()
            return
        ids = torch.tensor([request.prompt], dtype=torch.long, device=self.model.device)
        out = self._forward(input_ids=ids, attention_mask=torch.ones_like(ids), logits_to_keep=1)
        if request._emit(self._choose(request, out.logits[0, -1])):
            request._finish()
            return
        cache = out.cache
        layers = [(layer.keys, layer.values) for layer in cache.layers]
        self._join([k for k, _ in layers], [v for _, v in layers], ids.shape[1])
        self._active.append(request)

    def _join(self, keys: list, values: list, length: int) -> None:
        """Left-pad the batch cache and the new row's cache to one length, then stack."""
        device = keys[0].device
        row_mask = torch.ones(1, length, dtype=torch.long, device=device)
        if not self._active:
            self._keys, self._values, self._mask = keys, values, row_mask
            return
        width = max(self._mask.shape[1], length)
        pad_old, pad_new = width - self._mask.shape[1], width - length
        pairs = zip(self._keys, keys, strict=True)
        self._keys = [torch.cat([_lpad(a, pad_old), _lpad(b, pad_new)]) for a, b in pairs]
        pairs = zip(self._values, values, strict=True)
        self._values = [torch.cat([_lpad(a, pad_old), _lpad(b, pad_new)]) for a, b in pairs]
        self._mask = torch.cat([_lpad_mask(self._mask, pad_old), _lpad_mask(row_mask, pad_new)])

    def _step(self) -> None:
        from transformers.cache_utils import DynamicCache

        batch = len(self._active)
        self.batch_sizes = (self.batch_sizes + [batch])[-1000:]
        device = self._mask.device
        last = torch.tensor([[r.generated[-1]] for r in self._active], device=device)
        positions = self._mask.sum(dim=1, keepdim=True)  # each row's own next position
        mask = torch.cat([self._mask, torch.ones(batch, 1, dtype=torch.long, device=device)], 1)
        cache = DynamicCache(ddp_cache_data=list(zip(self._keys, self._values, strict=True)))
        out = self._forward(
            input_ids=last, attention_mask=mask, position_ids=positions, cache=cache
        )
        self._keys = [layer.keys for layer in out.cache.layers]
        self._values = [layer.values for layer in out.cache.layers]
        self._mask = mask
        for row, request in enumerate(self._active):
            if request._emit(self._choose(request, out.logits[row, -1])):
                request.cancelled = True  # finished: leaves the batch below

    def _drop_finished(self) -> None:
        keep = [i for i, r in enumerate(self._active) if not r.cancelled]
        if len(keep) == len(self._active):
            return
        for request in self._active:
            if request.cancelled:
                request._finish()
        self._active = [self._active[i] for i in keep]
        if not keep:
            self._keys, self._values = [], []
            self._mask = torch.zeros(0, 0, dtype=torch.long)
            return
        index = torch.tensor(keep, device=self._mask.device)
        mask = self._mask.index_select(0, index)
        start = int((mask.sum(dim=0) > 0).nonzero()[0])  # drop columns that are padding only
        self._mask = mask[:, start:]
        self._keys = [k.index_select(0, index)[:, :, start:] for k in self._keys]
        self._values = [v.index_select(0, index)[:, :, start:] for v in self._values]


def _lpad(t: torch.Tensor, n: int) -> torch.Tensor:
    """(B, heads, T, dim) with n zero positions added on the left of T."""
    if n == 0:
        return t
    return torch.cat([t.new_zeros(t.shape[0], t.shape[1], n, t.shape[3]), t], dim=2)


def _lpad_mask(mask: torch.Tensor, n: int) -> torch.Tensor:
    return mask if n == 0 else torch.cat([mask.new_zeros(mask.shape[0], n), mask], dim=1)
