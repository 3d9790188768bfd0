"""Packing: the examples of one batch laid end to end in as few rows as fit max_length.

A step still trains on the same examples (the sampler's length-grouped batch); only the
layout changes, so steps, epochs, the time budget and the loss are those of unpacked training.
Each row carries:
  - `position_ids` restarting at 0 for each example, so RoPE sees what it sees unpacked;
  - a 4D block-diagonal causal `attention_mask` (rows, 1, width, width): a token attends to
    the earlier tokens of its own example only. transformers 5 hands a caller's 4D mask to the
    attention kernel as it is (masking_utils._preprocess_mask_arguments), whether or not a
    cache is passed, so the mask is built in the kernel's format: boolean (True = attend) for
    SDPA, additive float for eager; other kernels (flash, flex) are not packed;
  - labels with the first token of every example ignored: unpacked, nothing predicts an
    example's first token, and packed, the previous example's last token must not either.
Padding (only when a batch needs several rows) attends to itself alone, so no attention row is
empty, and is never labelled. tests/unit/train/test_packing.py checks loss and gradients
against unpacked training.
"""

from __future__ import annotations

from typing import Any

from studio.scoring.encode import IGNORE
from studio.scoring.kvcache import attention_kind

PACKABLE_ATTENTION = ("sdpa", "eager")


def supports_packing(model: Any, model_type: str) -> bool:
    """Causal models whose attention kernel takes a 4D mask the collator can build."""
    return model_type == "causal" and attention_kind(model) in PACKABLE_ATTENTION


def pack_examples(lengths: list[int], max_length: int) -> list[list[int]]:
    """Example positions grouped into as few rows of at most max_length tokens as first fit
    (longest first) finds, then spread evenly over that many rows (each next-longest example
    into the emptiest row that has room), so that the rows, padded to the fullest, carry
    little padding. An example longer than max_length gets a row of its own."""
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    room: list[int] = []
    for i in order:  # first fit: how many rows are needed
        r = next((r for r, free in enumerate(room) if lengths[i] <= free), None)
        if r is None:
            room.append(max_length - lengths[i])
        else:
            room[r] -= lengths[i]
    rows: list[list[int]] = [[] for _ in room]
    fill = [0] * len(room)
    for i in order:
        fits = [r for r in range(len(rows)) if fill[r] + lengths[i] <= max_length]
        if not fits:  # even spreading failed where first fit succeeded: keep first fit
            return _first_fit(lengths, order, max_length)
        r = min(fits, key=lambda r: fill[r])
        rows[r].append(i)
        fill[r] += lengths[i]
    return [sorted(r) for r in rows]  # batch order within a row: a deterministic layout


def _first_fit(lengths: list[int], order: list[int], max_length: int) -> list[list[int]]:
    rows: list[list[int]] = []
    room: list[int] = []
    for i in order:
        r = next((r for r, free in enumerate(room) if lengths[i] <= free), None)
        if r is None:
            rows.append([i])
            room.append(max_length - lengths[i])
        else:
            rows[r].append(i)
            room[r] -= lengths[i]
    return [sorted(r) for r in rows]


def block_causal_mask(segments: Any, kind: str = "sdpa", dtype: Any = None) -> Any:
    """(rows, 1, width, width) mask from per-position segment ids: a position attends to
    earlier positions with the same id. Boolean for SDPA, additive (0 / dtype min) for eager."""
    import torch

    width = segments.shape[-1]
    causal = torch.ones(width, width, dtype=torch.bool).tril()
    allowed = (segments[:, :, None] == segments[:, None, :]) & causal
    allowed = allowed[:, None]
    if kind == "sdpa":
        return allowed
    dtype = dtype or torch.float32
    zero = torch.zeros((), dtype=dtype)
    return torch.where(allowed, zero, torch.finfo(dtype).min)


def real_positions(mask: Any) -> Any:
    """(rows, width) booleans: the positions of a packed batch that are examples, not padding
    (a padding position is the only one that attends to it, and it attends to nothing else;
    every example has at least two tokens, one of them labelled)."""
    import torch

    allowed = mask[:, 0] if mask.dtype == torch.bool else mask[:, 0] == 0
    return (allowed.sum(-1) > 1) | (allowed.sum(-2) > 1)


class PackCollator:
    """A batch of encoded causal examples packed into rows of at most max_length tokens."""

    def __init__(self, pad_id: int, max_length: int, kind: str = "sdpa", dtype: Any = None):
        if kind not in PACKABLE_ATTENTION:
            raise ValueError(f"packing needs one of {PACKABLE_ATTENTION} attention, not {kind!r}")
        self.pad_id, self.max_length, self.kind, self.dtype = pad_id, max_length, kind, dtype

    def __call__(self, rows: list[dict[str, list[int]]]) -> dict[str, Any]:
        import torch

        lengths = [len(r["input_ids"]) for r in rows]
        packed = pack_examples(lengths, self.max_length)
        width = max(sum(lengths[i] for i in row) for row in packed)
        ids, labels, positions, segments = [], [], [], []
        for row in packed:
            r_ids: list[int] = []
            r_labels: list[int] = []
            r_pos: list[int] = []
            r_seg: list[int] = []
            for n, i in enumerate(row):
                ex, size = rows[i], lengths[i]
                r_ids += ex["input_ids"]
                r_labels += [IGNORE] + list(ex["labels"][1:])
                r_pos += list(range(size))
                r_seg += [n] * size
            gap = width - len(r_ids)
            r_ids += [self.pad_id] * gap
            r_labels += [IGNORE] * gap
            r_pos += [0] * gap
            r_seg += [-1 - k for k in range(gap)]  # each pad alone: it attends to itself only
            ids.append(r_ids)
            labels.append(r_labels)
            positions.append(r_pos)
            segments.append(r_seg)
        seg = torch.tensor(segments, dtype=torch.long)
        return {
            "input_ids": torch.tensor(ids, dtype=torch.long),
            "labels": torch.tensor(labels, dtype=torch.long),
            "position_ids": torch.tensor(positions, dtype=torch.long),
            "attention_mask": block_causal_mask(seg, self.kind, self.dtype),
        }
