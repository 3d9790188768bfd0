"""The LM head and loss at labelled positions only: the same loss and gradients as the full
computation (the model's own shifted cross entropy), through a LoRA adapter too."""

from __future__ import annotations

import pytest
import torch

from studio.scoring.encode import IGNORE
from studio.train.headonly import head_only_loss, labelled_positions, supports_head_only
from tests.support.models import tiny_llama


def _tiny_llama(vocab: int = 97):
    return tiny_llama(vocab, max_position_embeddings=64, pad_token_id=None)


def _batch(vocab: int = 97):
    # Two rows of different lengths (right padding), answers of 2 and 3 tokens at the end.
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(3, vocab, (2, 12), generator=g)
    mask = torch.ones_like(ids)
    mask[1, 9:] = 0
    labels = torch.full_like(ids, IGNORE)
    labels[0, 10:] = ids[0, 10:]
    labels[1, 6:9] = ids[1, 6:9]
    return {"input_ids": ids, "attention_mask": mask, "labels": labels}


def _grads(model):
    return {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}


@pytest.mark.parametrize("num_items", [None, 7])
def test_same_loss_and_gradients_as_the_full_head(num_items):
    model = _tiny_llama()
    batch = _batch()
    kwargs = {} if num_items is None else {"num_items_in_batch": torch.tensor(num_items)}
    full = model(**batch, **kwargs).loss
    full.backward()
    want = _grads(model)
    model.zero_grad()
    got_loss = head_only_loss(model, batch, kwargs.get("num_items_in_batch"))
    got_loss.backward()
    got = _grads(model)
    assert got_loss.item() == pytest.approx(full.item(), rel=1e-5, abs=1e-6)
    assert want.keys() == got.keys() and want
    for name in want:
        torch.testing.assert_close(got[name], want[name], rtol=1e-4, atol=1e-6, msg=name)


def test_through_a_lora_adapter():
    from peft import LoraConfig, get_peft_model

    model = get_peft_model(
        _tiny_llama(),
        LoraConfig(
            r=4,
            lora_alpha=8,
            target_modules=["q_proj", "v_proj"],
            init_lora_weights=False,
            task_type="CAUSAL_LM",
        ),
    )
    assert supports_head_only(model, "causal") and not supports_head_only(model, "seq2seq")
    batch = _batch()
    full = model(**batch).loss
    full.backward()
    want = _grads(model)
    model.zero_grad()
    got_loss = head_only_loss(model, batch)
    got_loss.backward()
    got = _grads(model)
    assert got_loss.item() == pytest.approx(full.item(), rel=1e-5)
    assert want and all("lora_" in n for n in want)
    for name in want:
        torch.testing.assert_close(got[name], want[name], rtol=1e-4, atol=1e-6, msg=name)


def test_positions_are_the_ones_before_each_label():
    labels = torch.tensor([[IGNORE, IGNORE, 5, 6], [IGNORE, 7, IGNORE, IGNORE]])
    keep, targets = labelled_positions(labels)
    assert keep.tolist() == [[False, True, True, False], [True, False, False, False]]
    assert targets.tolist() == [5, 6, 7]
