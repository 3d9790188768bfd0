"""Dataset statistics: counts, task detection (classification / generation / text), label
distribution and token lengths.

Classification-style data: the answers come from a small label set. Answers are normalised
with `normalise_label` (surrounding space and trailing periods removed, lower case, so
"Negative." is the label "negative"); the data is classification when at most MAX_LABELS
short answers that each occur at least twice cover at least LABEL_COVERAGE of the rows.

Token lengths use a tokenizer passed in (the chosen base model's); `default_tokenizer` loads
the packaged SmolLM2 tokenizer once (lazily: importing this module does not import
transformers).
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Sequence
from typing import Any

from studio.models.loading import load_tokenizer
from studio.models.resolve import PACKAGED_REF
from studio.prompts.render import render
from studio.vocab.examples import STYLE_PLAIN, Example

MAX_LABELS = 20
MAX_LABEL_CHARS = 40
LABEL_COVERAGE = 0.9
OTHER_LABEL = "(other)"


def normalise_label(text: str) -> str:
    """The label an answer stands for: 'Negative. ' -> 'negative'."""
    return text.strip().rstrip(".").strip().lower()


def detect_task(examples: Sequence[Example]) -> tuple[str, list[str], dict[str, int]]:
    """(task, labels, label_counts); task is "classification", "generation" or "text"."""
    if not examples:
        return "generation", [], {}
    if all(ex.style == STYLE_PLAIN for ex in examples):
        return "text", [], {}
    counts = Counter(normalise_label(ex.output) for ex in examples if ex.style != STYLE_PLAIN)
    candidates = [
        (lab, n) for lab, n in counts.most_common() if n >= 2 and 0 < len(lab) <= MAX_LABEL_CHARS
    ]
    if len(candidates) < 2 or len(candidates) > MAX_LABELS:
        return "generation", [], {}
    covered = sum(n for _, n in candidates)
    if covered < LABEL_COVERAGE * len(examples):
        return "generation", [], {}
    labels = [lab for lab, _ in candidates]
    label_counts = dict(candidates)
    if covered < len(examples):
        label_counts[OTHER_LABEL] = len(examples) - covered
    return "classification", labels, label_counts


def example_labels(examples: Sequence[Example], labels: Sequence[str]) -> list[str]:
    """One label per example (OTHER_LABEL outside the label set), for stratified splits."""
    known = set(labels)
    out = []
    for ex in examples:
        lab = normalise_label(ex.output)
        out.append(lab if lab in known else OTHER_LABEL)
    return out


def basic_stats(examples: Sequence[Example]) -> dict[str, Any]:
    """Counts that need no tokenizer: examples, styles, character lengths, task and labels."""
    task, labels, label_counts = detect_task(examples)
    chars = [
        len(ex.preamble) + len(ex.instruction) + len(ex.input) + len(ex.output) for ex in examples
    ]
    return {
        "n_examples": len(examples),
        "task": task,
        "labels": labels,
        "label_counts": label_counts,
        "styles": dict(Counter(ex.style for ex in examples)),
        "chars_mean": round(sum(chars) / len(chars), 1) if chars else 0,
        "chars_max": max(chars, default=0),
    }


def _histogram(values: list[int], bins: int) -> dict[str, list]:
    lo, hi = min(values), max(values)
    width = max(1, -(-(hi - lo + 1) // bins))  # ceil, whole tokens per bin
    counts = [0] * (-(-(hi - lo + 1) // width))
    for v in values:
        counts[(v - lo) // width] += 1
    starts = [lo + i * width for i in range(len(counts))]
    return {"starts": starts, "width": width, "counts": counts}


def token_length_stats(
    examples: Sequence[Example],
    tokenizer: Any,
    max_samples: int = 5000,
    seed: int = 0,
    bins: int = 20,
) -> dict[str, Any]:
    """Token lengths of prompt + answer as the model sees them (sections format).

    Measures at most `max_samples` examples (a seeded sample) so big datasets stay fast.
    """
    pool = list(examples)
    sampled = len(pool) > max_samples
    if sampled:
        pool = random.Random(seed).sample(pool, max_samples)
    if not pool:
        return {}
    texts = ["".join(render(ex, "sections")) for ex in pool]
    ids = tokenizer(texts, add_special_tokens=False)["input_ids"]
    lengths = sorted(len(x) + 1 for x in ids)  # +1: the end-of-sequence token
    return {
        "n_measured": len(lengths),
        "sampled": sampled,
        "min": lengths[0],
        "max": lengths[-1],
        "mean": round(sum(lengths) / len(lengths), 1),
        "p50": lengths[len(lengths) // 2],
        "p95": lengths[min(len(lengths) - 1, int(0.95 * len(lengths)))],
        "histogram": _histogram(lengths, bins),
    }


_TOKENIZERS: dict[str, Any] = {}
_LOCK = threading.Lock()


def stats_tokenizer(settings, ref: str = "") -> tuple[Any, str]:
    """(the tokenizer of base model `ref`, default the packaged SmolLM2, or None, why not);
    loaded once per models folder and model."""
    ref = ref or PACKAGED_REF
    key = f"{settings.models_dir}::{ref}"
    with _LOCK:
        if key in _TOKENIZERS:
            return _TOKENIZERS[key]
        try:
            result = (load_tokenizer(ref, settings), "")
        except Exception as exc:  # any failure only costs the histogram
            result = (None, f"the tokenizer of {ref} could not be loaded ({exc})")
        _TOKENIZERS[key] = result
        return result


def default_tokenizer(settings) -> tuple[Any, str]:
    """The packaged SmolLM2 tokenizer (see stats_tokenizer)."""
    return stats_tokenizer(settings)
