"""Packing several examples into one row gives the loss and gradients of unpacked training
(same examples, padded batch), never lets one example see another, and keeps the tokens
counted as the unpacked batch counts them."""

from __future__ import annotations

import pytest
import torch

from studio.scoring.encode import IGNORE
from studio.train.batching import PadCollator
from studio.train.headonly import head_only_loss
from studio.train.packing import (
    PackCollator,
    block_causal_mask,
    pack_examples,
    real_positions,
    supports_packing,
)
from tests.support.models import PAD, VOCAB, tiny_llama


def _tiny_llama(attn: str = "sdpa"):
    return tiny_llama(attn=attn)


def _examples(answer_only: bool, lengths=(7, 12, 5, 9, 11), answer=2, seed=1):
    g = torch.Generator().manual_seed(seed)
    rows = []
    for n in lengths:
        ids = torch.randint(3, VOCAB, (n,), generator=g).tolist()
        labels = [IGNORE] * (n - answer) + ids[n - answer :] if answer_only else list(ids)
        rows.append({"input_ids": ids, "attention_mask": [1] * n, "labels": labels})
    return rows


def _grads(model):
    return {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}


def _loss_and_grads(model, batch, head_only=False, num_items=None):
    model.zero_grad()
    if head_only:
        loss = head_only_loss(model, batch, num_items)
    else:
        kwargs = {} if num_items is None else {"num_items_in_batch": num_items}
        loss = model(**batch, **kwargs).loss
    loss.backward()
    return loss.item(), _grads(model)


def _labelled(batch) -> int:
    return int((batch["labels"][:, 1:] != IGNORE).sum())


@pytest.mark.parametrize("attn", ["sdpa", "eager"])
@pytest.mark.parametrize("answer_only", [True, False])
@pytest.mark.parametrize("head_only", [False, True])
def test_same_loss_and_gradients_as_unpacked(attn, answer_only, head_only):
    model = _tiny_llama(attn)
    rows = _examples(answer_only)
    unpacked = PadCollator(PAD)(rows)
    packed = PackCollator(PAD, max_length=24, kind=attn)(rows)
    assert packed["input_ids"].shape[0] < len(rows)  # really packed: several per row
    # The Trainer divides by the labelled positions it counts (labels shifted by one).
    assert _labelled(packed) == _labelled(unpacked)
    n = torch.tensor(_labelled(unpacked))
    for num_items in (None, n):
        want_loss, want = _loss_and_grads(model, unpacked, head_only, num_items)
        got_loss, got = _loss_and_grads(model, packed, head_only, num_items)
        assert got_loss == pytest.approx(want_loss, abs=1e-4, rel=1e-4)
        assert want.keys() == got.keys() and want
        for name in want:
            torch.testing.assert_close(got[name], want[name], rtol=1e-4, atol=1e-5, msg=name)


def _per_token_losses(model, batch):
    """Cross entropy of every labelled position, in row order, as {(row, pos): loss}."""
    with torch.no_grad():
        logits = model(**batch, use_cache=False).logits
    out = {}
    labels = batch["labels"]
    for r in range(labels.shape[0]):
        for t in range(labels.shape[1] - 1):
            target = labels[r, t + 1]
            if target != IGNORE:
                out[(r, t)] = torch.nn.functional.cross_entropy(logits[r, t], target).item()
    return out


def test_an_example_never_sees_its_neighbours():
    model = _tiny_llama()
    rows = _examples(answer_only=False, lengths=(8, 8, 8))
    collate = PackCollator(PAD, max_length=24)
    before = collate(rows)
    assert before["input_ids"].shape[0] == 1  # all three in one row
    changed = [dict(r) for r in rows]
    changed[1] = {**rows[1], "input_ids": [(t + 5) % VOCAB + 3 for t in rows[1]["input_ids"]]}
    after = collate(changed)
    a, b = _per_token_losses(model, before), _per_token_losses(model, after)
    first, third = range(0, 8), range(16, 24)
    for key in a:
        if key[1] in first or key[1] in third:
            assert a[key] == pytest.approx(b[key], abs=1e-6), key
    assert any(a[k] != pytest.approx(b[k], abs=1e-6) for k in a if k[1] in range(8, 16))


def test_positions_restart_and_boundaries_are_not_labelled():
    rows = _examples(answer_only=False, lengths=(3, 4))
    batch = PackCollator(PAD, max_length=16)(rows)
    assert batch["position_ids"].tolist() == [[0, 1, 2, 0, 1, 2, 3]]
    # The first token of each example is predicted by nothing.
    assert batch["labels"][0, 0] == IGNORE and batch["labels"][0, 3] == IGNORE
    assert batch["labels"][0, 4:].tolist() == rows[1]["input_ids"][1:]


def test_rows_stay_within_max_length_and_padding_is_not_counted():
    rows = _examples(answer_only=True, lengths=(10, 9, 6, 5, 3, 12))
    batch = PackCollator(PAD, max_length=16)(rows)
    assert batch["input_ids"].shape[1] <= 16
    assert int(real_positions(batch["attention_mask"]).sum()) == sum(
        len(r["input_ids"]) for r in rows
    )
    mask = batch["attention_mask"][:, 0]
    assert bool(mask.any(-1).all())  # no attention row is empty (padding attends to itself)
    float_mask = PackCollator(PAD, max_length=16, kind="eager")(rows)["attention_mask"]
    assert int(real_positions(float_mask).sum()) == int(
        real_positions(batch["attention_mask"]).sum()
    )


def test_pack_examples_first_fit():
    rows = pack_examples([10, 9, 6, 5, 3, 12, 20], 16)
    assert sorted(i for r in rows for i in r) == list(range(7))
    lengths = [10, 9, 6, 5, 3, 12, 20]
    assert all(sum(lengths[i] for i in r) <= 16 or len(r) == 1 for r in rows)
    assert len(rows) == 4  # as first fit: 20 | 12+3 | 10+6 | 9+5
    # Two rows needed: spread evenly (24 | 21), not filled first (32 | 13).
    rows = pack_examples([12, 11, 10, 6, 3, 3], 32)
    fills = sorted(sum([12, 11, 10, 6, 3, 3][i] for i in r) for r in rows)
    assert fills == [21, 24]


def test_block_causal_mask_shape():
    seg = torch.tensor([[0, 0, 1, 1, -1]])
    m = block_causal_mask(seg)[0, 0]
    assert m.tolist() == [
        [True, False, False, False, False],
        [True, True, False, False, False],
        [False, False, True, False, False],
        [False, False, True, True, False],
        [False, False, False, False, True],
    ]


def test_supports_packing():
    assert supports_packing(_tiny_llama("sdpa"), "causal")
    assert supports_packing(_tiny_llama("eager"), "causal")
    assert not supports_packing(_tiny_llama("sdpa"), "seq2seq")


def test_packer_for_follows_the_option_and_the_model():
    from types import SimpleNamespace

    from studio.configs.table import StudioSettings
    from studio.train.extras import packer_for

    tok = SimpleNamespace(pad_token_id=PAD)

    def packer(packing, model, model_type="causal"):
        return packer_for(packing, model_type, 32, model, tok)

    assert packer(True, _tiny_llama("sdpa")).kind == "sdpa"
    assert packer(True, _tiny_llama("eager")).kind == "eager"
    assert packer(False, _tiny_llama()) is None
    default = StudioSettings.from_dict({}).packing  # the settings table's: off
    assert default is False and packer(default, _tiny_llama()) is None
    assert packer(True, _tiny_llama(), "seq2seq") is None
    flash = _tiny_llama()
    flash.config._attn_implementation = "flex_attention"
    assert packer(True, flash) is None
