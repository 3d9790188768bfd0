"""Token log-likelihoods of targets under a model: the core of perplexity and label scoring.

Rows are encoded exactly as training encodes them (studio.scoring.encode.encode: rendered prompt +
target (+ EOS), labels -100 on the prompt), so the loss here is the loss training reports.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

IGNORE = -100


def _pad(rows: list[list[int]], value: int) -> list[list[int]]:
    width = max(len(r) for r in rows)
    return [r + [value] * (width - len(r)) for r in rows]


def _batches(rows: list[dict], batch_size: int) -> Iterator[list[dict]]:
    for i in range(0, len(rows), batch_size):
        yield rows[i : i + batch_size]


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
    model.eval()
    with torch.inference_mode():
        for batch in _batches(rows, batch_size):
            ids = torch.tensor(_pad([r["input_ids"] for r in batch], pad_id), device=device)
            mask = torch.tensor(_pad([r["attention_mask"] for r in batch], 0), device=device)
            labels = torch.tensor(_pad([r["labels"] for r in batch], IGNORE), device=device)
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
