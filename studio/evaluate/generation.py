"""Greedy generation for evaluation: the same rendered prompt training saw, no sampling.

One prompt at a time (no padding), so an output does not depend on what else is in the
batch and matches what the Generate tab gives with the greedy strategy.
"""

from __future__ import annotations

from typing import Any

from studio.prompts import render_prompt
from studio.vocab.examples import Example


def prompt_text(example: Example, tokenizer: Any, meta: dict[str, Any]) -> str:
    """The rendered prompt for an example (empty examples prompt with their raw text)."""
    prompt = render_prompt(example, meta.get("prompt_format", "sections"), tokenizer)
    return prompt or example.input or example.text


def greedy(
    model: Any,
    tokenizer: Any,
    prompt: str,
    max_new_tokens: int = 64,
    model_type: str = "causal",
    max_length: int = 0,
    add_special: bool = True,
) -> str:
    """The model's greedy continuation of `prompt` (prompt not included), stripped."""
    import torch

    # Chat-formatted prompts carry their own special tokens (add_special=False), as in training.
    ids = tokenizer(prompt, add_special_tokens=add_special, return_tensors="pt")["input_ids"]
    if max_length and ids.shape[1] > max_length:
        ids = ids[:, -max_length:]  # keep the answer cue at the end
    device = next(model.parameters()).device
    ids = ids.to(device)
    with torch.inference_mode():
        out = model.generate(
            input_ids=ids,
            attention_mask=torch.ones_like(ids),
            max_new_tokens=int(max_new_tokens),
            do_sample=False,
            num_beams=1,
            pad_token_id=tokenizer.pad_token_id,
            eos_token_id=tokenizer.eos_token_id,
        )
    new = out[0] if model_type == "seq2seq" else out[0, ids.shape[1] :]
    return tokenizer.decode(new, skip_special_tokens=True).strip()
