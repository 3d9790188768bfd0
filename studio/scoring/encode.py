"""Examples -> token ids and labels, through the one prompt renderer generation also uses.

Causal: input = prompt + target + EOS; with response-only loss the prompt positions get label
-100 so the model learns the answer, not the question. Seq2seq: encoder input = prompt,
labels = target + EOS. Plain-text examples (empty prompt) learn every token.
Too-long examples keep the whole target when they can and cut the middle of the prompt, so
both the instruction (start) and the answer cue (end, e.g. "### Assistant:") survive.
Training builds its rows here and evaluation scores the same rows, so the loss evaluation
reports is the loss training reports.
"""

from __future__ import annotations

from typing import Any

from studio.configs.table import run_defaults
from studio.prompts import render
from studio.vocab.examples import Example

IGNORE = -100
TOKENIZER_DEFAULTS = run_defaults("tokenizer")
PROMPT_TAIL = 16  # prompt tokens always kept from the end (the answer cue)


def _cut_middle(ids: list[int], budget: int) -> list[int]:
    """At most `budget` ids: the start and the last PROMPT_TAIL ids of `ids`."""
    if len(ids) <= budget:
        return ids
    if budget <= 0:
        return []
    tail = min(PROMPT_TAIL, budget // 4)
    return ids[: budget - tail] + (ids[len(ids) - tail :] if tail else [])


def _ids(tokenizer: Any, text: str, special: bool) -> list[int]:
    if not text:
        return []
    return list(tokenizer(text, add_special_tokens=special)["input_ids"])


def encode(
    example: Example,
    tokenizer: Any,
    tok_cfg: dict[str, Any],
    model_type: str = "causal",
    response_only: bool = True,
) -> dict[str, list[int]]:
    """input_ids / attention_mask / labels for one example, at most max_length tokens; a key
    `tok_cfg` (a run's tokenizer dict, or a model's studio.json) lacks has the settings
    table's default."""
    tok_cfg = {**TOKENIZER_DEFAULTS, **tok_cfg}
    fmt = tok_cfg["prompt_format"]
    max_length = int(tok_cfg["max_length"])
    prompt, target = render(example, fmt, tokenizer)
    # Chat-formatted prompts carry their own special tokens (as generation does).
    prompt_ids = _ids(tokenizer, prompt, special=fmt != "chat")
    target_ids = _ids(tokenizer, target, special=not prompt and fmt != "chat")
    if tok_cfg["add_eos"] and tokenizer.eos_token_id is not None:
        target_ids = target_ids + [tokenizer.eos_token_id]
    if model_type == "seq2seq":
        source = _cut_middle(prompt_ids, max_length) or [tokenizer.eos_token_id]
        labels = target_ids[:max_length]
        return {"input_ids": source, "attention_mask": [1] * len(source), "labels": labels}
    # Keep the target whole if the prompt can shrink to make room (down to a quarter).
    keep_prompt = min(len(prompt_ids), max(max_length - len(target_ids), max_length // 4))
    prompt_ids = _cut_middle(prompt_ids, keep_prompt)
    target_ids = target_ids[: max_length - len(prompt_ids)]
    ids = prompt_ids + target_ids
    if response_only and prompt_ids:
        labels = [IGNORE] * len(prompt_ids) + target_ids
    else:
        labels = list(ids)
    return {"input_ids": ids, "attention_mask": [1] * len(ids), "labels": labels}
