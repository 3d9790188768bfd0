"""The prompt prefix that every row of a batch shares, computed once per batch.

Classification data made through the Inputs tab starts every example with the same
instruction (`### Instruction: Read the sentence and answer with its label: ... ### Human:`),
and chat prompts share a system prompt. With causal attention, the hidden states, keys and
values of a prefix that is token-identical in every row are identical in every row. So the
head-only loss (studio.train.headonly) can run the prefix once, with batch 1 and no LM head,
through the model into a transformers `DynamicCache`, repeat that cache to the batch, and
run only the rest of each row through the model on top of it (the full 2D padding mask;
positions continue from the cache's length, as they run from 0 in the unshared batch). Both
calls go through the model's own forward, so a Trainer's bf16 autocast covers the prefix too.
The cache grows by `torch.cat` and is repeated by `repeat_interleave`, both out of place, so
every row's gradient flows back into the one prefix pass and reaches the LoRA weights. Loss
and gradients equal the unshared head-only computation to float precision
(tests/unit/train/test_prefix_share.py).

Shared only where that is exact and pays: batches of 2+ rows, a common prefix of at least
MIN_PREFIX tokens, every prefix position unpadded and unlabelled (position t predicts label
t+1, and the prefix gets no LM head), every row keeping a real token after it, no packing (a
4D mask or position ids), no activation checkpointing (checkpointed layers drop the cache;
checked again at each call, since the Trainer turns it on after the run is set up), no NEFTune
(its noise is scaled by each call's length), one device per process, no torch.compile, a
model family whose decoder was checked (studio.scoring.kvcache) with full attention in every
layer. Otherwise: the head-only loss as is.

LoRA dropout: the prefix pass draws one dropout mask for all rows instead of one per row.
That changes the noise, not the expected gradient; the trainer option `share_prefix: false`
gives today's computation bit for bit.
"""

from __future__ import annotations

from typing import Any

from studio.scoring.kvcache import (
    MIN_PREFIX,
    checkpointing,
    continues_from_cache,
    run_prefix,
    with_cache,
)
from studio.scoring.logprobs import labelled_positions
from studio.train.headonly import head_only_loss, supports_head_only, token_loss

PLAIN_KEYS = {"input_ids", "attention_mask", "labels"}


def supports_prefix_share(model: Any, model_type: str) -> bool:
    """Whether this model's head-only loss can run a shared prefix once per batch
    (studio.scoring.kvcache.continues_from_cache)."""
    return supports_head_only(model, model_type) and continues_from_cache(model)


def shared_prefix_length(inputs: dict[str, Any], min_prefix: int = MIN_PREFIX) -> int:
    """P, the tokens at the start of every row that one pass can compute for the batch, or 0.

    The longest prefix whose tokens are equal and unpadded in every row, capped so that no
    position before P is labelled (position t is kept when label t+1 is set) and every row
    keeps a real token after it; 0 when that is under min_prefix or the batch has one row.
    """
    import torch

    if set(inputs) - PLAIN_KEYS or "labels" not in inputs:
        return 0
    ids, labels = inputs["input_ids"], inputs["labels"]
    mask = inputs.get("attention_mask")
    if mask is None:
        mask = torch.ones_like(ids)
    if ids.dim() != 2 or mask.shape != ids.shape or ids.shape[0] < 2:
        return 0
    same = (ids == ids[:1]).all(0) & (mask != 0).all(0)
    common = int(same.long().cumprod(0).sum())
    kept, _ = labelled_positions(labels)
    width = ids.shape[1]
    first_kept = torch.where(kept.any(1), kept.long().argmax(1), width)
    shortest = int((mask != 0).sum(1).min())
    p = min(common, int(first_kept.min()), shortest - 1)
    return p if p >= min_prefix else 0


def shared_prefix_loss(
    model: Any, inputs: dict[str, Any], prefix: int, num_items_in_batch: Any = None
) -> Any:
    """The head-only loss with the first `prefix` tokens (shared_prefix_length) computed once."""
    import torch

    ids, labels = inputs["input_ids"], inputs["labels"]
    mask = inputs.get("attention_mask")
    if mask is None:
        mask = torch.ones_like(ids)
    keep, targets = labelled_positions(labels)
    if bool(keep[:, :prefix].any()):  # the prefix gets no LM head: it must predict no label
        raise ValueError(f"a label is predicted within the first {prefix} positions")
    if checkpointing(model):  # checkpointed layers would drop the cache: compute every row
        return head_only_loss(model, inputs, num_items_in_batch)
    # Through the model's own forward (a Trainer's autocast wraps it), keeping no logits;
    # unpadded, so the causal kernel needs no mask.
    cache = run_prefix(model, ids[0, :prefix].tolist(), ids.shape[0], ids.device)
    if cache is None:  # the model kept no cache after all: no sharing
        return head_only_loss(model, inputs, num_items_in_batch)
    logits = model(
        input_ids=ids[:, prefix:],
        attention_mask=mask,
        logits_to_keep=keep[:, prefix:],
        **with_cache(model, cache),
    ).logits
    return token_loss(logits, targets, num_items_in_batch)
