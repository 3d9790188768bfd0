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

# A sampling strategy's kwargs builder names transformers' warper parameters; these are the
# ones the seeded sampler applies, in model.generate's order.
SAMPLING_KEYS = (
    "temperature",
    "top_k",
    "top_p",
    "typical_p",
    "min_p",
    "epsilon_cutoff",
    "eta_cutoff",
)
_OFF = {"temperature": 1.0, "top_p": 1.0, "typical_p": 1.0}


def seeded_sampler(params: dict[str, Any], seed: int | None, device: Any = "cpu"):
    """A LogitsProcessor that samples with the given warpers and a private generator."""
    import torch
    from transformers.generation import logits_process as lp

    makers = {
        "temperature": lambda v: lp.TemperatureLogitsWarper(float(v)),
        "top_k": lambda v: lp.TopKLogitsWarper(int(v)),
        "top_p": lambda v: lp.TopPLogitsWarper(float(v)),
        "typical_p": lambda v: lp.TypicalLogitsWarper(float(v)),
        "min_p": lambda v: lp.MinPLogitsWarper(float(v)),
        "epsilon_cutoff": lambda v: lp.EpsilonLogitsWarper(float(v)),
        "eta_cutoff": lambda v: lp.EtaLogitsWarper(float(v), device=device),
    }
    warpers = [
        makers[k](params[k]) for k in SAMPLING_KEYS if params.get(k) not in (None, 0, _OFF.get(k))
    ]
    generator = torch.Generator(device=device)
    generator.manual_seed(int(seed) if seed is not None else secrets.randbits(63))

    class SeededSampler(lp.LogitsProcessor):
        def __call__(self, input_ids, scores):
            for warp in warpers:
                scores = warp(input_ids, scores)
            probs = torch.softmax(scores.float(), dim=-1)
            drawn = torch.multinomial(probs, num_samples=1, generator=generator)  # (batch, 1)
            out = torch.full_like(scores, float("-inf"))
            return out.scatter(1, drawn, 0.0)

    return SeededSampler()
