"""Token log-likelihoods of targets under a model: the core of perplexity and label scoring.

Rows are encoded exactly as training encodes them (studio.scoring.encode.encode: rendered prompt +
target (+ EOS), labels -100 on the prompt), so the loss here is the loss training reports.

A causal model that takes a boolean `logits_to_keep` mask (transformers 5) projects onto the
vocabulary only the positions whose next token is labelled: scoring a one-word label needs
2-3 of ~50 positions, and the 49k-wide head and log-softmax over the others were about a
quarter of label scoring's CPU time (bench/bench_scoring.py: 1.33x); the sums are the same
to float precision (tests/unit/evaluate/test_kept_logprobs.py).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from typing import Any

from studio.scoring.encode import IGNORE


def _pad(rows: list[list[int]], value: int) -> list[list[int]]:
    width = max(len(r) for r in rows)
    return [r + [value] * (width - len(r)) for r in rows]


def _batches(rows: list[dict], batch_size: int) -> Iterator[list[dict]]:
    for i in range(0, len(rows), batch_size):
        yield rows[i : i + batch_size]


def causal_lm(model: Any) -> Any:
    """The transformers model itself: the one a PEFT wrapper holds, or the model."""
    get_base = getattr(model, "get_base_model", None)
    return get_base() if callable(get_base) else model


def labelled_positions(labels: Any) -> tuple[Any, Any]:
    """(keep mask over positions, their target ids): position t is kept when label t+1 is set."""
    import torch

    nxt = labels[:, 1:]
    keep = torch.zeros_like(labels, dtype=torch.bool)
    keep[:, :-1] = nxt != IGNORE
    return keep, nxt[nxt != IGNORE]


def keeps_positions(model: Any) -> bool:
    """Whether this causal model (or the model a PEFT wrapper holds) accepts a boolean
    `logits_to_keep` mask over positions and returns the logits of the kept ones only."""
    forward = getattr(causal_lm(model), "forward", None)
    try:
        return forward is not None and "logits_to_keep" in inspect.signature(forward).parameters
    except (TypeError, ValueError):
        return False


def _kept_logprobs(model: Any, ids: Any, mask: Any, labels: Any) -> tuple[Any, Any]:
    """(summed log-probs, counts) per row from the logits of the labelled positions only."""
    import torch

    keep, targets = labelled_positions(labels)
    logits = model(input_ids=ids, attention_mask=mask, logits_to_keep=keep).logits
    logp = torch.log_softmax(logits.reshape(-1, logits.shape[-1]).float(), dim=-1)
    picked = logp.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
    rows = keep.nonzero()[:, 0]  # row-major, as the kept logits are
    sums = torch.zeros(labels.shape[0], dtype=picked.dtype, device=picked.device)
    sums.index_add_(0, rows, picked)
    return sums, keep.sum(dim=-1)


def target_logprobs(
    model: Any,
    rows: list[dict[str, list[int]]],
    pad_id: int,
    model_type: str = "causal",
    batch_size: int = 8,
    on_batch: Callable[[int], None] | None = None,
) -> list[tuple[float, int]]:
    """(sum of log-probs of the labelled tokens, number of labelled tokens) per encoded row.

    Causal rows hold input_ids/labels of equal length (the model predicts token t+1 at t);
    seq2seq rows hold encoder input_ids and decoder labels. `on_batch(n_done)` is called
    after every batch (progress, stop checks).
    """
    import torch

    device = next(model.parameters()).device
    out: list[tuple[float, int]] = []
    kept_only = model_type != "seq2seq" and keeps_positions(model)
    model.eval()
    with torch.inference_mode():
        for batch in _batches(rows, batch_size):
            ids = torch.tensor(_pad([r["input_ids"] for r in batch], pad_id), device=device)
            mask = torch.tensor(_pad([r["attention_mask"] for r in batch], 0), device=device)
            labels = torch.tensor(_pad([r["labels"] for r in batch], IGNORE), device=device)
            if kept_only:
                sums, counts = _kept_logprobs(model, ids, mask, labels)
            else:
                if model_type == "seq2seq":
                    logits = model(input_ids=ids, attention_mask=mask, labels=labels).logits
                    targets = labels
                else:
                    logits = model(input_ids=ids, attention_mask=mask).logits[:, :-1]
                    targets = labels[:, 1:]
                logp = torch.log_softmax(logits.float(), dim=-1)
                keep = targets != IGNORE
                picked = logp.gather(-1, targets.clamp(min=0).unsqueeze(-1)).squeeze(-1)
                sums = (picked * keep).sum(dim=-1)
                counts = keep.sum(dim=-1)
            out.extend(
                (float(s), int(c)) for s, c in zip(sums.tolist(), counts.tolist(), strict=True)
            )
            if on_batch is not None:
                on_batch(len(out))
    return out
