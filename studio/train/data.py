"""Examples -> token ids and labels, through the one prompt renderer generation also uses.

Causal: input = prompt + target + EOS; with response-only loss the prompt positions get label
-100 so the model learns the answer, not the question. Seq2seq: encoder input = prompt,
labels = target + EOS. Plain-text examples (empty prompt) learn every token.
Too-long examples keep the whole target when they can and cut the middle of the prompt, so
both the instruction (start) and the answer cue (end, e.g. "### Assistant:") survive.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from studio.errors import DataError
from studio.prompts import render
from studio.vocab.examples import Example

IGNORE = -100
PROMPT_TAIL = 16  # prompt tokens always kept from the end (the answer cue)


def read_jsonl(path: str | Path) -> list[Example]:
    """Examples from a train.jsonl / valid.jsonl file (one Example.to_dict() per line)."""
    path = Path(path)
    if not path.is_file():
        return []
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            out.append(Example.from_dict(json.loads(line)))
        except (json.JSONDecodeError, TypeError) as exc:
            raise DataError(f"{path.name} line {n} is not a valid example ({exc}).") from exc
    return out


def load_splits(data: dict[str, Any]) -> tuple[list[Example], list[Example]]:
    """(train, valid) examples; re-split with data.valid_pct/seed when data.resplit is set
    (the model asked for another validation share than its dataset version has), the same
    way a version is split: seeded, and stratified by label for classification data."""
    train, valid = read_jsonl(data["train"]), read_jsonl(data.get("valid") or "")
    if data.get("resplit"):
        from studio.data.split import split_examples
        from studio.data.stats import basic_stats, example_labels

        rows = train + valid
        labels = basic_stats(rows)["labels"]
        train, valid = split_examples(rows, float(data.get("valid_pct", 10.0)),
                                      int(data.get("seed", 42)),
                                      example_labels(rows, labels) if labels else None)  # fmt: skip
    if not train:
        raise DataError(
            "The training split has no examples; add data in the Inputs tab or lower the "
            "validation share."
        )
    return train, valid


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


def encode(example: Example, tokenizer: Any, tok_cfg: dict[str, Any], model_type: str = "causal",
           response_only: bool = True) -> dict[str, list[int]]:  # fmt: skip
    """input_ids / attention_mask / labels for one example, at most max_length tokens."""
    fmt = tok_cfg.get("prompt_format", "sections")
    max_length = int(tok_cfg.get("max_length", 256))
    prompt, target = render(example, fmt, tokenizer)
    # Chat-formatted prompts carry their own special tokens (as generation does).
    prompt_ids = _ids(tokenizer, prompt, special=fmt != "chat")
    target_ids = _ids(tokenizer, target, special=not prompt and fmt != "chat")
    if tok_cfg.get("add_eos", True) and tokenizer.eos_token_id is not None:
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


class TokenizedDataset:
    """A list of encoded examples (a map-style dataset the Trainer can sample from)."""

    def __init__(self, rows: list[dict[str, list[int]]]):
        self.rows = rows
        # Seq2seq pads encoder and decoder separately: group by the longer of the two.
        self.lengths = [max(len(r["input_ids"]), len(r["labels"])) for r in rows]

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> dict[str, list[int]]:
        return self.rows[i]


def tokenize_all(examples: list[Example], tokenizer: Any, cfg: dict[str, Any]) -> TokenizedDataset:
    """Encode every example; drops rows with nothing to learn (every label ignored)."""
    rows = [
        encode(ex, tokenizer, cfg["tokenizer"], cfg["model_type"], cfg["data"]["response_only"])
        for ex in examples
    ]
    return TokenizedDataset([r for r in rows if any(t != IGNORE for t in r["labels"])])
