"""Length-grouped batches: deterministic per (seed, epoch), complete, and far less padding."""

from __future__ import annotations

import random

from studio.train.batching import LengthGroupedSampler, PadCollator, padding_fraction
from studio.train.data import IGNORE


def _lengths(n=500, seed=0):
    rng = random.Random(seed)
    return [rng.randint(5, 200) for _ in range(n)]


def test_order_depends_only_on_seed_and_epoch_and_covers_everything():
    lengths = _lengths()
    s = LengthGroupedSampler(lengths, 8, seed=1)
    first = list(s)
    assert sorted(first) == list(range(len(lengths)))
    assert list(LengthGroupedSampler(lengths, 8, seed=1)) == first
    s.set_epoch(1)
    assert list(s) != first
    assert all(len(b) == 8 for b in s.batches()[:-1])


def test_grouping_cuts_padding_against_random_batches():
    lengths = _lengths()
    grouped = LengthGroupedSampler(lengths, 8, seed=1).batches()
    order = list(range(len(lengths)))
    random.Random(1).shuffle(order)
    plain = [order[i : i + 8] for i in range(0, len(order), 8)]
    assert padding_fraction(grouped, lengths) < 0.1 < padding_fraction(plain, lengths)
    assert padding_fraction(plain, lengths, pad_to=256) > padding_fraction(plain, lengths)


def test_collator_pads_to_the_longest_row_with_ignored_labels():
    rows = [{"input_ids": [5, 6, 7], "attention_mask": [1, 1, 1], "labels": [IGNORE, 6, 7]},
            {"input_ids": [8], "attention_mask": [1], "labels": [8]}]  # fmt: skip
    batch = PadCollator(pad_id=0)(rows)
    assert batch["input_ids"].tolist() == [[5, 6, 7], [8, 0, 0]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1], [1, 0, 0]]
    assert batch["labels"].tolist() == [[IGNORE, 6, 7], [8, IGNORE, IGNORE]]
    assert PadCollator(pad_id=0, pad_to=6)(rows)["input_ids"].shape == (2, 6)
