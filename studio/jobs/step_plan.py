"""How far a number of training steps goes, and what a time budget leaves room for.

One home for the arithmetic that the trainer's time budget (studio.train.budget), the Train
tab's plan (studio.ui.train.plan) and its status line share, so that all three say the
same numbers ("18 steps = 132 examples = 2.00 epochs"):

- steps per epoch as the Trainer counts them: the batches of an epoch (the last one partial)
  grouped by gradient accumulation, the last group partial;
- the examples seen and the epochs covered after some steps;
- how many steps fit in the time left, after keeping back the final evaluation, the final
  saves and the process's exit.

No torch here: the page imports it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from studio.configs.table import SETTINGS

MARGIN = 0.97  # plan for 97% of the time left: the step time wanders on a busy machine
EXIT_S = 3.0  # writing the summary, the process's exit, the runner noticing it
SAVE_GUESS_S = 3.0  # one checkpoint save, until one is timed
# Validation examples scored for accuracy (each costs training time): studio.accuracy_examples.
ACCURACY_SAMPLE = SETTINGS["accuracy_examples"].default


@dataclass(frozen=True)
class Coverage:
    """What `steps` optimizer steps cover of a training set."""

    steps: int
    examples: int  # examples seen, counting each pass over the data
    epochs: float  # steps / steps per epoch, as the Trainer's epoch counter reads
    steps_per_epoch: int

    def text(self) -> str:
        """'18 steps = 132 examples = 2.00 epochs'"""
        return f"{self.steps} steps = {self.examples} examples = {self.epochs:.2f} epochs"


def steps_per_epoch(n_train: int, batch: int, accum: int = 1) -> int:
    """Optimizer steps in one pass over `n_train` examples, `batch` examples per forward
    batch (all processes together) and `accum` batches per step."""
    batches = math.ceil(max(1, n_train) / max(1, batch))
    return max(1, math.ceil(batches / max(1, accum)))


def coverage(steps: int, n_train: int, batch: int, accum: int = 1) -> Coverage:
    """The examples and epochs `steps` steps cover (the last batch of an epoch is partial)."""
    per_epoch = steps_per_epoch(n_train, batch, accum)
    full, rest = divmod(max(0, int(steps)), per_epoch)
    examples = full * n_train + min(n_train, rest * max(1, accum) * max(1, batch))
    return Coverage(int(steps), examples, steps / per_epoch, per_epoch)


def planned_steps(n_train: int, batch: int, accum: int, epochs: float, max_steps: int) -> int:
    """The steps a run takes without a time budget: max_steps, else the epochs' steps."""
    if max_steps and max_steps > 0:
        return int(max_steps)
    return math.ceil(float(epochs or 1) * steps_per_epoch(n_train, batch, accum))


def accuracy_rows(n_valid: int, sample: int = ACCURACY_SAMPLE) -> int:
    """Validation examples a classification run scores for its accuracy (at most `sample`,
    the run's studio.accuracy_examples)."""
    return min(max(0, int(n_valid)), max(0, int(sample)))


def evaluations(steps: int, trainer: dict, per_epoch: int, planned: int | None = None) -> int:
    """Evaluations a run of `steps` steps makes, the final one included (0 when it makes
    none), from the trainer dict's eval_strategy / eval_steps. An eval_steps under 1 is a
    share of the steps planned at the start (`planned`, default `steps`), as the Trainer
    reads it: a run a time budget shortens keeps the interval of its first plan."""
    strategy = str(trainer.get("eval_strategy") or "epoch")
    if strategy == "no" or steps <= 0:
        return 0
    if strategy == "steps":
        every = float(trainer.get("eval_steps") or 0)
        if 0 < every < 1:
            interval = math.ceil(every * (planned or steps))
        else:
            interval = int(every) if every >= 1 else steps
        interval = max(1, interval)
        return steps // interval + (1 if steps % interval else 0)
    return math.ceil(steps / max(1, per_epoch))  # by epoch, and the final one


def final_reserve(eval_s: float, save_s: float | None, checkpoint: bool) -> float:
    """Seconds to keep back after the last step: the final evaluation, the final checkpoint
    (when the run saves them), the adapter (about a checkpoint's weights without the
    optimizer state: half a checkpoint save is kept for it) and the exit."""
    save = SAVE_GUESS_S if save_s is None else float(save_s)
    return float(eval_s) + (save if checkpoint else 0.0) + 0.5 * save + EXIT_S


def steps_that_fit(seconds_left: float, step_s: float, reserve_s: float) -> int:
    """Whole steps of `step_s` seconds that fit in `seconds_left` after `reserve_s`."""
    if step_s <= 0:
        return 0
    return max(0, math.floor((seconds_left * MARGIN - reserve_s) / step_s))


@dataclass(frozen=True)
class BudgetPlan:
    """What a time budget will do with a run, before it starts."""

    coverage: Coverage
    planned: int  # the steps the epochs (or max_steps) ask for
    duration_s: float  # from the job's start to its end, the final evaluation and saves included
    shortened: bool


def budget_plan(
    budget_s: float,
    planned: int,
    n_train: int,
    batch: int,
    accum: int,
    step_s: float,
    load_s: float,
    eval_s: float,
    save_s: float | None,
    checkpoint: bool,
) -> BudgetPlan:
    """The steps that fit in `budget_s` counted from the job's start: loading takes `load_s`,
    each step `step_s` (its share of the evaluations and checkpoints included), and the final
    evaluation and saves are kept back, as the trainer's budget does once it runs."""
    reserve = final_reserve(eval_s, save_s, checkpoint)
    fit = steps_that_fit(budget_s - load_s, step_s, reserve)
    steps = max(1, min(planned, fit))
    duration = load_s + steps * step_s + reserve
    return BudgetPlan(coverage(steps, n_train, batch, accum), planned, duration, steps < planned)
