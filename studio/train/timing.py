"""How long the parts of a run take: loading, a step, an evaluation, a checkpoint save, the
adapter save. The time budget (studio.train.budget) keeps the final evaluation and saves
back from the training time with these figures, and the run's summary keeps them
(summary["timing"]), so the Train tab can plan the next run of the app from a measured
run (studio.ui.train.plan).

Loading counts from the start of the job's process (its imports included): that is the wait
the user sees, and a time budget counts from there.
"""

from __future__ import annotations

import time
from typing import Any

import psutil
from transformers import TrainerCallback


def process_started() -> float:
    """When this process started (epoch seconds); now if the system does not say."""
    try:
        return float(psutil.Process().create_time())
    except (psutil.Error, OSError):
        return time.time()


class RunClock(TrainerCallback):
    """Times the parts of a run from the Trainer's events."""

    def __init__(self, started: float | None = None):
        self.started = process_started() if started is None else started
        self.train_begin: float | None = None
        self.begin_step = 0  # a resumed run begins at its checkpoint's step
        self.first: tuple[float, int] | None = None  # (time, step) at the end of the first step
        self.last: tuple[float, int] | None = None
        self.eval_s: float | None = None  # the last evaluation's duration
        self.eval_rows: int | None = None  # the rows it scored (loss rows + accuracy examples)
        self.save_s: float | None = None  # the last checkpoint save's duration
        self.adapter_save_s: float | None = None  # set by the runner around save_trained
        self.rows = lambda: None  # the trainer's eval_rows, once it exists
        self._mark = time.time()  # the end of the last timed thing

    def on_train_begin(self, args, state, control, **kwargs):
        self.train_begin = self._mark = time.time()
        self.begin_step = state.global_step
        return control

    def on_step_end(self, args, state, control, **kwargs):
        now = time.time()
        if self.first is None:
            self.first = (now, state.global_step)
        self.last = (now, state.global_step)
        self._mark = now
        return control

    def on_evaluate(self, args, state, control, metrics=None, **kwargs):
        now = time.time()
        runtime = (metrics or {}).get("eval_runtime")
        self.eval_s = float(runtime) if runtime is not None else now - self._mark
        self.eval_rows = self.rows()
        self._mark = now
        return control

    def on_save(self, args, state, control, **kwargs):
        now = time.time()
        self.save_s = now - self._mark
        self._mark = now
        return control

    @property
    def load_s(self) -> float | None:
        """Process start to the first step's start: imports, data, model, Trainer."""
        return None if self.train_begin is None else self.train_begin - self.started

    def step_s(self) -> float | None:
        """Mean seconds per step since the first one ended (evaluations and checkpoints on
        the way included); the first step alone until a second one ended."""
        if self.first is None or self.last is None or self.train_begin is None:
            return None
        (t0, s0), (t1, s1) = self.first, self.last
        if s1 > s0:
            return (t1 - t0) / (s1 - s0)
        return (t0 - self.train_begin) / max(s0 - self.begin_step, 1)

    def summary(self) -> dict[str, Any]:
        """The measured parts, for the run's summary (None where nothing was timed)."""

        def rounded(x: float | None) -> float | None:
            return None if x is None else round(x, 3)

        return {
            "load_s": rounded(self.load_s),
            "step_s": rounded(self.step_s()),
            "eval_s": rounded(self.eval_s),
            "eval_rows": self.eval_rows,
            "save_s": rounded(self.save_s),
            "adapter_save_s": rounded(self.adapter_save_s),
        }
