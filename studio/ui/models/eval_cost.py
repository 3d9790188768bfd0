"""What the evaluations of a configuration cost, said under the Models form:
"**Evaluations:** 5 × 376 rows (276 for the eval loss, 100 for the accuracy) ≈ 2 min in all".

How many evaluations: the trainer dict's strategy as the form writes it (eval_every), over
the steps the run will take (studio.jobs.step_plan.evaluations, the time budget's share
included when a measured run says how many steps fit). The rate: seconds per scored row of
the newest timed run of this app (studio.ui.train.plan.measured_run), a guess when
that run trained another base model. Without one, the count and the rows alone.
"""

from __future__ import annotations

from typing import Any

from studio import jsonsafe
from studio.configs.hyper import apply_hyperparameters
from studio.errors import StudioError
from studio.jobs.step_plan import (
    ACCURACY_SAMPLE,
    accuracy_rows,
    evaluations,
    planned_steps,
    steps_per_epoch,
)
from studio.store.job_states import TRAIN
from studio.ui.models.config_form import form_to_hyper
from studio.ui.train.plan import MeasuredRun, fitted_plan, measured_run, prose_duration

# The form fields the cost depends on (with the dataset version and the trainer dict).
EVAL_COST_KEYS = (
    "base_model",
    "epochs",
    "batch_size",
    "grad_accum",
    "max_steps",
    "eval_every",
    "valid_pct",
    "processes",
    "time_budget_min",
)


def eval_cost_text(
    stats: dict[str, Any],
    hyper: dict[str, Any],
    trainer: dict[str, Any],
    run: MeasuredRun | None,
) -> str:
    """The form's line about evaluation cost ("" when the run has no validation rows)."""
    n_train = int(stats.get("n_train") or 0)
    n_valid = int(stats.get("n_valid") or 0)
    if not n_train or not n_valid:
        return ""
    loss_rows = n_valid
    sample = int(hyper.get("accuracy_examples", ACCURACY_SAMPLE))
    acc_rows = accuracy_rows(n_valid, sample) if stats.get("task") == "classification" else 0
    batch = int(hyper.get("batch_size") or 1) * max(1, int(hyper.get("processes") or 1))
    accum = max(1, int(hyper.get("grad_accum") or 1))
    planned = planned_steps(
        n_train, batch, accum, float(hyper.get("epochs") or 1), int(hyper.get("max_steps") or 0)
    )
    per_epoch = steps_per_epoch(n_train, batch, accum)
    rows = loss_rows + acc_rows
    steps = planned
    minutes = float(hyper.get("time_budget_min") or 0)
    if minutes > 0 and run is not None:  # the steps the budget fits, as the plan says
        fitted = fitted_plan(minutes, planned, n_train, batch, accum, trainer, rows, run)
        steps = fitted.coverage.steps
    count = evaluations(steps, trainer, per_epoch, planned)
    if not count:
        return "**Evaluations:** none (the trainer's eval_strategy is 'no')."
    parts = f"{loss_rows} for the eval loss" + (
        f", {acc_rows} for the accuracy" if acc_rows else ""
    )
    text = f"**Evaluations:** {count} × {rows} rows ({parts})"
    if run is None or not run.eval_row_s:
        return text + "; their time is measured on the first run of this app."
    each = run.eval_row_s * rows
    guess = "" if run.same_base else ", **a guess**: that run trained another base model"
    return (
        f"{text} ≈ **{prose_duration(each * count)}** in all (about {prose_duration(each)} each, at the "
        f"rate job {run.job_id} measured here{guess})."
    )


def on_eval_cost(ctx: Any, app_id: str, version_id: str | None, trainer_text: str, *values):
    """The Models form's evaluation cost for its current values (fields in FORM_ORDER)."""
    app = ctx.current_app(app_id)
    if not app or not version_id:
        return ""
    try:
        version = ctx.store.app_version(app_id, version_id)
        hyper = form_to_hyper(values)
        trainer = jsonsafe.loads(trainer_text) if (trainer_text or "").strip() else {}
    except (StudioError, ValueError, TypeError):
        return ""
    if not version or not isinstance(trainer, dict):
        return ""
    trainer = apply_hyperparameters({"trainer": trainer}, {"eval_every": hyper.get("eval_every")})
    stats = dict(version.get("stats") or {})
    pct = float(hyper.get("valid_pct") or 0)
    if pct and pct != float(version.get("valid_pct") or 0):  # the run will split it anew
        total = int(version.get("n_accepted") or 0)
        stats["n_valid"] = round(total * pct / 100)
        stats["n_train"] = total - stats["n_valid"]
    jobs = ctx.store.list_jobs(app_id, kind=TRAIN)
    run = measured_run(ctx.store, jobs, str(hyper.get("base_model") or ""))
    return eval_cost_text(stats, hyper, trainer["trainer"], run)
