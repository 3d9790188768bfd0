"""The Models form's line about what the evaluations of a configuration cost."""

from __future__ import annotations

from studio.ui.models.config_form import FORM_ORDER
from studio.ui.models.eval_cost import eval_cost_text, on_eval_cost
from studio.ui.train.plan import MeasuredRun

FPB = {"n_train": 2484, "n_valid": 276, "task": "classification"}
HYPER = {"batch_size": 8, "grad_accum": 1, "epochs": 1, "max_steps": 20, "processes": 1}
RATIO = {"eval_strategy": "steps", "eval_steps": 0.2}  # the CPU templates: five a run


def _run(eval_row_s=0.12, same=True):
    return MeasuredRun("j1", same, load_s=20, example_s=0.1, eval_row_s=eval_row_s, save_s=1)


def test_five_evaluations_of_the_validation_rows_and_their_time():
    text = eval_cost_text(FPB, HYPER, RATIO, _run())
    # 20 steps, every ceil(0.2 x 20) = 4: 5 evaluations of 276 loss rows + 100 accuracy rows
    assert "**Evaluations:** 5 × 376 rows (276 for the eval loss, 100 for the accuracy)" in text
    assert "≈ **4 min** in all (about 45 s each" in text and "job j1" in text
    assert "a guess" in eval_cost_text(FPB, HYPER, RATIO, _run(same=False))
    blind = eval_cost_text(FPB, HYPER, RATIO, None)
    assert "5 × 376 rows" in blind and "measured on the first run" in blind
    every = eval_cost_text(
        {**FPB, "task": "text"}, HYPER, {"eval_strategy": "steps", "eval_steps": 5}, None
    )
    assert "4 × 276 rows (276 for the eval loss)" in every  # steps 5, 10, 15, 20
    assert "none" in eval_cost_text(FPB, HYPER, {"eval_strategy": "no"}, _run())
    assert eval_cost_text({**FPB, "n_valid": 0}, HYPER, RATIO, _run()) == ""


def test_a_time_budget_counts_the_evaluations_of_the_steps_it_leaves():
    hyper = {**HYPER, "max_steps": 0, "epochs": 3, "time_budget_min": 2}
    text = eval_cost_text(FPB, hyper, RATIO, _run(eval_row_s=0.01))
    # 933 planned steps, evaluated every 187; two minutes leave far fewer: the final one only
    assert "**Evaluations:** 1 × 376 rows" in text


def test_the_form_handler_reads_the_version_and_the_trainer_dict(settings, store):
    from studio.ui.context import UIContext

    ctx = UIContext(settings=settings, store=store)
    app = store.create_app("cost")
    assert on_eval_cost(ctx, app["id"], "", "{}", *[None] * len(FORM_ORDER)) == ""
    assert on_eval_cost(ctx, "", "v", "{}", *[None] * len(FORM_ORDER)) == ""
