"""The training data: a run's train / valid splits read back (strictly: a bad line names
itself), and encoded as token rows.

Each example is encoded by studio.scoring.encode.encode (the rows evaluation scores too).
"""

from __future__ import annotations

from typing import Any

from studio.configs.runs import RunData
from studio.data.example_files import read_examples
from studio.data.split import split_examples
from studio.data.stats import basic_stats, example_labels
from studio.errors import DataError
from studio.scoring.encode import IGNORE, encode
from studio.vocab.examples import Example

__all__ = ["IGNORE", "TokenizedDataset", "encode", "load_splits", "tokenize_all"]


def load_splits(data: RunData, valid_pct: float, seed: int) -> tuple[list[Example], list[Example]]:
    """(train, valid) examples; when data.resplit is set (the model asked for another
    validation share than its dataset version has), split again with `valid_pct` and `seed`
    the way a version is split: seeded, and stratified by label for classification data."""
    train, valid = read_examples(data.train), read_examples(data.valid or "")
    if data.resplit:
        rows = train + valid
        labels = basic_stats(rows)["labels"]
        train, valid = split_examples(
            rows, float(valid_pct), int(seed), example_labels(rows, labels) if labels else None
        )
    if not train:
        raise DataError(
            "The training split has no examples; add data in the Inputs tab or lower the "
            "validation share."
        )
    return train, valid


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


def tokenize_all(
    examples: list[Example],
    tokenizer: Any,
    tokenizer_cfg: dict[str, Any],
    model_type: str,
    response_only: bool,
) -> TokenizedDataset:
    """Encode every example with the run's tokenizer dict; drops rows with nothing to learn
    (every label ignored)."""
    rows = [encode(ex, tokenizer, tokenizer_cfg, model_type, response_only) for ex in examples]
    return TokenizedDataset([r for r in rows if any(t != IGNORE for t in r["labels"])])
