"""One training run, start to finish: data -> model -> Trainer -> adapter + summary.

`run_training(run, folder, resume)` trains the TrainRun (studio.configs.runs, read from the
run folder's config.json) and returns the status.json dict; studio.train.main turns any
exception into a failed status with a one-line reason.
"""

from __future__ import annotations

import logging
import time
from functools import partial
from pathlib import Path
from typing import Any

from studio.configs.runs import TrainRun
from studio.configs.training_args import training_arguments
from studio.errors import ConfigError, Problem, StudioError
from studio.jobs.child import StopRequest
from studio.jobs.run_folder import RunFolder
from studio.prompts.layout import training_layout
from studio.store.job_states import CANCELLED, SUCCEEDED
from studio.train.accuracy import LabelAccuracy
from studio.train.batching import (
    LengthGroupedSampler,
    PadCollator,
    RankBatchSampler,
    seq2seq_collator,
)
from studio.train.budget import budget_reason, time_budget
from studio.train.callbacks import MetricsCallback, perplexity
from studio.train.config import check_rejected_share
from studio.train.data import load_splits, tokenize_all
from studio.train.extras import StudioTrainerMixin, configure_extras
from studio.train.model import build_model, build_tokenizer, count_parameters
from studio.train.timing import RunClock
from studio.vocab.examples import Example

log = logging.getLogger("studio.train")


class NanLossError(StudioError):
    """The loss stopped being a number (the message says what to change)."""


def check_strategy(trainer: dict[str, Any], cuda: bool) -> None:
    """Refuse FSDP without CUDA GPUs, with the reason (a hand-written config gets it too)."""
    fsdp = trainer.get("fsdp")  # an optional TrainingArguments key
    if fsdp and not cuda:
        raise ConfigError(
            Problem(
                "trainer.fsdp",
                f"{fsdp!r} shards the model over CUDA GPUs and this machine has none; remove it "
                "(several CPU processes train data-parallel without it) or train on GPUs.",
            )
        )


def make_trainer(
    run: TrainRun, model, tokenizer, train_ds, eval_ds, args, callbacks, batching="grouped"
):
    """A Trainer whose batches are length-grouped and padded per batch ("grouped"), or the
    plain baseline: random order, everything padded to max_length ("padded")."""
    from transformers import Trainer

    pad_to = int(run.tokenizer["max_length"]) if batching == "padded" else None
    if run.model_type == "seq2seq":
        collator = seq2seq_collator(tokenizer, model, pad_to)
    else:
        collator = PadCollator(tokenizer.pad_token_id, pad_to)
    # A train_sampling_strategy in the trainer dict asks for the Trainer's own batch order.
    grouped = batching == "grouped" and "train_sampling_strategy" not in run.trainer

    class StudioTrainer(StudioTrainerMixin, Trainer):
        def get_train_dataloader(self):
            if not grouped:
                if self.packer is None:
                    return super().get_train_dataloader()
                saved, self.data_collator = self.data_collator, self.packer
                try:
                    return super().get_train_dataloader()
                finally:
                    self.data_collator = saved
            from torch.utils.data import DataLoader
            from transformers.trainer_utils import seed_worker

            a = self.args
            data_seed = a.data_seed if a.data_seed is not None else a.seed
            world = a.world_size
            # Every rank builds the same global batches (per_device x processes) from
            # (seed, epoch) and keeps its own slice of each.
            grouped_sampler = LengthGroupedSampler(
                train_ds.lengths, a.train_batch_size * world, data_seed
            )
            sampler = RankBatchSampler(
                grouped_sampler, world, a.process_index, drop_last=a.dataloader_drop_last
            )
            if run.debug.get("log_batches"):  # tests: which rank saw what
                rank = a.process_index
                sampler.on_batch = lambda b: log.warning(
                    "rank %d epoch %d batch %s", rank, grouped_sampler.epoch, b
                )
            params = dict(
                batch_sampler=sampler,
                collate_fn=self.packer or self.data_collator,
                num_workers=a.dataloader_num_workers,
                pin_memory=a.dataloader_pin_memory,
                worker_init_fn=partial(
                    seed_worker, num_workers=a.dataloader_num_workers, rank=a.process_index
                ),
            )
            if a.dataloader_num_workers > 0:
                params.update(
                    persistent_workers=a.dataloader_persistent_workers,
                    prefetch_factor=a.dataloader_prefetch_factor,
                )
            loader = self.accelerator.prepare(DataLoader(train_ds, **params))
            # accelerate wraps a batch sampler in a BatchSamplerShard that deals batches out
            # round-robin; ours is sharded already, so that wrapper must pass it through (as
            # the Trainer does for its own rank-aware BatchRebalanceSampler).
            wrapper = getattr(loader, "batch_sampler", None)
            if wrapper is not None and getattr(wrapper, "batch_sampler", None) is sampler:
                wrapper.num_processes, wrapper.process_index = 1, 0
            return loader

    return StudioTrainer(
        model=model,
        args=args,
        train_dataset=train_ds,
        eval_dataset=eval_ds,
        data_collator=collator,
        processing_class=tokenizer,
        callbacks=callbacks,
    )


def save_trained(
    trainer, tokenizer, run: TrainRun, folder: RunFolder, examples: list[Example]
) -> Path:
    """RUN_DIR/adapter: the adapter (or full model), the tokenizer and studio.json, which
    records the prompt layout of the training `examples`."""
    out = folder.adapter_dir
    trainer.save_model(str(out))
    (out / "training_args.bin").unlink(missing_ok=True)  # a pickle; the run folder has config.json
    tokenizer.save_pretrained(str(out))
    meta = {
        "base_model": run.base_model,
        "model_type": run.model_type,
        "method": run.method,
        "prompt_format": run.tokenizer["prompt_format"],
        "max_length": run.tokenizer["max_length"],
        "template": run.template,
        "job_id": run.job_id,
        "model_id": run.model_id,
    }
    # Generation prompts with the section style and preamble the examples were trained with.
    meta.update(training_layout(examples).to_meta())
    folder.write_meta(meta)
    return out


def run_training(run: TrainRun, folder: RunFolder, resume: bool = False) -> dict[str, Any]:
    """Train `run` in `folder`; returns {"status", "reason", "summary"}."""
    import torch

    clock = RunClock()  # a time budget counts from the job process's start
    started = clock.started
    stop = StopRequest(folder.path)
    stop.install()
    if not resume:
        stop.stop_after_step = run.debug.get("stop_after_step")
    check_rejected_share(run.data, run.studio.invalid_tolerance_pct)
    check_strategy(run.trainer, torch.cuda.is_available())
    settings = run.settings()
    seed = int(run.trainer["seed"])
    from transformers import set_seed

    set_seed(seed)
    tokenizer = build_tokenizer(run, settings)
    train_ex, valid_ex = load_splits(run.data, run.studio.valid_pct, seed)
    train_ds, eval_ds = (
        tokenize_all(ex, tokenizer, run.tokenizer, run.model_type, run.studio.response_only)
        for ex in (train_ex, valid_ex)
    )
    log.info("data: %d training and %d validation examples", len(train_ds), len(eval_ds))
    model = build_model(run, settings, tokenizer)
    trainable, total = count_parameters(model)
    log.info(
        "model: %s (%s), %d of %d parameters trainable",
        run.base_model,
        run.method,
        trainable,
        total,
    )
    args = training_arguments(
        run.trainer, run.method, folder.checkpoints_dir, has_eval=len(eval_ds) > 0
    )
    metrics = MetricsCallback(folder.path, stop)
    budget = time_budget(
        run.studio.time_budget_min, folder.path, started, metrics, args, len(train_ds), clock
    )
    callbacks = [metrics, clock] + ([budget] if budget else [])
    trainer = make_trainer(run, model, tokenizer, train_ds, eval_ds or None, args, callbacks)
    accuracy = LabelAccuracy.for_run(train_ex, valid_ex, tokenizer, run) if eval_ds else None
    configure_extras(trainer, run, model, budget, accuracy)
    clock.rows = trainer.eval_rows
    metrics.reports_accuracy = accuracy is not None
    checkpoint = folder.last_checkpoint() if resume else None
    if resume and checkpoint is None:
        log.warning("no complete checkpoint in %s: starting from the beginning", folder.path)
    log.info("training%s", f" (resuming from {checkpoint.name})" if checkpoint else "")
    output = trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
    final_lr = trainer.lr_scheduler.get_last_lr()[0] if trainer.lr_scheduler else None
    if metrics.nan_step is not None:
        raise NanLossError(
            f"The loss became NaN at step {metrics.nan_step}; lower the learning rate (e.g. "
            "divide it by 10), or train in fp32 instead of fp16/bf16."
        )
    step = trainer.state.global_step
    if eval_ds and not metrics.cancelled and metrics.last_eval.get("step") != step:
        trainer.evaluate()  # the summary's eval loss belongs to the final weights
    if trainer.is_world_process_zero():  # under accelerate launch, one rank writes the adapter
        saving = time.time()
        save_trained(trainer, tokenizer, run, folder, train_ex + valid_ex)
        clock.adapter_save_s = time.time() - saving
    eval_loss = metrics.last_eval.get("eval_loss")
    summary = {
        "train_loss": metrics.last_train.get("loss", output.training_loss),
        "mean_train_loss": output.training_loss,
        "eval_loss": eval_loss,
        "perplexity": perplexity(eval_loss) if eval_loss is not None else None,
        "steps": step,
        "total_steps": trainer.state.max_steps,
        "epochs": round(float(trainer.state.epoch or 0), 4),
        "runtime_s": round(time.time() - started, 2),
        "tokens_seen": int(trainer.state.num_input_tokens_seen or 0),
        "trainable_params": trainable,
        "total_params": total,
        "n_train": len(train_ds),
        "n_valid": len(eval_ds),
        "resumed_from": checkpoint.name if checkpoint else None,
        "processes": args.world_size,
        "global_batch": args.per_device_train_batch_size
        * args.world_size
        * args.gradient_accumulation_steps,
        "eval_accuracy": metrics.last_eval.get("accuracy"),
        "final_learning_rate": final_lr,
        "head_only": trainer.head_only,
        "packing": trainer.packer is not None,
        "share_prefix": trainer.share_prefix,
        "shared_prefix_batches": trainer.shared_batches,
        "time_budget": budget.summary() if budget else None,
        "timing": clock.summary(),
        "accuracy_rows": len(accuracy.examples) if accuracy else None,
    }
    if metrics.cancelled:
        reason = f"Stopped on request at step {step} of {trainer.state.max_steps}; press Resume to continue."
        return {"status": CANCELLED, "reason": reason, "summary": summary}
    return {"status": SUCCEEDED, "reason": budget_reason(budget, step), "summary": summary}
