"""When a model can continue from a key-value cache, and the prompt prefix rows share.

With causal attention the keys and values of a token depend only on the tokens before it,
so a prefix that is token-identical in several rows can run once, batch 1, into a
transformers `DynamicCache`, be repeated to the batch, and the rest of each row can run on
top of it. Training (studio.train.sharedprefix) and scoring (studio.scoring.prompted,
studio.scoring.grouped) both do it, and both ask here whether a model can.

Checked decoders only (CACHED_MODEL_TYPES): they continue from a DynamicCache with a 2D
padding mask and positions from the cache's length or given ones, with full attention in
every layer (sliding-window or linear-attention layers keep other state than every key and
value). Nothing here imports torch or transformers at import time.
"""

from __future__ import annotations

import inspect
from typing import Any

from studio.scoring.logprobs import causal_lm, keeps_positions

MIN_PREFIX = 4  # a floor: a second model call per batch to save a token or two is not worth it
# Decoders checked to continue from a DynamicCache with a 2D mask and default positions.
CACHED_MODEL_TYPES = ("llama", "qwen2", "qwen3")
CACHED_ATTENTION = ("sdpa", "eager")


def attention_kind(model: Any) -> str:
    """The attention kernel of a (possibly PEFT-wrapped) transformers model."""
    config = getattr(model, "config", None)
    return str(getattr(config, "_attn_implementation", None) or "eager")


def cache_keyword(forward: Any) -> str | None:
    """The name this forward takes its cache by: `cache` (transformers 5.24) or the older
    `past_key_values`; None when it takes neither."""
    try:
        params = inspect.signature(forward).parameters
    except (TypeError, ValueError):
        return None
    return next((k for k in ("cache", "past_key_values") if k in params), None)


def checkpointing(model: Any) -> bool:
    """Whether activation checkpointing is on (checkpointed layers drop the cache)."""
    lm = causal_lm(model)
    flag = getattr(lm, "is_activation_checkpointing", None)
    if flag is None:
        flag = getattr(lm, "is_gradient_checkpointing", False)
    return bool(flag)


def continues_from_cache(model: Any) -> bool:
    """Whether this causal model (or the one a PEFT wrapper holds) can run a prefix into a
    DynamicCache and the rest of its rows on top of it, keeping only chosen logits."""
    if not keeps_positions(model) or attention_kind(model) not in CACHED_ATTENTION:
        return False
    lm = causal_lm(model)
    config = getattr(lm, "config", None)
    if getattr(config, "model_type", None) not in CACHED_MODEL_TYPES or checkpointing(lm):
        return False
    if cache_keyword(lm.forward) is None:
        return False
    from transformers import DynamicCache
    from transformers.cache_utils import DynamicLayer

    return all(type(layer) is DynamicLayer for layer in DynamicCache(config=config).layers)


def common_prefix(rows: list[list[int]]) -> int:
    """The number of tokens at the start of every row that are the same in all of them."""
    if not rows:
        return 0
    first, n = rows[0], min(len(r) for r in rows)
    for i in range(n):
        token = first[i]
        if any(r[i] != token for r in rows):
            return i
    return n


def run_prefix(model: Any, ids: list[int], batch: int, device: Any) -> Any:
    """A DynamicCache holding `ids` run once (no logits kept), repeated to `batch` rows;
    None when the model kept no cache after all (then the caller computes every row)."""
    import torch
    from transformers import DynamicCache

    lm = causal_lm(model)
    cache = DynamicCache(config=lm.config)
    prefix = torch.tensor([ids], device=device)
    no_head = torch.zeros(prefix.shape, dtype=torch.bool, device=device)
    model(input_ids=prefix, logits_to_keep=no_head, **with_cache(model, cache))
    if cache.get_seq_length() != len(ids):
        return None
    cache.batch_repeat_interleave(batch)
    return cache


def with_cache(model: Any, cache: Any) -> dict[str, Any]:
    """The keyword arguments that make this model read and extend `cache`."""
    return {cache_keyword(causal_lm(model).forward): cache, "use_cache": True}
