"""The eval loss computed as training computes its loss (head at labelled positions only, the
shared prompt prefix once per batch) equals the Trainer's own full-logits eval loss."""

from __future__ import annotations

import pytest
import torch

from studio.scoring import kvcache
from studio.train.batching import PadCollator
from studio.train.data import TokenizedDataset
from studio.train.extras import StudioTrainerMixin
from tests.unit.train.test_prefix_share import PAD, _lora, _rows, _tiny


def _trainer(tmp_path, model, head_only: bool, share: bool):
    from transformers import Trainer, TrainingArguments

    class _T(StudioTrainerMixin, Trainer):
        pass

    args = TrainingArguments(
        output_dir=str(tmp_path / "out"),
        per_device_eval_batch_size=3,
        report_to="none",
        use_cpu=True,
    )
    rows = _rows(lengths=(20, 14, 17, 12, 25, 16, 11))
    trainer = _T(
        model=model,
        args=args,
        eval_dataset=TokenizedDataset(rows),
        data_collator=PadCollator(PAD),
    )
    trainer.head_only, trainer.share_prefix = head_only, share
    return trainer


@pytest.mark.parametrize("lora", [False, True])
def test_eval_loss_as_training_computes_it(tmp_path, monkeypatch, lora):
    model = _tiny()
    if lora:
        model = _lora(model)
    full = _trainer(tmp_path, model, False, False).evaluate()["eval_loss"]
    prefixes = []
    real = kvcache.run_prefix
    monkeypatch.setattr(
        "studio.train.sharedprefix.run_prefix", lambda *a: prefixes.append(a[2]) or real(*a)
    )
    shared = _trainer(tmp_path, model, True, True)
    fast = shared.evaluate()["eval_loss"]
    assert prefixes == [3, 3]  # 7 rows in batches of 3: the last batch of 1 shares nothing
    assert shared.shared_batches == 0  # evaluation batches are not counted as training ones
    head_only = _trainer(tmp_path, model, True, False).evaluate()["eval_loss"]
    assert fast == pytest.approx(full, rel=1e-5)
    assert head_only == pytest.approx(full, rel=1e-5)
    assert torch.isfinite(torch.tensor(full))
