"""The sentiment examples the tests train, score and export with, and the jsonl writer.

news_sentiment()          # six short financial news lines, three labels
word_sentiment(48)        # n generated rows the tiny model learns in a few steps
"""

from __future__ import annotations

import random
from pathlib import Path

from studio.data.example_files import write_examples
from studio.vocab.examples import Example

LABELS = ("negative", "neutral", "positive")
NEWS = [
    ("The company reported record profits this quarter.", "positive"),
    ("Sales fell sharply and the outlook was cut.", "negative"),
    ("The board meets on Tuesday.", "neutral"),
    ("Shares jumped after strong results.", "positive"),
    ("The firm announced layoffs and losses.", "negative"),
    ("The report was published in March.", "neutral"),
]
# As the studio's sample data writes them: trailing period, mixed case.
WRITTEN = {"negative": "negative.", "neutral": "neutral.", "positive": "Positive."}
WORDS = {
    "good": "positive",
    "great": "positive",
    "fine": "positive",
    "bad": "negative",
    "awful": "negative",
    "poor": "negative",
}


def news_sentiment(written: bool = False) -> list[Example]:
    """The six news examples; `written` gives answers as real data has them ("Positive.")."""
    return [
        Example(
            instruction="What is the sentiment of this news?",
            input=text,
            output=WRITTEN[label] if written else label,
        )
        for text, label in NEWS
    ]


def word_sentiment(n: int, seed: int = 0) -> list[Example]:
    """n examples of varied length (1-30 filler words) with a one-word answer."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        word = rng.choice(sorted(WORDS))
        filler = " ".join(rng.choice(sorted(WORDS)) for _ in range(rng.randint(1, 30)))
        out.append(
            Example(
                instruction="Classify the sentiment of the last word.",
                input=f"{filler} {word}",
                output=WORDS[word],
            )
        )
    return out


def write_jsonl(path: Path, examples: list[Example]) -> Path:
    """The examples as a train.jsonl / valid.jsonl file (the studio's own writer)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_examples(path, examples)
    return path


def rejected_rows(store, version_id: str) -> list[dict[str, str]]:
    """The rejected rows a dataset version lists in its rejects.csv (the summary line, which
    has no row number, left out)."""
    import csv

    from studio.data.versions import version_folder

    folder = version_folder(store, store.get_dataset_version(version_id))
    with (folder / "rejects.csv").open(encoding="utf-8", newline="") as f:
        return [r for r in csv.DictReader(f) if r.get("row")]
