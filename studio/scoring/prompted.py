"""Label scoring with each prompt run once: P(label | prompt) for every label of a small set.

Scoring K labels the plain way (studio.scoring.logprobs.target_logprobs) runs K full rows per
example, each repeating the prompt. Here a batch of examples runs:

1. the prompt prefix every example of the batch shares (the instruction) once, batch 1, into
   a key-value cache (studio.scoring.kvcache), repeated to the batch;
2. the rest of each prompt on top of it, right-padded, keeping the logits of each prompt's
   last position only: they give every label's first token at once;
3. only when some label has more than one token: the cache repeated K times and each label's
   tokens but its last on top of it, at the positions that follow each prompt.

Examples are taken shortest prompt first, so a batch pads little. The sums equal the plain
path's to float precision (tests/unit/evaluate/test_prompted.py); bench/bench_scoring.py
measures both side by side. Every position is unmasked in step 2 from the first, so no
attention row is empty; pads sit after each row's last real token and are masked for every
later token.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from studio.scoring.kvcache import MIN_PREFIX, common_prefix, run_prefix, with_cache
from studio.scoring.logprobs import causal_lm


def prompt_label_logprobs(
    model: Any,
    prompts: list[list[int]],
    targets: list[list[list[int]]],
    pad_id: int,
    batch_size: int = 16,
    on_batch: Callable[[int], None] | None = None,
) -> list[list[float]]:
    """Per prompt i, the summed log-probability of each of its targets (token ids, at least
    one each) after it. `on_batch(n_done)` gets the number of prompts scored so far.
    The model must continue from a cache (studio.scoring.kvcache.continues_from_cache)."""
    import torch

    order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]))
    out: list[list[float]] = [[] for _ in prompts]
    device = next(model.parameters()).device
    model.eval()
    with torch.inference_mode():
        for start in range(0, len(order), max(1, batch_size)):
            idx = order[start : start + max(1, batch_size)]
            sums = _score_batch(
                model, [prompts[i] for i in idx], [targets[i] for i in idx], pad_id, device
            )
            for i, row in zip(idx, sums, strict=True):
                out[i] = row
            if on_batch is not None:
                on_batch(start + len(idx))
    return out


def _pad(rows: list[list[int]], value: int, width: int) -> list[list[int]]:
    return [r + [value] * (width - len(r)) for r in rows]


def _score_batch(
    model: Any, prompts: list[list[int]], targets: list[list[list[int]]], pad_id: int, device: Any
) -> list[list[float]]:
    import torch

    n = len(prompts)
    # The shared prefix, leaving every prompt a token after it (its last position's logits).
    shared = min(common_prefix(prompts), min(len(p) for p in prompts) - 1)
    cache = None
    if n > 1 and shared >= MIN_PREFIX:
        cache = run_prefix(model, prompts[0][:shared], n, device)
    if cache is None:
        from transformers import DynamicCache

        shared, cache = 0, DynamicCache(config=causal_lm(model).config)
    rest = [p[shared:] for p in prompts]
    width = max(len(r) for r in rest)
    ids = torch.tensor(_pad(rest, pad_id, width), device=device)
    mask = torch.tensor(
        [[1] * (shared + len(r)) + [0] * (width - len(r)) for r in rest], device=device
    )
    last = torch.zeros((n, width), dtype=torch.bool, device=device)
    last[torch.arange(n), torch.tensor([len(r) - 1 for r in rest])] = True
    logits = model(
        input_ids=ids, attention_mask=mask, logits_to_keep=last, **with_cache(model, cache)
    ).logits
    first = torch.log_softmax(logits.reshape(n, -1).float(), dim=-1)
    heads = torch.tensor([[t[0] for t in row] for row in targets], device=device)
    sums = first.gather(1, heads)  # (n, k): every label's first token
    longest = max(len(t) for row in targets for t in row)
    if longest > 1:
        sums = sums + _label_tails(model, cache, mask, prompts, targets, longest - 1, device)
    return sums.tolist()


def _label_tails(
    model: Any,
    cache: Any,
    mask: Any,
    prompts: list[list[int]],
    targets: list[list[list[int]]],
    width: int,
    device: Any,
) -> Any:
    """(n, k): the summed log-probabilities of each label's tokens after its first."""
    import torch

    n, k = len(prompts), len(targets[0])
    cache.batch_repeat_interleave(k)
    flat = [t for row in targets for t in row]  # row i*k + j: example i, label j
    inputs = torch.tensor(_pad([t[:-1] for t in flat], 0, width), device=device)
    real = torch.tensor([[1] * (len(t) - 1) + [0] * (width - len(t) + 1) for t in flat])
    start = torch.tensor([len(p) for p in prompts]).repeat_interleave(k)
    positions = (start.unsqueeze(1) + torch.arange(width)).to(device)
    attend = torch.cat([mask.repeat_interleave(k, dim=0), real.to(device)], dim=1)
    logits = model(
        input_ids=inputs, attention_mask=attend, position_ids=positions, **with_cache(model, cache)
    ).logits
    logp = torch.log_softmax(logits.float(), dim=-1)
    nxt = torch.tensor(_pad([t[1:] for t in flat], 0, width), device=device)
    picked = logp.gather(-1, nxt.unsqueeze(-1)).squeeze(-1) * real.to(device)
    return picked.sum(dim=1).reshape(n, k)
