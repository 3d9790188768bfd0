"""What the studio's Trainer adds to transformers' Trainer, as a mixin.

- the LM head and loss only at labelled positions (studio.train.headonly) for training steps
  and for the eval loss;
- validation accuracy by label probabilities in every evaluation's metrics ("eval_accuracy"),
  so it reaches metrics.jsonl, the chart and `metric_for_best_model: "accuracy"`;
- the duration of the last evaluation, which the time budget keeps back for the final one;
- packed training batches (studio.train.packing, studio setting `packing`): the same examples
  per step in fewer rows; evaluation stays unpacked;
- the prompt prefix every row of a training batch shares computed once per batch
  (studio.train.sharedprefix, studio setting `share_prefix`, on where it applies; head-only only),
  in training and evaluation batches alike.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from studio.configs.runs import TrainRun
from studio.errors import ConfigError, Problem
from studio.train.data import TokenizedDataset
from studio.train.headonly import head_only_loss, supports_head_only
from studio.train.packing import PackCollator, attention_kind, real_positions, supports_packing
from studio.train.sharedprefix import (
    shared_prefix_length,
    shared_prefix_loss,
    supports_prefix_share,
)

log = logging.getLogger("studio.train")


class StudioTrainerMixin:
    """Mix in before transformers.Trainer; set `head_only` and `accuracy` after construction."""

    head_only: bool = False
    share_prefix: bool = False  # compute a prefix shared by every row once (head-only loss)
    shared_batches: int = 0  # training batches whose shared prefix was computed once
    packer: Any = None  # a PackCollator when training batches are packed
    accuracy: Any = None  # a studio.train.accuracy.LabelAccuracy, for classification data
    last_eval_s: float = 0.0

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        if not self.head_only or return_outputs or "labels" not in inputs:
            return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
        given = num_items_in_batch if self.model_accepts_loss_kwargs else None
        prefix = shared_prefix_length(inputs) if self.share_prefix else 0
        if prefix:
            self.shared_batches += 1
            loss = shared_prefix_loss(model, inputs, prefix, given)
        else:
            loss = head_only_loss(model, inputs, given)
        # The same rescaling transformers applies when the loss is averaged over all devices.
        if self.args.average_tokens_across_devices and given is not None:
            loss = loss * self.accelerator.num_processes
        return loss

    def prediction_step(self, model, inputs, prediction_loss_only, ignore_keys=None):
        # An evaluation that wants the loss alone (the eval loss: no compute_metrics) gets it
        # as training does: the head at labelled positions only, the shared prefix once.
        if not (prediction_loss_only and self.head_only and "labels" in inputs):
            return super().prediction_step(model, inputs, prediction_loss_only, ignore_keys)
        import torch

        inputs = self._prepare_inputs(inputs)
        count = self._get_num_items_in_batch([inputs], self.args.device)
        trained_batches = self.shared_batches  # counts training batches only
        with torch.no_grad(), self.compute_loss_context_manager():
            loss = self.compute_loss(model, inputs, num_items_in_batch=count)
        self.shared_batches = trained_batches
        return loss.detach().mean(), None, None

    def _track_num_input_tokens(self, inputs):
        # A packed batch's 4D mask is no count of tokens: count the positions that are examples.
        mask = inputs.get("attention_mask")
        if mask is not None and mask.dim() == 4:
            inputs = {**inputs, "attention_mask": real_positions(mask)}
        return super()._track_num_input_tokens(inputs)

    def evaluation_loop(
        self,
        dataloader,
        description,
        prediction_loss_only=None,
        ignore_keys=None,
        metric_key_prefix="eval",
    ):
        output = super().evaluation_loop(
            dataloader, description, prediction_loss_only, ignore_keys, metric_key_prefix
        )
        if self.accuracy is not None:
            output.metrics[f"{metric_key_prefix}_accuracy"] = self.accuracy.score(self.model)
            # The page says how many rows the accuracy stands on (a sample of at most 100).
            output.metrics[f"{metric_key_prefix}_accuracy_rows"] = len(self.accuracy.examples)
        return output

    def eval_rows(self) -> int:
        """Rows one evaluation scores: the eval-loss rows plus one per accuracy example (its
        prompt runs once for all labels: studio.scoring.prompted)."""
        n_eval = len(self.eval_dataset) if self.eval_dataset is not None else 0
        acc = self.accuracy
        return n_eval + (len(acc.examples) if acc is not None else 0)

    def limit_eval(self, share: float) -> None:
        """Evaluate on the first `share` of the validation rows (a time budget's choice)."""

        if self.eval_dataset is not None:
            rows = self.eval_dataset.rows
            self.eval_dataset = TokenizedDataset(rows[: max(1, int(len(rows) * share))])
        if self.accuracy is not None:
            self.accuracy.limit(max(1, int(len(self.accuracy.examples) * share)))

    def evaluate(self, *args, **kwargs):
        started = time.time()
        try:
            return super().evaluate(*args, **kwargs)
        finally:
            self.last_eval_s = time.time() - started


def configure_extras(trainer: Any, run: TrainRun, model: Any, budget: Any, accuracy: Any) -> None:
    """Switch on what applies to this run (studio.head_only false turns the head trick off)."""

    # Several processes train with the full head: with the head-only loss, a stopped and
    # resumed two-process run drifts from the uninterrupted one (about 3e-3 in the adapter
    # weights, tests/integration/test_distributed.py), so exact resume wins there.
    trainer.head_only = (
        run.studio.head_only
        and trainer.args.world_size == 1
        and supports_head_only(model, run.model_type)
    )
    trainer.packer = packer_for(
        run.studio.packing,
        run.model_type,
        int(run.tokenizer["max_length"]),
        model,
        trainer.processing_class,
    )
    trainer.share_prefix = share_prefix_for(
        run.studio.share_prefix,
        run.trainer,
        run.model_type,
        model,
        trainer.head_only,
        trainer.packer,
        trainer.args.n_gpu,
    )
    trainer.accuracy = accuracy
    # train.log gets readable lines from the metrics callback (studio.train.loglines), not
    # the Trainer's raw log dicts.
    from transformers.trainer_callback import PrinterCallback, ProgressCallback

    trainer.remove_callback(PrinterCallback)
    trainer.remove_callback(ProgressCallback)
    if budget is not None:
        budget.trainer = trainer
    # An optional TrainingArguments key: absent, the Trainer keeps the last checkpoint.
    best = str(run.trainer.get("metric_for_best_model") or "")
    if best.removeprefix("eval_") == "accuracy" and accuracy is None:
        raise ConfigError(
            Problem(
                "trainer.metric_for_best_model",
                "is 'accuracy', but this dataset version is not classification-style (or has "
                "no validation rows): use 'eval_loss' instead.",
            )
        )


def packer_for(
    packing: bool, model_type: str, max_length: int, model: Any, tokenizer: Any
) -> PackCollator | None:
    """The packing collator when studio.packing asks for it and the model supports it."""
    if not packing:
        return None
    if not supports_packing(model, model_type):
        log.warning(
            "studio.packing: not applied (%s model with %s attention); training unpacked",
            model_type,
            attention_kind(model),
        )
        return None
    dtype = next((p.dtype for p in model.parameters() if p.is_floating_point()), None)
    return PackCollator(tokenizer.pad_token_id, max_length, attention_kind(model), dtype)


# Trainer settings under which a prefix computed apart would not give the same training:
# checkpointed layers drop the cache (the Trainer turns checkpointing on only once training
# starts, after this check could see it on the model); NEFTune scales its noise by each
# call's length; torch.compile would trace the cached call again.
NO_SHARE_WITH = (
    "gradient_checkpointing",
    "activation_checkpointing",
    "neftune_noise_alpha",
    "torch_compile",
)


def share_prefix_for(
    wanted: bool | None,
    trainer: dict[str, Any],
    model_type: str,
    model: Any,
    head_only: bool,
    packer: Any,
    n_gpu: int = 1,
) -> bool:
    """Whether training batches compute their shared prompt prefix once (studio.share_prefix:
    None = wherever it applies, silently; True = the same, saying why where it cannot; False
    = never): with the head-only loss, unpacked, one device per process, on a model that
    supports it, and none of the trainer dict's NO_SHARE_WITH set."""
    if wanted is False:
        return False
    # Packed rows share nothing; several GPUs in one process get a DataParallel wrapper.
    if not head_only or packer is not None or n_gpu > 1:
        return False
    clash = [key for key in NO_SHARE_WITH if trainer.get(key)]
    if clash:
        if wanted:
            log.warning(
                "studio.share_prefix: not applied with %s; each row computes its own prefix",
                ", ".join(clash),
            )
        return False
    if not supports_prefix_share(model, model_type):
        if wanted:
            log.warning(
                "studio.share_prefix: not applied (%s, %s attention, or activation "
                "checkpointing); each row computes its own prefix",
                getattr(getattr(model, "config", None), "model_type", model_type),
                attention_kind(model),
            )
        return False
    return True
