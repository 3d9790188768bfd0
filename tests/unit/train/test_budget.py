"""The time budget's plan, on a fake clock: the run ends by the deadline (give or take a
step) with its learning-rate schedule completed, however the step time moves."""

from __future__ import annotations

import math
import types

import pytest
import torch
from transformers import TrainerControl, TrainerState, TrainingArguments, get_scheduler

from studio.train import budget as budget_mod
from studio.train.budget import TimeBudget


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def time(self) -> float:
        return self.now


def _simulate(
    tmp_path,
    monkeypatch,
    step_times,
    budget_s=60.0,
    planned=1000,
    warmup=50,
    lr=1e-3,
    load_s=5.0,
    setup=None,
    timer=None,
):
    clock = Clock()
    monkeypatch.setattr(budget_mod, "time", types.SimpleNamespace(time=clock.time))
    args = TrainingArguments(
        output_dir=str(tmp_path / "out"),
        warmup_steps=warmup,
        lr_scheduler_type="linear",
        report_to="none",
    )
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([param], lr=lr)
    trainer = types.SimpleNamespace(
        args=args,
        optimizer=optimizer,
        last_eval_s=0.0,
        state=TrainerState(max_steps=planned),
        lr_scheduler=get_scheduler(
            "linear", optimizer, num_warmup_steps=warmup, num_training_steps=planned
        ),
    )
    if setup is not None:
        setup(trainer)
    records = []
    budget = TimeBudget(tmp_path, budget_s, clock.now, records.append, 8, 2000, clock=timer)
    budget.trainer = trainer
    clock.now += load_s  # loading the model counts against the budget
    state, control = trainer.state, TrainerControl()
    budget.on_train_begin(args, state, control)
    used = []
    for step_s in step_times:
        used.append(trainer.lr_scheduler.get_last_lr()[0])  # the LR this update uses
        optimizer.step()
        trainer.lr_scheduler.step()
        state.global_step += 1
        clock.now += step_s
        budget.on_step_end(args, state, control)
        if control.should_training_stop or state.global_step >= state.max_steps:
            break
    return budget, trainer, records, used, clock.now


@pytest.mark.parametrize("pace", ["steady", "slowing", "first-slow"])
def test_ends_by_the_deadline_with_the_schedule_complete(tmp_path, monkeypatch, pace):
    times = {
        "steady": [0.5] * 2000,
        "slowing": [0.3] * 40 + [0.9] * 2000,  # another job starts on the machine
        "first-slow": [6.0] + [0.4] * 2000,
    }[pace]
    budget, trainer, records, used, end = _simulate(tmp_path, monkeypatch, times)
    step = trainer.state.global_step
    # The whole job ends by the deadline: the steps, then the final evaluation and saves the
    # budget kept back for (nothing timed yet here: its guesses).
    job_end = end + budget.reserve()
    assert budget.reserve() > 0
    assert job_end <= budget.deadline + max(times[:step]), (job_end, budget.deadline)
    assert job_end >= budget.deadline - 0.15 * budget.seconds  # and it used most of the budget
    assert records and records[-1]["total_steps"] == step == trainer.state.max_steps
    assert trainer.lr_scheduler.get_last_lr()[0] == pytest.approx(0.0, abs=1e-15)
    assert used[-1] < 0.1 * 1e-3 and max(used) == pytest.approx(1e-3, rel=0.05)
    assert records[-1]["warmup_steps"] == math.ceil(0.1 * step)
    assert records[-1]["examples"] == 8 * step and budget.summary()["shrunk"]


def test_the_measured_final_evaluation_and_saves_are_kept_back(tmp_path, monkeypatch):
    saves = types.SimpleNamespace(save_s=4.0)

    def timed(trainer):
        trainer.last_eval_s = 6.0  # an evaluation took 6 s

    budget, trainer, records, used, end = _simulate(
        tmp_path, monkeypatch, [0.5] * 2000, setup=timed, timer=saves
    )
    # eval 6 s + checkpoint 4 s + adapter (half a checkpoint) 2 s + exit 3 s
    assert budget.reserve() == pytest.approx(15.0)
    assert records[-1]["reserve_s"] == pytest.approx(15.0)
    assert end + 15.0 <= budget.deadline + 0.5
    assert end + 15.0 >= budget.deadline - 0.1 * budget.seconds
    trainer.args.save_strategy = "no"  # no final checkpoint: only the adapter's save
    assert budget.reserve() == pytest.approx(11.0)


def test_a_run_that_fits_keeps_its_steps_and_schedule(tmp_path, monkeypatch):
    budget, trainer, records, used, end = _simulate(
        tmp_path, monkeypatch, [0.01] * 2000, planned=100, warmup=10
    )
    assert trainer.state.global_step == 100 and not budget.summary()["shrunk"]
    assert records[-1]["total_steps"] == 100 and records[-1]["warmup_steps"] == 10
    assert used[10] == pytest.approx(1e-3)  # the original warm-up, untouched


def test_a_resume_applies_the_saved_plan(tmp_path, monkeypatch):
    budget, trainer, records, _, _ = _simulate(tmp_path, monkeypatch, [0.5] * 30)
    chosen = records[-1]["total_steps"]
    clock = Clock()
    monkeypatch.setattr(budget_mod, "time", types.SimpleNamespace(time=clock.time))
    args = trainer.args
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1e-3)
    resumed = types.SimpleNamespace(
        args=args,
        optimizer=optimizer,
        last_eval_s=0.0,
        state=TrainerState(max_steps=1000),
        lr_scheduler=get_scheduler(
            "linear", optimizer, num_warmup_steps=50, num_training_steps=1000
        ),
    )
    resumed.state.global_step = 30
    again = TimeBudget(tmp_path, 60.0, clock.now, lambda r: None, 8, 2000)
    again.trainer = resumed
    again.on_train_begin(args, resumed.state, TrainerControl())
    assert resumed.state.max_steps == chosen and again.planned == 1000
    # The schedule continues where the first part left it: the chosen total, at step 30.
    assert resumed.lr_scheduler.last_epoch == 30
    assert resumed.lr_scheduler.get_last_lr() == pytest.approx(trainer.lr_scheduler.get_last_lr())


def test_a_machine_too_slow_for_the_budget_stops_at_once_with_a_small_evaluation(
    tmp_path, monkeypatch
):
    limited = []

    def fake(trainer):
        trainer.eval_rows = lambda: 500
        trainer.limit_eval = limited.append

    budget, trainer, records, used, end = _simulate(
        tmp_path, monkeypatch, [50.0] * 10, budget_s=60.0, load_s=5.0, setup=fake
    )
    assert trainer.state.global_step == 1 and records[-1]["total_steps"] == 1
    assert trainer.lr_scheduler.get_last_lr()[0] == pytest.approx(0.0, abs=1e-15)
    # One evaluation of 500 rows at this pace would take far more than a tenth of the budget.
    assert limited and 0 < limited[0] < 0.01
