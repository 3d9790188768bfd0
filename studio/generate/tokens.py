"""Token arithmetic: a model's context length and how many tokens a sequence generated."""

from __future__ import annotations


def count_tokens(row, tokenizer) -> tuple[int, bool]:
    """(generated tokens up to and including EOS, whether EOS ended the sequence)."""
    ids = [int(t) for t in row]
    eos = tokenizer.eos_token_id
    if eos is not None and eos in ids:
        return ids.index(eos) + 1, True
    n = len(ids)
    while n and ids[n - 1] == tokenizer.pad_token_id:  # rows that ended early are padded
        n -= 1
    return n, False


def context_length(model, tokenizer) -> int:
    """How many tokens the model reads: its position limit, else the tokenizer's."""
    config = model.config
    for name in ("max_position_embeddings", "n_positions", "max_sequence_length"):
        value = getattr(config, name, None)
        if isinstance(value, int) and value > 0:
            return value
    limit = getattr(tokenizer, "model_max_length", 0) or 0
    return limit if 0 < limit < 1_000_000 else 2048
