"""Seeded sampling that does not depend on torch's global random state.

transformers samples with `torch.multinomial` on the global generator, so a seed set with
torch.manual_seed is only repeatable if no other thread samples at the same time (two
streams in Compare, two users, the HTTP API). Instead the studio runs generate() in greedy
mode and appends one logits processor that applies the sampling warpers (temperature,
top-k, top-p, typical-p, min-p), draws the token with its own torch.Generator, and returns
scores where only the drawn token is finite; the greedy argmax then picks exactly it.
Several return sequences are the prompt repeated in the batch; each row draws on its own.
"""

from __future__ import annotations

import secrets
from typing import Any

SAMPLING_KEYS = ("temperature", "top_k", "top_p", "typical_p", "min_p")


def seeded_sampler(params: dict[str, Any], seed: int | None, device: Any = "cpu"):
    """A LogitsProcessor that samples with the given warpers and a private generator."""
    import torch
    from transformers.generation.logits_process import (
        LogitsProcessor,
        MinPLogitsWarper,
        TemperatureLogitsWarper,
        TopKLogitsWarper,
        TopPLogitsWarper,
        TypicalLogitsWarper,
    )

    warpers = []
    if params.get("temperature") not in (None, 1.0):
        warpers.append(TemperatureLogitsWarper(float(params["temperature"])))
    if params.get("top_k"):
        warpers.append(TopKLogitsWarper(int(params["top_k"])))
    if params.get("top_p") not in (None, 1.0):
        warpers.append(TopPLogitsWarper(float(params["top_p"])))
    if params.get("typical_p") not in (None, 1.0):
        warpers.append(TypicalLogitsWarper(float(params["typical_p"])))
    if params.get("min_p"):
        warpers.append(MinPLogitsWarper(float(params["min_p"])))
    generator = torch.Generator(device=device)
    generator.manual_seed(int(seed) if seed is not None else secrets.randbits(63))

    class SeededSampler(LogitsProcessor):
        def __call__(self, input_ids, scores):
            for warp in warpers:
                scores = warp(input_ids, scores)
            probs = torch.softmax(scores.float(), dim=-1)
            drawn = torch.multinomial(probs, num_samples=1, generator=generator)  # (batch, 1)
            out = torch.full_like(scores, float("-inf"))
            return out.scatter(1, drawn, 0.0)

    return SeededSampler()
