"""Split (stratified, seeded) and stats (task detection, labels, token lengths)."""

from __future__ import annotations

from collections import Counter

from studio.data.split import split_examples, split_indices
from studio.data.stats import (
    basic_stats,
    detect_task,
    example_labels,
    normalise_label,
    token_length_stats,
)
from studio.vocab.examples import STYLE_PLAIN, Example


def labelled(counts: dict[str, int]) -> list[Example]:
    out = []
    for label, n in counts.items():
        out += [
            Example(instruction="Sentiment?", input=f"{label} {i}", output=label + ".")
            for i in range(n)
        ]
    return out


def test_normalise_label():
    assert normalise_label(" Negative. ") == "negative"
    assert normalise_label("positive") == "positive"


def test_classification_detected_with_label_counts():
    task, labels, counts = detect_task(labelled({"negative": 6, "neutral": 3, "positive": 1}))
    # "positive" occurs once: it is outside the label set, and 9/10 rows are still covered.
    assert task == "classification" and labels == ["negative", "neutral"]
    assert counts == {"negative": 6, "neutral": 3, "(other)": 1}


def test_generation_and_text_detected():
    varied = [Example(input=str(i), output=f"a long answer number {i}") for i in range(10)]
    assert detect_task(varied)[0] == "generation"
    assert detect_task([Example(output="x", style=STYLE_PLAIN)])[0] == "text"
    # Three rows with three different answers are not enough to call it classification.
    assert detect_task(labelled({"a": 1, "b": 1, "c": 1}))[0] == "generation"


def test_split_is_seeded_and_stratified():
    exs = labelled({"negative": 50, "neutral": 30, "positive": 20})
    labels = example_labels(exs, ["negative", "neutral", "positive"])
    train, valid = split_examples(exs, 10, seed=1, labels=labels)
    assert len(train) + len(valid) == 100
    per_label = Counter(normalise_label(e.output) for e in valid)
    assert per_label == {"negative": 5, "neutral": 3, "positive": 2}
    assert split_examples(exs, 10, seed=1, labels=labels) == (train, valid)
    assert split_examples(exs, 10, seed=2, labels=labels)[1] != valid
    assert not set(map(id, train)) & set(map(id, valid))


def test_split_edge_cases():
    assert split_indices(1, 10, 0) == ([0], [])
    assert split_indices(5, 0, 0) == ([0, 1, 2, 3, 4], [])
    train, valid = split_indices(3, 10, 0)  # at least one validation row, one train row kept
    assert len(valid) == 1 and len(train) == 2
    # Singleton labels fall back to an unstratified split rather than an empty one.
    assert len(split_indices(4, 25, 0, labels=["a", "b", "c", "d"])[1]) == 1


class CharTokenizer:
    """One token per character: enough to check the arithmetic."""

    def __call__(self, texts, add_special_tokens=False):
        return {"input_ids": [list(t) for t in texts]}


def test_token_lengths_with_a_tokenizer_passed_in():
    exs = [Example(output="x" * n, style=STYLE_PLAIN) for n in (9, 19, 29, 39)]
    stats = token_length_stats(exs, CharTokenizer(), bins=4)
    assert (stats["min"], stats["max"], stats["mean"]) == (10, 40, 25.0)  # +1 for EOS
    assert sum(stats["histogram"]["counts"]) == 4 and not stats["sampled"]
    sampled = token_length_stats(exs, CharTokenizer(), max_samples=2)
    assert sampled["sampled"] and sampled["n_measured"] == 2


def test_basic_stats():
    stats = basic_stats(labelled({"yes": 3, "no": 3}))
    assert stats["task"] == "classification" and stats["n_examples"] == 6
    assert stats["label_counts"] == {"yes": 3, "no": 3}
