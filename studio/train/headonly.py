"""The language-model head and the loss only at the positions that have a label.

With loss on the response only, a short answer (FPB: one word + EOS) labels 2-3 of ~60
positions; projecting every position onto a 49k vocabulary is wasted compute on both the
forward and the backward pass. transformers 5 causal models take `logits_to_keep` as a boolean
(batch, seq) mask and return logits for the True positions only, flattened; position t predicts
token t+1, so the mask is "the next token has a label". The loss is the same token-summed cross
entropy the model's own loss computes (divided by `num_items_in_batch` when the Trainer gives
it, else averaged), so the two agree to float precision: tests/unit/train/test_headonly.py.
"""

from __future__ import annotations

from typing import Any

from studio.scoring.logprobs import keeps_positions, labelled_positions


def supports_head_only(model: Any, model_type: str) -> bool:
    """Whether this causal model accepts a boolean `logits_to_keep` mask (transformers 5)."""
    return model_type == "causal" and keeps_positions(model)


def head_only_loss(model: Any, inputs: dict[str, Any], num_items_in_batch: Any = None) -> Any:
    """Summed token cross entropy over the labelled positions / num_items_in_batch (or mean)."""
    labels = inputs["labels"]
    keep, targets = labelled_positions(labels)
    kwargs = {k: v for k, v in inputs.items() if k != "labels"}
    logits = model(**kwargs, logits_to_keep=keep, use_cache=False).logits
    return token_loss(logits, targets, num_items_in_batch)


def token_loss(logits: Any, targets: Any, num_items_in_batch: Any = None) -> Any:
    """Summed cross entropy of the kept logits against their targets, over num_items_in_batch
    (the Trainer's count of labelled tokens) when given, else over the targets."""
    import torch.nn.functional as F

    logits = logits.reshape(-1, logits.shape[-1]).float()  # (n_labelled, vocab)
    loss = F.cross_entropy(logits, targets, reduction="sum")
    if num_items_in_batch is None:
        return loss / max(int(targets.numel()), 1)
    if hasattr(num_items_in_batch, "to"):
        num_items_in_batch = num_items_in_batch.to(loss.device)
    return loss / num_items_in_batch
