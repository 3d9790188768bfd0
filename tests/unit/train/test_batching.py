"""Length-grouped batches: deterministic per (seed, epoch), complete, and far less padding."""

from __future__ import annotations

import random

from studio.scoring.encode import IGNORE
from studio.train.batching import LengthGroupedSampler, PadCollator, padding_fraction


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
    rows = [
        {"input_ids": [5, 6, 7], "attention_mask": [1, 1, 1], "labels": [IGNORE, 6, 7]},
        {"input_ids": [8], "attention_mask": [1], "labels": [8]},
    ]
    batch = PadCollator(pad_id=0)(rows)
    assert batch["input_ids"].tolist() == [[5, 6, 7], [8, 0, 0]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1], [1, 0, 0]]
    assert batch["labels"].tolist() == [[IGNORE, 6, 7], [8, IGNORE, IGNORE]]
    assert PadCollator(pad_id=0, pad_to=6)(rows)["input_ids"].shape == (2, 6)


def _shards(lengths, per_device, world, epoch=0, seed=3):
    from studio.train.batching import RankBatchSampler

    out = []
    for rank in range(world):
        grouped = LengthGroupedSampler(lengths, per_device * world, seed=seed)
        sampler = RankBatchSampler(grouped, world, rank)
        sampler.set_epoch(epoch)
        out.append(list(sampler))
    return out


def test_ranks_get_disjoint_shards_of_the_same_epoch_order():
    lengths = _lengths(100)
    two = _shards(lengths, 4, 2)
    assert len(two[0]) == len(two[1]) == len(_shards(lengths, 4, 2)[0])  # same step count
    flat = [[i for b in shard for i in b] for shard in two]
    assert not set(flat[0]) & set(flat[1])
    assert sorted(flat[0] + flat[1]) == list(range(100))
    # Step k of the two ranks together is step k of one process with a batch twice as big.
    one = LengthGroupedSampler(lengths, 8, seed=3).batches()
    assert [sorted(a + b) for a, b in zip(*two, strict=True)] == [sorted(b) for b in one]
    # Another epoch, another order, agreed by both ranks.
    assert _shards(lengths, 4, 2, epoch=1) != two
    assert sorted(i for s in _shards(lengths, 4, 2, epoch=1) for b in s for i in b) == list(
        range(100)
    )


def test_a_last_batch_smaller_than_the_ranks_still_gives_every_rank_a_step():
    lengths = _lengths(9)  # 9 = 2 x 4 + 1: the last global batch has one example for 2 ranks
    two = _shards(lengths, 4, 2)
    assert len(two[0]) == len(two[1]) == 2
    assert two[0][-1] == two[1][-1] and len(two[0][-1]) == 1  # topped up with that example


def test_one_rank_is_the_plain_length_grouped_order():
    from studio.train.batching import RankBatchSampler

    lengths = _lengths(50)
    grouped = LengthGroupedSampler(lengths, 8, seed=1)
    assert list(RankBatchSampler(grouped)) == grouped.batches()
    assert (
        len(RankBatchSampler(grouped)) == 7 and len(RankBatchSampler(grouped, drop_last=True)) == 6
    )
