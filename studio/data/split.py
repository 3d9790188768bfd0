"""Train / validation split: a percentage and a seed, stratified by label when given.

The same examples, percentage and seed always give the same split. With labels, every label
with at least two examples puts about `valid_pct` % of them in validation, so a rare class
is not missing from either side.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence

from studio.vocab.examples import Example


def _n_valid(n: int, valid_pct: float) -> int:
    if n < 2 or valid_pct <= 0:
        return 0
    # At least one validation row when asked for any, and always keep one for training.
    return min(n - 1, max(1, round(n * valid_pct / 100)))


def split_indices(
    n: int, valid_pct: float, seed: int, labels: Sequence[str] | None = None
) -> tuple[list[int], list[int]]:
    """(train indices, valid indices), each in the original order."""
    if not 0 <= valid_pct < 100:
        raise ValueError(f"valid_pct must be in [0, 100), got {valid_pct}")
    rng = random.Random(seed)
    groups: dict[str, list[int]] = defaultdict(list)
    for i in range(n):
        groups[labels[i] if labels is not None else ""].append(i)
    valid: set[int] = set()
    for key in sorted(groups):  # sorted so the draw does not depend on dict order
        members = groups[key]
        rng.shuffle(members)
        valid.update(members[: _n_valid(len(members), valid_pct)])
    if labels is not None and not valid and valid_pct > 0 and n >= 2:
        # Every label was a singleton: fall back to an unstratified draw.
        return split_indices(n, valid_pct, seed, None)
    train = [i for i in range(n) if i not in valid]
    return train, sorted(valid)


def split_examples(
    examples: Sequence[Example], valid_pct: float, seed: int, labels: Sequence[str] | None = None
) -> tuple[list[Example], list[Example]]:
    """(train, valid) examples; `labels` (one per example) stratifies the split."""
    train, valid = split_indices(len(examples), valid_pct, seed, labels)
    return [examples[i] for i in train], [examples[i] for i in valid]
