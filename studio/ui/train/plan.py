"""What a model configuration will do when trained: the steps, examples and epochs it covers
(studio.jobs.step_plan, the arithmetic the trainer and the status line use), and with a time
budget what the budget leaves of them and when the job ends.

Times come from the newest run of this app that measured its parts (summary["timing"],
studio.train.timing): loading, a step (its share of evaluations and checkpoints included),
an evaluation per validation row, a checkpoint save. Measured with the same base model they
are an estimate; with another base they are a guess, and the plan says so. Without any, the
plan gives the budget's deadline (the job ends by then, whatever the pace) and says that the
steps that fit are measured on the first steps, as the trainer does.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from studio.configs.saving import split_config
from studio.errors import StudioError
from studio.jobs.step_plan import (
    ACCURACY_SAMPLE,
    BudgetPlan,
    Coverage,
    accuracy_rows,
    budget_plan,
    coverage,
    evaluations,
    final_reserve,
    planned_steps,
    steps_per_epoch,
)
from studio.store.job_states import CANCELLED, SUCCEEDED


@dataclass(frozen=True)
class MeasuredRun:
    """The parts of an earlier run, per unit: what a plan scales to its own sizes."""

    job_id: str
    same_base: bool
    load_s: float
    example_s: float  # seconds per trained example, evaluations and checkpoints included
    eval_row_s: float  # seconds per scored validation row
    save_s: float | None


def prose_duration(seconds: float) -> str:
    """'45 s', '12 min', '1 h 05 min': a duration in a sentence (the jobs table's cells use
    the compact '12m05s' of studio.ui.train.views)."""
    seconds = max(0.0, seconds)
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    if seconds < 5400:
        return f"{round(seconds / 60)} min"
    h, rest = divmod(int(seconds), 3600)
    return f"{h} h {rest // 60:02d} min"


def _clock(at: float) -> str:
    return time.strftime("%H:%M", time.localtime(at))


def measured_run(store: Any, train_jobs: list[dict], base_model: str) -> MeasuredRun | None:
    """The newest finished run here that timed its parts, one on the same base model first."""
    found = None
    for job in train_jobs:  # newest first
        s = job.get("summary") or {}
        t = s.get("timing") or {}
        batch = int(s.get("global_batch") or 0)
        if job.get("status") not in (SUCCEEDED, CANCELLED) or not t.get("step_s") or not batch:
            continue
        try:
            config = store.get_model(job.get("model_id")).get("config") or {}
            same = (config.get("model") or {}).get("base_model") == base_model
        except (StudioError, KeyError, TypeError, AttributeError):
            same = False
        rows = int(t.get("eval_rows") or 0)
        run = MeasuredRun(
            job_id=job["id"],
            same_base=same,
            load_s=float(t.get("load_s") or 0.0),
            example_s=float(t["step_s"]) / batch,
            eval_row_s=float(t.get("eval_s") or 0.0) / rows if rows else 0.0,
            save_s=t.get("save_s"),
        )
        if same:
            return run
        found = found or run
    return found


def plan_markdown(
    store: Any, model_id: str | None, train_jobs: list[dict], now: float | None = None
) -> str:
    """'**Plan:** 20 steps = 160 examples = 0.40 of an epoch of the 405 training examples …'
    or, with a time budget, what the budget will do and when the job ends."""
    if not model_id:
        return ""
    try:
        model = store.get_model(model_id)
        version = store.get_dataset_version(model["dataset_version_id"])
    except (StudioError, KeyError, TypeError):
        return ""
    dicts, hyper = split_config(model["config"], model["template"])
    stats = version.get("stats") or {}
    n_train = int(stats.get("n_train") or version.get("n_train") or 0)
    batch = int(hyper.get("batch_size") or 1) * max(1, int(hyper.get("processes") or 1))
    accum = max(1, int(hyper.get("grad_accum") or 1))
    if not n_train or batch < 1:
        return ""
    now = time.time() if now is None else now
    planned = planned_steps(
        n_train, batch, accum, float(hyper.get("epochs") or 1), int(hyper.get("max_steps") or 0)
    )
    trainer = dicts.get("trainer") or {}
    n_valid = int(stats.get("n_valid") or 0)
    sample = int(hyper.get("accuracy_examples", ACCURACY_SAMPLE))
    rows = n_valid + (
        accuracy_rows(n_valid, sample) if stats.get("task") == "classification" else 0
    )
    run = measured_run(store, train_jobs, str(hyper.get("base_model") or ""))
    budget_min = float(hyper.get("time_budget_min") or 0)
    if budget_min > 0:
        return _budget_text(budget_min, planned, n_train, batch, accum, trainer, rows, run, now)
    return _steps_text(planned, n_train, batch, accum, trainer, rows, run, now)


def _covers(covered: Coverage) -> str:
    """'18 steps = 132 examples = 2.00 epochs', or '= 0.59 of an epoch' under one."""
    part = (
        f"{covered.epochs:.2f} of an epoch"
        if covered.epochs < 1
        else f"{covered.epochs:.2f} epochs"
    )
    return f"{covered.steps} steps = {covered.examples} examples = {part}"


UNSEEN = " Some examples will never be seen: raise Max steps (or set it to 0) for a full pass."


def _source(run: MeasuredRun) -> str:
    if run.same_base:
        return f"estimated from job {run.job_id} here ({run.example_s:.2f} s per example)"
    return (
        f"**a guess**: timed on job {run.job_id} here, which trained another base model "
        f"({run.example_s:.2f} s per example)"
    )


def _checkpoints(trainer: dict) -> bool:
    return str(trainer.get("save_strategy") or "epoch") != "no"


def _eval_s(run: MeasuredRun, rows: int, trainer: dict, steps: int, per_epoch: int) -> float:
    """One evaluation's seconds at the measured rate (0 when the run does not evaluate)."""
    return run.eval_row_s * rows if evaluations(steps, trainer, per_epoch) else 0.0


def fitted_plan(minutes, planned, n_train, batch, accum, trainer, rows, run) -> BudgetPlan:
    """What a time budget of `minutes` fits of the `planned` steps, at the rates `run`
    measured (`rows`: the rows one evaluation scores)."""
    per_epoch = steps_per_epoch(n_train, batch, accum)
    return budget_plan(
        minutes * 60,
        planned,
        n_train,
        batch,
        accum,
        step_s=run.example_s * batch * accum,
        load_s=run.load_s,
        eval_s=_eval_s(run, rows, trainer, planned, per_epoch),
        save_s=run.save_s,
        checkpoint=_checkpoints(trainer),
    )


def _budget_text(minutes, planned, n_train, batch, accum, trainer, rows, run, now) -> str:
    budget_s = minutes * 60
    head = f"**Plan (time budget {minutes:g} min):**"
    asked = coverage(planned, n_train, batch, accum)
    unseen = UNSEEN if asked.epochs < 1 else ""
    if run is None:
        return (
            f"{head} the job ends by **{_clock(now + budget_s)}**, final evaluation and save "
            f"included. The settings ask for {_covers(asked)} of the {n_train} training "
            "examples; how many of those steps fit is measured on the first steps (no earlier "
            f"run of this app to estimate from).{unseen}"
        )
    plan = fitted_plan(minutes, planned, n_train, batch, accum, trainer, rows, run)
    cut = (
        f" (the epochs ask for {planned}: the budget stops it sooner)"
        if plan.shortened
        else " (all the epochs ask for)"
    )
    return (
        f"{head} about **{_covers(plan.coverage)}** of the {n_train} training examples{cut}; "
        f"ends by **{_clock(now + plan.duration_s)}**, final evaluation and save included; "
        f"{_source(run)}.{unseen}"
    )


def _steps_text(planned, n_train, batch, accum, trainer, rows, run, now) -> str:
    covered = coverage(planned, n_train, batch, accum)
    cover = (
        f"**{covered.epochs:.2f} of an epoch**"
        if covered.epochs < 1
        else f"**{covered.epochs:.2f} epochs**"
    )
    text = (
        f"**Plan:** {planned} steps of {batch * accum} examples = {covered.examples} examples "
        f"= {cover} of the {n_train} training examples."
    )
    if covered.epochs < 1:
        text += UNSEEN
    if run is None:
        return text + " The progress bar shows the time left once the first steps are done."
    per_epoch = steps_per_epoch(n_train, batch, accum)
    eval_s = _eval_s(run, rows, trainer, planned, per_epoch)
    seconds = (
        run.load_s
        + planned * run.example_s * batch * accum
        + final_reserve(eval_s, run.save_s, _checkpoints(trainer))
    )
    return (
        text + f" About **{prose_duration(seconds)}** here, ending by **{_clock(now + seconds)}**; "
        f"{_source(run)}."
    )
