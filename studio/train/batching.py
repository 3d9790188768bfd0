"""Batches without wasted compute: length-grouped order + padding to the longest in the batch.

On CPU (sdpa attention) padding-free flattening is not correct (it needs flash-attention), so
the studio groups examples of similar length into the same batch and pads each batch only to
its own longest example. The order is a pure function of (seed, epoch), so a resumed run sees
exactly the batches an uninterrupted run would have seen. bench/bench_batching.py measures it
against padding everything to max_length.

Several processes (`accelerate launch`, data parallel): every rank builds the same global
batches of per_device x processes examples for (seed, epoch) and keeps its own slice of each
(`RankBatchSampler`), so the ranks see disjoint examples whose union is the epoch, every rank
takes the same number of steps, and the examples of one step match a single process with a
batch `processes` times larger.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

from studio.scoring.encode import IGNORE

MEGABATCH = 32  # batches sorted together: larger = less padding, less shuffling


class LengthGroupedSampler:
    """Indices in batches of similar length; batch order shuffled per epoch.

    The data is shuffled, cut into mega-batches of MEGABATCH batches, each sorted by length
    and cut into batches; then the batches themselves are shuffled so that long and short
    batches are interleaved across the epoch.
    """

    def __init__(self, lengths: list[int], batch_size: int, seed: int = 42):
        self.lengths, self.batch_size, self.seed = list(lengths), max(1, batch_size), seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return len(self.lengths)

    def batches(self) -> list[list[int]]:
        rng = random.Random(self.seed * 1_000_003 + self.epoch)
        order = list(range(len(self.lengths)))
        rng.shuffle(order)
        size = self.batch_size * MEGABATCH
        out: list[list[int]] = []
        for start in range(0, len(order), size):
            mega = sorted(order[start : start + size], key=lambda i: self.lengths[i])
            out.extend(mega[i : i + self.batch_size] for i in range(0, len(mega), self.batch_size))
        # A short batch stays last so that every other batch is full.
        full = [b for b in out if len(b) == self.batch_size]
        short = [b for b in out if len(b) != self.batch_size]
        rng.shuffle(full)
        return full + short

    def __iter__(self) -> Iterator[int]:
        for batch in self.batches():
            yield from batch


def rank_slices(batch: list[int], num_replicas: int) -> list[list[int]]:
    """One global batch cut into `num_replicas` per-rank batches of similar length.

    Strided (rank r takes every num_replicas-th example of the length-sorted batch) so every
    rank of a step gets the same mix of lengths and none waits for another. A short last
    batch with fewer examples than ranks is topped up from its own start: a rank with no
    batch would leave the others waiting in the gradient all-reduce.
    """
    if len(batch) < num_replicas:
        batch = (batch * num_replicas)[:num_replicas]
    return [batch[r::num_replicas] for r in range(num_replicas)]


class RankBatchSampler:
    """This rank's batches of a LengthGroupedSampler whose batch size is the global one.

    A batch sampler (it yields lists of indices) that is already sharded: the Trainer's
    accelerate wrapper must pass it through rather than shard it again (see
    studio.train.training.StudioTrainer.get_train_dataloader).
    """

    def __init__(
        self,
        grouped: LengthGroupedSampler,
        num_replicas: int = 1,
        rank: int = 0,
        drop_last: bool = False,
    ):
        if not 0 <= rank < max(1, num_replicas):
            raise ValueError(f"rank {rank} is outside 0..{num_replicas - 1}")
        self.grouped, self.num_replicas, self.rank = grouped, max(1, num_replicas), rank
        self.drop_last = drop_last
        self.on_batch = None  # called with each batch this rank takes (config debug.log_batches)

    def set_epoch(self, epoch: int) -> None:
        self.grouped.set_epoch(epoch)

    def _global(self) -> list[list[int]]:
        batches = self.grouped.batches()
        if self.drop_last and batches and len(batches[-1]) < self.grouped.batch_size:
            batches = batches[:-1]
        return batches

    def __len__(self) -> int:
        n, size = len(self.grouped.lengths), self.grouped.batch_size
        return n // size if self.drop_last else -(-n // size)

    def __iter__(self) -> Iterator[list[int]]:
        for batch in self._global():
            mine = rank_slices(batch, self.num_replicas)[self.rank]
            if self.on_batch is not None:
                self.on_batch(mine)
            yield mine


class PadCollator:
    """Pads a causal batch to its longest row (or to `pad_to` for the baseline)."""

    def __init__(self, pad_id: int, pad_to: int | None = None, multiple_of: int = 1):
        self.pad_id, self.pad_to, self.multiple_of = pad_id, pad_to, max(1, multiple_of)

    def __call__(self, rows: list[dict[str, list[int]]]) -> dict[str, Any]:
        import torch

        width = self.pad_to or max(len(r["input_ids"]) for r in rows)
        width = -(-width // self.multiple_of) * self.multiple_of
        batch: dict[str, list[list[int]]] = {"input_ids": [], "attention_mask": [], "labels": []}
        for r in rows:
            gap = width - len(r["input_ids"])
            batch["input_ids"].append(r["input_ids"] + [self.pad_id] * gap)
            batch["attention_mask"].append(r["attention_mask"] + [0] * gap)
            batch["labels"].append(r["labels"] + [IGNORE] * gap)
        return {k: torch.tensor(v, dtype=torch.long) for k, v in batch.items()}


def seq2seq_collator(tokenizer: Any, model: Any, pad_to: int | None = None):
    """Encoder inputs and labels each padded to their longest row; decoder inputs from labels."""
    from transformers import DataCollatorForSeq2Seq

    if pad_to:
        return DataCollatorForSeq2Seq(
            tokenizer,
            model=model,
            label_pad_token_id=IGNORE,
            padding="max_length",
            max_length=pad_to,
        )
    return DataCollatorForSeq2Seq(tokenizer, model=model, label_pad_token_id=IGNORE)


def padding_fraction(
    batches: list[list[int]], lengths: list[int], pad_to: int | None = None
) -> float:
    """Share of the positions in these batches that are padding."""
    total = real = 0
    for b in batches:
        width = pad_to or max(lengths[i] for i in b)
        total += width * len(b)
        real += sum(lengths[i] for i in b)
    return 0.0 if total == 0 else 1.0 - real / total
