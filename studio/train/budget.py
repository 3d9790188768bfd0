"""Train for at most N minutes: fit the whole learning-rate schedule into a time budget.

The budget is the whole job: the deadline counts from the start of the job's process
(imports and loading included: it is the user's wait), and the final evaluation, the final
checkpoint, the adapter save and the exit must end by it. After every optimizer step the
callback measures the time per step (the first step alone at first, a pessimistic guess that
includes one-off costs, then the mean since the first step, evaluations and checkpoints
included) and works out how many steps fit before the deadline (studio.jobs.step_plan),
keeping back the final evaluation (the last one timed, else an estimate) and the saves (the
last checkpoint save timed by studio.train.timing.RunClock, else a guess). It makes that
number the run's total: `state.max_steps` becomes the chosen total (so the Trainer ends there normally:
stopping at the budget is a success) and the scheduler is recreated for that total (its
warm-up capped at a tenth of it) and moved to the current step, so warm-up and decay both
complete by the deadline. The total never exceeds what the epochs asked for; it shrinks as
soon as the deadline needs it and grows back only by a clear margin. On a machine so slow
that one evaluation would take more than a tenth of the budget, evaluations use a matching
share of the validation rows. Every new plan is written to metrics.jsonl as a "budget" record
and to RUN_DIR/budget.json, which a resumed run applies again (the checkpoint's scheduler
state does not carry its total) and then re-plans against a fresh budget. In a distributed run
the processes agree on the smallest total, so they all stop on the same step. The plan is
independent of how batches are drawn or sharded.
"""

from __future__ import annotations

import json
import logging
import math
import time
import warnings
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

from studio.jobs.run_folder import RunFolder
from studio.jobs.step_plan import coverage, final_reserve, steps_that_fit

log = logging.getLogger("studio.train")
MEASURE_STEPS = 3  # steps timed before the evaluation is fitted to the budget
REPLAN_UP = 1.05  # a plan grows back only when 5% more steps fit
WARMUP_CAP = 0.1  # at most this share of a shortened run warms up
EVAL_COST = 0.35  # one scored row vs one trained row, until an evaluation is timed
EVAL_SHARE = 0.1  # the most of the budget one evaluation may take


class TimeBudget(TrainerCallback):
    """Shrinks the run (steps and LR schedule) to end by `started + seconds`."""

    def __init__(
        self,
        run_dir: Path,
        seconds: float,
        started: float,
        write=None,
        batch: int = 1,
        n_train: int = 1,
        accum: int = 1,
        clock: Any = None,
    ):
        self.run_dir, self.seconds = Path(run_dir), float(seconds)
        self.budget_path = RunFolder(run_dir).budget_path
        self.deadline = started + self.seconds
        self.write = write or (lambda record: None)
        # `batch`: examples per forward batch, all processes together; `accum` per step.
        self.batch, self.accum = max(1, batch), max(1, accum)
        self.examples_per_step, self.n_train = self.batch * self.accum, max(1, n_train)
        self.clock = clock  # a studio.train.timing.RunClock: the checkpoint save's time
        self.trainer: Any = None  # set by the runner once the Trainer exists
        self.planned: int | None = None  # the steps the epochs asked for
        self.total: int | None = None  # the steps chosen to fit the budget
        self.step_s: float | None = None
        self._mark: tuple[float, int] | None = None  # (time, step) at the end of the first step
        self._warmup0 = 0
        self._begin = time.time()
        self._eval_fitted = False

    # -- the plan ---------------------------------------------------------------------------
    def _fit(self, now: float, step: int) -> int:
        """The total steps that end by the deadline at the measured pace, the final
        evaluation, saves and exit kept back."""
        if not self.step_s:
            return self.planned
        return step + steps_that_fit(self.deadline - now, self.step_s, self.reserve())

    def reserve(self) -> float:
        """Seconds kept back after the last step (studio.jobs.step_plan.final_reserve)."""
        eval_s = float(getattr(self.trainer, "last_eval_s", 0.0) or 0.0)
        if not eval_s and self.step_s:
            eval_s = self.eval_estimate()
        save_s = getattr(self.clock, "save_s", None)
        args = getattr(self.trainer, "args", None)
        checkpoint = str(getattr(args, "save_strategy", "no")).split(".")[-1].lower() != "no"
        return final_reserve(eval_s, save_s, checkpoint)

    def eval_estimate(self) -> float:
        """Seconds one evaluation should take, before one was timed: scoring a row (forward
        only) costs about EVAL_COST of training on it (forward and backward)."""
        rows = self.trainer.eval_rows() if hasattr(self.trainer, "eval_rows") else 0
        return EVAL_COST * (self.step_s or 0.0) * rows / self.examples_per_step

    def fit_evaluation(self) -> None:
        """On a slow machine, validate on fewer rows so that one evaluation takes at most
        EVAL_SHARE of the budget (else the final one alone could eat the training time)."""
        cost = self.eval_estimate()
        if cost > EVAL_SHARE * self.seconds and hasattr(self.trainer, "limit_eval"):
            before = self.trainer.eval_rows()
            self.trainer.limit_eval(EVAL_SHARE * self.seconds / cost)
            log.info(
                "time budget: evaluating on %d of %d validation rows (one evaluation "
                "would take about %.0fs)",
                self.trainer.eval_rows(),
                before,
                cost,
            )

    def warmup_for(self, total: int) -> int:
        """Warm-up steps for a run cut to `total`: a ratio stays a ratio; a number of steps
        stays as it is unless it would take more than WARMUP_CAP of the shorter run."""
        args = self.trainer.args
        if 0 < args.warmup_steps < 1:
            return min(int(args.get_warmup_steps(total)), total)
        return min(self._warmup0, math.ceil(WARMUP_CAP * total))

    def apply(self, total: int, step: int) -> None:
        """Make `total` the last step: state.max_steps and a scheduler rebuilt for it."""
        from transformers import get_scheduler

        trainer = self.trainer
        args = trainer.args
        warmup = self.warmup_for(total)
        optimizer = getattr(trainer.optimizer, "optimizer", trainer.optimizer)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "scheduler.step() before optimizer.step()"
            scheduler = get_scheduler(
                args.lr_scheduler_type,
                optimizer,
                num_warmup_steps=warmup,
                num_training_steps=total,
                scheduler_specific_kwargs=args.lr_scheduler_kwargs,
            )
            # LambdaLR computes lr from base_lrs (the peak, kept in group["initial_lr"]) and
            # last_epoch alone: put it where the old one was.
            scheduler.last_epoch = step - 1
            scheduler.step()
        trainer.lr_scheduler = scheduler
        trainer.state.max_steps = total
        self.total = total
        covered = coverage(total, self.n_train, self.batch, self.accum)
        record = {
            "type": "budget",
            "budget_s": self.seconds,
            "deadline": self.deadline,
            "step": step,
            "total_steps": total,
            "planned_steps": self.planned,
            "warmup_steps": warmup,
            "step_s": self.step_s,
            "examples": covered.examples,
            "epochs": round(covered.epochs, 3),
            "reserve_s": round(self.reserve(), 2) if self.step_s else None,
            "time": time.time(),
        }
        self.write(record)  # the metrics callback writes on the main process only
        if getattr(trainer.state, "is_world_process_zero", True):
            self.budget_path.write_text(json.dumps(record, indent=2))
        log.info(
            "time budget %.0fs: %d of %d planned steps (%d examples, %.2f epochs), %.2fs per step",
            self.seconds,
            total,
            self.planned,
            record["examples"],
            record["epochs"],
            self.step_s or 0.0,
        )

    def summary(self) -> dict[str, Any]:
        """What the run's summary says about the budget."""
        total = self.total or self.planned
        return {
            "budget_s": self.seconds,
            "planned_steps": self.planned,
            "chosen_steps": total,
            "step_s": self.step_s,
            "shrunk": (total or 0) < (self.planned or 0),
        }

    # -- callback hooks ---------------------------------------------------------------------
    def on_train_begin(self, args, state, control, **kwargs):
        self._begin = time.time()
        self.planned = int(state.max_steps)
        self._warmup0 = int(args.get_warmup_steps(self.planned))
        saved = self.budget_path
        if state.global_step > 0 and saved.is_file():
            # A resume: continue the plan the first part chose (its scheduler state has no total).
            plan = json.loads(saved.read_text())
            self.planned = int(plan.get("planned_steps") or self.planned)
            self.step_s = plan.get("step_s")
            self.apply(max(int(plan["total_steps"]), state.global_step), state.global_step)
        return control

    def on_step_end(self, args, state, control, **kwargs):
        if control.should_training_stop:
            return control  # the chosen total is reached (or a stop was asked): no re-plan
        now, step = time.time(), state.global_step
        if self._mark is None:
            # The first step (with its one-off costs) gives a pessimistic first plan, so that
            # on a very slow machine the schedule is fitted before the deadline is near.
            self.step_s = now - self._begin
            self._mark, measured = (now, step), 0
        else:
            t0, s0 = self._mark
            self.step_s = (now - t0) / max(step - s0, 1)
            measured = step - s0
        # Fit the evaluation once the pace is known, or at once when the run must end soon.
        if not self._eval_fitted and (measured >= MEASURE_STEPS or self._fit(now, step) <= step):
            self._eval_fitted = True
            self.fit_evaluation()
        current = self.total or self.planned or state.max_steps
        fit = agree_on_fewest(min(self._fit(now, step), self.planned or current), args)
        # Shrink whenever the deadline needs it; grow back (up to the plan the epochs asked
        # for) only by a clear margin, so the schedule does not twitch with every step.
        if self.total is None or fit < current or fit > current * REPLAN_UP + 1:
            self.apply(max(fit, step), step)
        if step >= (self.total or current):
            control.should_training_stop = True
        return control


def agree_on_fewest(steps: int, args: Any = None) -> int:
    """The smallest `steps` over the processes of a distributed run (each has its own clock;
    they must all stop on the same step)."""
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() < 2:
        return steps
    import torch

    value = torch.tensor([steps], dtype=torch.long, device=getattr(args, "device", None))
    dist.all_reduce(value, op=dist.ReduceOp.MIN)
    return int(value.item())


def time_budget(
    minutes: float,
    run_dir: Path,
    started: float,
    metrics: Any,
    args: Any,
    n_train: int,
    clock: Any = None,
) -> TimeBudget | None:
    """The TimeBudget for studio.time_budget_min (None when it is 0); `started` is when the
    job's process started."""
    if float(minutes) <= 0:
        return None
    batch = args.per_device_train_batch_size * max(1, args.world_size)
    return TimeBudget(
        run_dir,
        minutes * 60,
        started,
        metrics.write,
        batch,
        n_train,
        args.gradient_accumulation_steps,
        clock,
    )


def budget_reason(budget: TimeBudget | None, step: int) -> str:
    """The succeeded run's note when the budget shortened it (else "")."""
    if budget is None or not budget.summary()["shrunk"]:
        return ""
    epochs = coverage(step, budget.n_train, budget.batch, budget.accum).epochs
    return (
        f"Finished within the {budget.seconds / 60:g}-minute time budget: {step} of "
        f"{budget.planned} planned steps ({epochs:.2f} epochs)."
    )
