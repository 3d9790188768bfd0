"""A prompt prefix shared by every row of a batch, computed once: the same loss and gradients
as the unshared head-only loss and the model's own full loss (plain and through LoRA, SDPA and
eager attention, right-padded rows), the one decoder pass really taken, and the per-row
computation wherever sharing would be wrong or the option is off."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

from studio.configs.table import StudioSettings
from studio.scoring.encode import IGNORE
from studio.train.batching import PadCollator
from studio.train.extras import StudioTrainerMixin, share_prefix_for
from studio.train.headonly import head_only_loss
from studio.train.sharedprefix import (
    MIN_PREFIX,
    shared_prefix_length,
    shared_prefix_loss,
    supports_prefix_share,
)
from tests.support.models import PAD, VOCAB, tiny_llama

PREFIX = 9  # the instruction every row starts with


def _tiny(attn: str = "sdpa", arch: str = "llama"):
    return tiny_llama(attn=attn, arch=arch, head_dim=8)


def _lora(model):
    from peft import LoraConfig, get_peft_model

    config = LoraConfig(
        r=4,
        lora_alpha=8,
        lora_dropout=0.0,  # dropout would draw one mask for the shared prefix, per row unshared
        target_modules="all-linear",
        init_lora_weights=False,  # B != 0: the adapter changes the outputs and gets gradients
        task_type="CAUSAL_LM",
    )
    return get_peft_model(model, config)


def _rows(lengths=(20, 14, 17, 12), prefix=PREFIX, answer=2, labels_all=False, seed=1):
    """Rows that start with the same `prefix` tokens, then differ; answers at the end."""
    g = torch.Generator().manual_seed(seed)
    head = torch.randint(3, VOCAB, (prefix,), generator=g).tolist()
    rows = []
    for n in lengths:
        ids = head + torch.randint(3, VOCAB, (n - prefix,), generator=g).tolist()
        labels = list(ids) if labels_all else [IGNORE] * (n - answer) + ids[n - answer :]
        rows.append({"input_ids": ids, "attention_mask": [1] * n, "labels": labels})
    return rows


def _grads(model):
    return {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}


def _run(model, loss_fn):
    model.zero_grad()
    loss = loss_fn()
    loss.backward()
    return loss.item(), _grads(model)


class _DecoderCalls:
    """The batch size of every decoder call, counted by a forward pre-hook."""

    def __init__(self, model):
        base = model.get_base_model() if hasattr(model, "get_base_model") else model
        self.sizes: list[int] = []
        self.handle = base.get_decoder().register_forward_pre_hook(self._hook, with_kwargs=True)

    def _hook(self, module, args, kwargs):
        ids = kwargs.get("input_ids", args[0] if args else None)
        self.sizes.append(int(ids.shape[0]))


def _assert_same(got, want):
    got_loss, got_grads = got
    want_loss, want_grads = want
    assert got_loss == pytest.approx(want_loss, rel=1e-5, abs=1e-6)
    assert want_grads.keys() == got_grads.keys() and want_grads
    for name in want_grads:
        torch.testing.assert_close(got_grads[name], want_grads[name], rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("attn", ["sdpa", "eager"])
@pytest.mark.parametrize("lora", [False, True])
@pytest.mark.parametrize("num_items", [None, 11])
def test_same_loss_and_gradients_as_each_row_alone(attn, lora, num_items):
    model = _tiny(attn)
    if lora:
        model = _lora(model)
    batch = PadCollator(PAD)(_rows())  # right padding: rows of 20, 14, 17 and 12 tokens
    assert int(batch["attention_mask"].sum()) < batch["input_ids"].numel()
    n = None if num_items is None else torch.tensor(num_items)
    prefix = shared_prefix_length(batch)
    assert prefix == PREFIX
    calls = _DecoderCalls(model)
    shared = _run(model, lambda: shared_prefix_loss(model, batch, prefix, n))
    assert calls.sizes == [1, 4]  # the prefix once, then every row's rest
    unshared = _run(model, lambda: head_only_loss(model, batch, n))
    kwargs = {} if n is None else {"num_items_in_batch": n}
    full = _run(model, lambda: model(**batch, **kwargs).loss)
    _assert_same(shared, unshared)
    _assert_same(shared, full)
    if lora:
        assert all("lora_" in name for name in shared[1])
        assert len(shared[1]) == 2 * 2 * 7  # A and B of all seven linear layers, two layers


@pytest.mark.parametrize("arch", ["qwen2", "qwen3"])
def test_other_supported_families(arch):
    model = _tiny(arch=arch)
    assert supports_prefix_share(model, "causal")
    batch = PadCollator(PAD)(_rows())
    shared = _run(model, lambda: shared_prefix_loss(model, batch, shared_prefix_length(batch)))
    _assert_same(shared, _run(model, lambda: head_only_loss(model, batch)))


def test_the_prefix_stops_before_the_first_prediction_of_a_label():
    rows = _rows()
    # Row 1 labels token 6: position 5 predicts it, so positions 0-4 alone can be shared.
    rows[1]["labels"][6] = rows[1]["input_ids"][6]
    batch = PadCollator(PAD)(rows)
    assert shared_prefix_length(batch) == 5
    model = _tiny()
    shared = _run(model, lambda: shared_prefix_loss(model, batch, 5))
    _assert_same(shared, _run(model, lambda: head_only_loss(model, batch)))
    _assert_same(shared, _run(model, lambda: model(**batch).loss))


def test_nothing_shared_where_it_would_be_wrong_or_pays_nothing():
    def length(rows, **extra):
        return shared_prefix_length({**PadCollator(PAD)(rows), **extra})

    assert length(_rows(prefix=0)) == 0  # the rows share no prefix
    assert length(_rows(labels_all=True)) == 0  # position 0 already predicts a label
    assert length(_rows(prefix=MIN_PREFIX - 1)) == 0  # too short to pay
    assert length(_rows(prefix=MIN_PREFIX)) == MIN_PREFIX
    with pytest.raises(ValueError, match="first 12 positions"):  # would drop a label
        shared_prefix_loss(_tiny(), PadCollator(PAD)(_rows()), 12)
    assert length(_rows(lengths=(20,))) == 0  # one row
    # Packed batches carry their own positions (and a 4D mask).
    assert length(_rows(), position_ids=torch.arange(20).expand(4, -1)) == 0
    # Left padding: no column is unpadded in every row.
    left = PadCollator(PAD)(_rows())
    left = {k: v.flip(1) for k, v in left.items()}
    assert shared_prefix_length(left) == 0
    # A row that is all prefix (and unlabelled) keeps its last token out of it.
    short = _rows(lengths=(20, PREFIX))
    short[1]["labels"] = [IGNORE] * PREFIX
    assert length(short) == PREFIX - 1


def test_supports_prefix_share():
    assert supports_prefix_share(_tiny("sdpa"), "causal")
    assert supports_prefix_share(_tiny("eager"), "causal")
    assert supports_prefix_share(_lora(_tiny()), "causal")
    assert not supports_prefix_share(_tiny(), "seq2seq")
    flex = _tiny()
    flex.config._attn_implementation = "flex_attention"
    assert not supports_prefix_share(flex, "causal")
    checkpointed = _tiny()
    checkpointed.activation_checkpointing_enable()
    assert not supports_prefix_share(checkpointed, "causal")
    sliding = _tiny(arch="qwen2")
    sliding.config.layer_types = ["sliding_attention"] * 2
    sliding.config.sliding_window = 8
    assert not supports_prefix_share(sliding, "causal")
    from transformers import GPT2Config, GPT2LMHeadModel

    gpt2 = GPT2LMHeadModel(GPT2Config(vocab_size=VOCAB, n_embd=32, n_layer=1, n_head=2))
    assert not supports_prefix_share(gpt2, "causal")  # a family not checked


class _Full:
    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        raise AssertionError("the head-only loss was expected")


class _Trainer(StudioTrainerMixin, _Full):
    model_accepts_loss_kwargs = True
    args = SimpleNamespace(average_tokens_across_devices=False)


@pytest.mark.parametrize("share", [True, False])
def test_the_trainer_option(share):
    model = _tiny()
    batch = PadCollator(PAD)(_rows())
    trainer = _Trainer()
    trainer.head_only, trainer.share_prefix = True, share
    n = torch.tensor(8)
    calls = _DecoderCalls(model)
    got = _run(model, lambda: trainer.compute_loss(model, batch, num_items_in_batch=n))
    today = _run(model, lambda: head_only_loss(model, batch, n))
    if share:
        assert calls.sizes == [1, 4, 4] and trainer.shared_batches == 1
        _assert_same(got, today)
    else:  # today's computation, bit for bit
        assert calls.sizes == [4, 4] and trainer.shared_batches == 0
        assert got[0] == today[0]
        assert all(torch.equal(got[1][k], today[1][k]) for k in today[1])
    # A batch sharing nothing takes the per-row path even with the option on.
    trainer.share_prefix = True
    plain = PadCollator(PAD)(_rows(prefix=0))
    calls.sizes.clear()
    trainer.compute_loss(model, plain)
    assert calls.sizes == [4]


def _share(wanted, model, trainer=None, **kw):
    return share_prefix_for(wanted, trainer or {}, "causal", model, **kw)


def test_share_prefix_for_follows_the_option_and_the_run():
    model = _tiny()
    assert StudioSettings.from_dict({}).share_prefix is None  # the table's default: auto
    assert _share(None, model, head_only=True, packer=None)  # on wherever it applies
    assert _share(True, model, head_only=True, packer=None)
    assert not _share(False, model, head_only=True, packer=None)
    assert not _share(None, model, head_only=False, packer=None)
    assert not _share(None, model, head_only=True, packer=object())
    compiled = {"torch_compile": True}
    assert not _share(None, model, compiled, head_only=True, packer=None)
    model.activation_checkpointing_enable()
    assert not _share(True, model, head_only=True, packer=None)


def test_no_sharing_where_the_run_would_train_differently():
    """Settings under which a prefix computed apart is not the same training: checkpointing
    (the Trainer turns it on only once training starts, after configure_extras), NEFTune
    (its noise is scaled by each call's length) and several GPUs in one process."""
    model = _tiny()
    for key, value in (
        ("gradient_checkpointing", True),
        ("activation_checkpointing", True),
        ("neftune_noise_alpha", 5.0),
        ("torch_compile", True),
    ):
        assert not _share(None, model, {key: value}, head_only=True, packer=None), key
    assert _share(None, model, head_only=True, packer=None, n_gpu=1)
    assert not _share(None, model, head_only=True, packer=None, n_gpu=2)


def test_checkpointing_turned_on_after_the_check_falls_back_to_every_row():
    """In a real run the Trainer enables checkpointing after sharing was decided; checkpointed
    layers drop the cache, so the shared loss must notice and compute every row instead."""
    model = _lora(_tiny())
    batch = PadCollator(PAD)(_rows())
    prefix = shared_prefix_length(batch)
    want = _run(model, lambda: head_only_loss(model, batch))
    model.get_base_model().activation_checkpointing_enable()
    model.train()
    calls = _DecoderCalls(model)
    got = _run(model, lambda: shared_prefix_loss(model, batch, prefix))
    assert calls.sizes == [4]  # every row, no prefix pass
    _assert_same(got, want)
