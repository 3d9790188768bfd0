"""The step arithmetic the time budget, the plan and the status line share: steps per epoch as
the Trainer counts them, the examples and epochs some steps cover, and what fits a budget."""

from __future__ import annotations

import pytest

from studio.jobs.step_plan import (
    EXIT_S,
    budget_plan,
    coverage,
    final_reserve,
    planned_steps,
    steps_per_epoch,
    steps_that_fit,
)


def test_epochs_and_examples_agree_with_the_trainers_count():
    # 66 examples, batches of 8: 9 batches an epoch, the last one of 2 examples.
    assert steps_per_epoch(66, 8) == 9
    two = coverage(18, 66, 8)
    assert (two.examples, two.epochs) == (132, 2.0)  # not 18 x 8 = 144 = "2.18 epochs"
    assert two.text() == "18 steps = 132 examples = 2.00 epochs"
    part = coverage(20, 66, 8)
    assert part.examples == 132 + 16 and part.epochs == pytest.approx(20 / 9)
    # Gradient accumulation: 9 batches in steps of 4 batches = 3 steps, the last partial.
    assert steps_per_epoch(66, 8, 4) == 3
    assert coverage(3, 66, 8, 4).examples == 66 and coverage(4, 66, 8, 4).examples == 66 + 32
    assert planned_steps(66, 8, 1, 2.0, 0) == 18 and planned_steps(66, 8, 1, 2.0, 5) == 5


def test_what_fits_a_budget_keeps_the_end_of_the_job_back():
    assert final_reserve(10.0, 4.0, checkpoint=True) == 10 + 4 + 2 + EXIT_S
    assert final_reserve(10.0, 4.0, checkpoint=False) == 10 + 2 + EXIT_S
    assert steps_that_fit(100.0, 1.0, 7.0) == 90  # 97 s planned for, 7 kept back
    assert steps_that_fit(5.0, 1.0, 7.0) == 0 and steps_that_fit(5.0, 0.0, 0.0) == 0
    plan = budget_plan(
        60, 933, 276, 8, 1, step_s=1.0, load_s=10, eval_s=5, save_s=2, checkpoint=True
    )
    assert plan.shortened and plan.planned == 933
    assert plan.coverage.steps == steps_that_fit(50, 1.0, final_reserve(5, 2, True))
    assert plan.duration_s <= 60  # loading, steps, final evaluation and saves
    roomy = budget_plan(3600, 20, 276, 8, 1, 1.0, 10, 5, 2, True)
    assert not roomy.shortened and roomy.coverage.steps == 20
    assert roomy.duration_s == pytest.approx(10 + 20 + final_reserve(5, 2, True))
