"""The Financial PhraseBank file the benches use, and what the Inputs tab makes of it.

FPB is the train file in the checkout's sibling `shared/datasets/` folder (from a worktree
one level deeper, the one above it). `proposed_mapping(path)` is the mapping the Inputs tab
detects for such a CSV, with the instruction it proposes ("Read the sentence and answer with
its label: one of negative, neutral, positive.").
"""

from __future__ import annotations

import csv
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_NAME = Path("shared") / "datasets" / "financial_phrasebank_75agree_train.csv"
FPB = next(
    (d / _NAME for d in (ROOT.parent, ROOT.parent.parent) if (d / _NAME).is_file()),
    ROOT.parent / _NAME,
)


def fpb_table() -> list[dict[str, str]]:
    """Every FPB row: {"sentence", "label"}."""
    with FPB.open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def proposed_mapping(path: Path = FPB):
    """The detected mapping of a sentence + label CSV with the Inputs tab's instruction."""
    from studio.data.instruction import propose_instruction
    from studio.data.readers import read_delimited
    from studio.data.shapes import detect_mapping

    table = read_delimited(path.read_text(encoding="utf-8"), path.name)
    guess = detect_mapping(table)
    return replace(guess, instruction_text=propose_instruction(table, guess))
