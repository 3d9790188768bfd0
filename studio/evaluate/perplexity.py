"""Cross-entropy and perplexity of a model on examples, scored on the answer tokens.

perplexity = exp(mean token cross-entropy), mean over every scored token of every example
(not a mean of per-example means), so it matches the eval loss training reports. Compare a
tuned model with its base by scoring the same examples inside `ModelPair.base()`
(studio.evaluate.pair), which turns the adapter off.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from studio.scoring.encode import encode
from studio.scoring.grouped import grouped_target_logprobs
from studio.vocab.examples import Example


def encode_examples(
    examples: list[Example], tokenizer: Any, meta: dict[str, Any], response_only: bool = True
) -> list[dict[str, list[int]]]:
    """Token rows as training builds them (prompt + target + EOS, prompt labels ignored)."""
    tok_cfg = {
        "prompt_format": meta.get("prompt_format", "sections"),
        "max_length": int(meta.get("max_length") or 256),
        "add_eos": True,
    }
    model_type = meta.get("model_type", "causal")
    rows = [encode(ex, tokenizer, tok_cfg, model_type, response_only) for ex in examples]
    return [r for r in rows if any(x != -100 for x in r["labels"])]


def summarise(scores: list[tuple[float, int]]) -> dict[str, float | int]:
    """{"cross_entropy", "perplexity", "n_tokens", "n_examples"} from (sum log-prob, n) pairs."""
    n_tokens = sum(n for _, n in scores)
    if n_tokens == 0:
        return {
            "cross_entropy": float("nan"),
            "perplexity": float("nan"),
            "n_tokens": 0,
            "n_examples": len(scores),
        }
    ce = -sum(s for s, _ in scores) / n_tokens
    try:
        ppl = math.exp(ce)
    except OverflowError:
        ppl = float("inf")
    return {"cross_entropy": ce, "perplexity": ppl, "n_tokens": n_tokens, "n_examples": len(scores)}


def perplexity(
    model: Any,
    tokenizer: Any,
    examples: list[Example],
    meta: dict[str, Any],
    batch_size: int = 8,
    on_batch: Callable[[int], None] | None = None,
    response_only: bool = True,
) -> dict[str, float | int]:
    """Mean token cross-entropy and perplexity of `model` on the examples' targets."""
    rows = encode_examples(examples, tokenizer, meta, response_only)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    # Rows of like length together, each batch's shared prompt prefix run once.
    scores = grouped_target_logprobs(
        model, rows, pad, meta.get("model_type", "causal"), batch_size, on_batch
    )
    return summarise(scores)
