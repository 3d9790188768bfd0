"""The TrainerCallback that streams progress to RUN_DIR/metrics.jsonl and obeys stop requests.

One JSON object per line, appended and flushed at once so the page can tail the file:
  {"type": "train", "step", "total_steps", "epoch", "loss", "learning_rate", "tokens_seen",
   "tokens_per_s", "elapsed_s", "eta_s", "memory_mb", "memory_kind", "time"}
  {"type": "eval", "step", "total_steps", "epoch", "eval_loss", "perplexity", "time"}
     (+ "accuracy" and "accuracy_rows", the validation examples it was scored on, for
      classification data, studio.train.accuracy)
  {"type": "budget", "total_steps", "planned_steps", "examples", "epochs", "deadline", ...}
     (a time-budgeted run's plan, studio.train.budget)
A stop request (RUN_DIR/STOP, SIGTERM, or Ctrl-C / SIGINT from a terminal) is checked after
every optimizer step: training saves a checkpoint and stops; the entry point then saves the
adapter and reports "cancelled". A second Ctrl-C quits at once (KeyboardInterrupt).
Under `accelerate launch` every rank runs this callback: the ranks agree on a stop (so they
all stop on the same step) and only the main process writes metrics.jsonl.
"""

from __future__ import annotations

import logging
import math
import time
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

from studio.jobs.child import StopRequest
from studio.jobs.run_folder import RunFolder
from studio.train.loglines import end_line, eval_line, train_line

log = logging.getLogger("studio.train")


def perplexity(loss: float) -> float:
    """exp(loss), inf when it overflows (or the loss is not finite)."""
    try:
        return math.exp(loss) if math.isfinite(loss) else math.inf
    except OverflowError:
        return math.inf


def memory_in_use() -> tuple[float, str]:
    """(MiB, "gpu"|"rss"): CUDA memory allocated if a GPU trains, else this process's RSS."""
    import torch

    if torch.cuda.is_available() and torch.cuda.is_initialized():
        return torch.cuda.memory_allocated() / 2**20, "gpu"
    import psutil

    return psutil.Process().memory_info().rss / 2**20, "rss"


def _finite(x: Any) -> Any:
    # JSON has no NaN/inf: write them as strings the page can show.
    if isinstance(x, float) and not math.isfinite(x):
        return str(x)
    return x


def any_rank(flag: bool, device: Any = None) -> bool:
    """True when `flag` is set on any process of a distributed run (else just `flag`)."""
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() < 2:
        return flag
    import torch

    votes = torch.tensor([1.0 if flag else 0.0], device=device)
    dist.all_reduce(votes, op=dist.ReduceOp.MAX)
    return bool(votes.item())


class MetricsCallback(TrainerCallback):
    """Appends metrics to metrics.jsonl; stops on a stop request or a NaN loss."""

    def __init__(self, run_dir: Path, stop: StopRequest):
        self.run = RunFolder(run_dir)
        self.stop = stop
        self.cancelled = False
        self.nan_step: int | None = None
        self.last_train: dict[str, Any] = {}
        self.last_eval: dict[str, Any] = {}
        self._t0 = time.time()
        self._last = (self._t0, 0)  # (time, tokens) at the previous log
        self._start_step = 0
        self.is_main = True  # only the main process of a distributed run writes the file
        self.reports_accuracy = False  # evaluations will carry "accuracy" (classification data)

    def write(self, record: dict[str, Any]) -> None:
        if not self.is_main:
            return
        self.run.append_metric({k: _finite(v) for k, v in record.items()}, sync=True)

    def _say(self, line: str) -> None:
        # train.log in words (studio.train.loglines), from the main process only.
        if self.is_main:
            log.info(line)

    def on_train_begin(self, args, state, control, **kwargs):
        self.is_main = bool(getattr(state, "is_world_process_zero", True))
        self._t0 = time.time()
        self._last = (self._t0, state.num_input_tokens_seen)
        self._start_step = state.global_step  # a resumed run counts speed from here
        self.write(
            {
                "type": "start",
                "step": state.global_step,
                "total_steps": state.max_steps,
                "time": time.time(),
                "reports_accuracy": self.reports_accuracy,
            }
        )

    def on_step_end(self, args, state, control, **kwargs):
        requested = self.stop.requested(state.global_step)
        # Every rank must stop on the same step, or the others hang in the next all-reduce.
        if not self.cancelled and any_rank(requested, getattr(args, "device", None)):
            self.cancelled = True
            control.should_save = True  # the checkpoint a resume continues from
            control.should_training_stop = True
        return control

    def on_epoch_end(self, args, state, control, **kwargs):
        if self.cancelled:
            # The stop step's checkpoint is saved already; evaluating now would move the RNG
            # past the state that checkpoint recorded, and a resume would diverge.
            control.should_evaluate = False
            control.should_save = False
        return control

    def on_log(self, args, state, control, logs=None, **kwargs):
        logs = logs or {}
        now = time.time()
        if "loss" in logs:
            loss = float(logs["loss"])
            tokens = int(state.num_input_tokens_seen or 0)
            dt = max(now - self._last[0], 1e-9)
            speed = (tokens - self._last[1]) / dt
            self._last = (now, tokens)
            elapsed = now - self._t0
            done = max(state.global_step - self._start_step, 1)
            eta = elapsed / done * max(state.max_steps - state.global_step, 0)
            mem, kind = memory_in_use()
            self.last_train = {
                "type": "train",
                "step": state.global_step,
                "total_steps": state.max_steps,
                "epoch": round(float(state.epoch or 0), 4),
                "loss": loss,
                "learning_rate": float(logs.get("learning_rate", 0.0)),
                "tokens_seen": tokens,
                "tokens_per_s": round(speed, 1),
                "elapsed_s": round(elapsed, 2),
                "eta_s": round(eta, 1),
                "memory_mb": round(mem, 1),
                "memory_kind": kind,
                "time": now,
            }
            self.write(self.last_train)
            self._say(train_line(self.last_train, logs))
            if not math.isfinite(loss):
                self.nan_step = state.global_step
                control.should_training_stop = True
        if "eval_loss" in logs:
            eval_loss = float(logs["eval_loss"])
            self.last_eval = {
                "type": "eval",
                "step": state.global_step,
                "total_steps": state.max_steps,
                "epoch": round(float(state.epoch or 0), 4),
                "eval_loss": eval_loss,
                "perplexity": perplexity(eval_loss),
                "time": now,
            }
            if "eval_accuracy" in logs:  # classification data: scored by label probabilities
                self.last_eval["accuracy"] = float(logs["eval_accuracy"])
                self.last_eval["accuracy_rows"] = int(logs.get("eval_accuracy_rows") or 0)
            self.write(self.last_eval)
            self._say(eval_line(self.last_eval, logs))
        if "train_loss" in logs:  # the Trainer's closing log (every log has train_runtime)
            self._say(end_line(state.global_step, logs))
        return control
