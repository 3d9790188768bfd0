"""Perplexity-style scoring batched as well as it goes: rows of like length together, and the
prompt prefix a batch's rows share run once.

The rows are those of studio.scoring.logprobs.target_logprobs (encoded as training encodes
them). They are scored shortest first, so a batch pads little, and, when the model continues
from a key-value cache (studio.scoring.kvcache), the tokens every row of a batch starts with
and that predict no label (the instruction of classification data, a chat system prompt)
run once into a cache that the rest of each row continues from. Only the labelled positions
are projected onto the vocabulary. The sums are those of target_logprobs to float precision
(tests/unit/evaluate/test_prompted.py), returned in the rows' own order.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from studio.scoring.encode import IGNORE
from studio.scoring.kvcache import MIN_PREFIX, common_prefix, continues_from_cache, run_prefix
from studio.scoring.kvcache import with_cache as cache_kwargs
from studio.scoring.logprobs import labelled_positions, target_logprobs


def grouped_target_logprobs(
    model: Any,
    rows: list[dict[str, list[int]]],
    pad_id: int,
    model_type: str = "causal",
    batch_size: int = 8,
    on_batch: Callable[[int], None] | None = None,
) -> list[tuple[float, int]]:
    """(sum of log-probs of the labelled tokens, their number) per row, as target_logprobs
    gives them, computed shortest row first with each batch's shared prefix run once."""
    order = sorted(range(len(rows)), key=lambda i: len(rows[i]["input_ids"]))
    ordered = [rows[i] for i in order]
    if model_type == "causal" and continues_from_cache(model):
        scores = _with_prefixes(model, ordered, pad_id, batch_size, on_batch)
    else:
        scores = target_logprobs(model, ordered, pad_id, model_type, batch_size, on_batch)
    out: list[tuple[float, int]] = [(0.0, 0)] * len(rows)
    for i, score in zip(order, scores, strict=True):
        out[i] = score
    return out


def shared_unlabelled_prefix(batch: list[dict[str, list[int]]]) -> int:
    """The tokens every row starts with, before any position that predicts a label, leaving
    each row a token after them; 0 when that is under MIN_PREFIX or the batch has one row."""
    if len(batch) < 2:
        return 0
    common = common_prefix([r["input_ids"] for r in batch])
    # Position t predicts label t + 1: the prefix ends before the first labelled token - 1.
    first = min(
        next((t - 1 for t, x in enumerate(r["labels"]) if x != IGNORE), len(r["labels"]))
        for r in batch
    )
    p = min(common, first, min(len(r["input_ids"]) for r in batch) - 1)
    return p if p >= MIN_PREFIX else 0


def _with_prefixes(
    model: Any,
    rows: list[dict[str, list[int]]],
    pad_id: int,
    batch_size: int,
    on_batch: Callable[[int], None] | None,
) -> list[tuple[float, int]]:
    import torch

    device = next(model.parameters()).device
    out: list[tuple[float, int]] = []
    model.eval()
    with torch.inference_mode():
        for start in range(0, len(rows), max(1, batch_size)):
            batch = rows[start : start + max(1, batch_size)]
            out.extend(_score_batch(model, batch, pad_id, device))
            if on_batch is not None:
                on_batch(len(out))
    return out


def _score_batch(model: Any, batch: list[dict], pad_id: int, device: Any) -> list[tuple]:
    import torch

    shared = shared_unlabelled_prefix(batch)
    cache = (
        run_prefix(model, batch[0]["input_ids"][:shared], len(batch), device) if shared else None
    )
    if cache is None:
        shared = 0
    width = max(len(r["input_ids"]) for r in batch)

    def padded(key: str, value: int) -> Any:
        return torch.tensor(
            [r[key] + [value] * (width - len(r[key])) for r in batch], device=device
        )

    ids, mask, labels = (
        padded("input_ids", pad_id),
        padded("attention_mask", 0),
        padded("labels", IGNORE),
    )
    keep, targets = labelled_positions(labels)
    extra = cache_kwargs(model, cache) if cache is not None else {}
    logits = model(
        input_ids=ids[:, shared:],
        attention_mask=mask,
        logits_to_keep=keep[:, shared:],
        **extra,
    ).logits
    logp = torch.log_softmax(logits.reshape(-1, logits.shape[-1]).float(), dim=-1)
    picked = logp.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
    sums = torch.zeros(len(batch), dtype=picked.dtype, device=device)
    sums.index_add_(0, keep[:, shared:].nonzero()[:, 0], picked)
    counts = keep.sum(dim=-1)
    return [(float(s), int(c)) for s, c in zip(sums.tolist(), counts.tolist(), strict=True)]
