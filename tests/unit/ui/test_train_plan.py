"""The Train tab's plan: the steps, examples and epochs a configuration covers (the numbers
the status line will use), and with a time budget what the budget leaves of them and when
the job ends, from a measured run of the app or said to be a guess."""

from __future__ import annotations

import re
import time

from studio.configs.defaults import default_dicts, default_hyper
from studio.configs.saving import model_config
from studio.jobs.step_plan import coverage
from studio.templates import TEMPLATES
from studio.ui.train.plan import measured_run, plan_markdown

NOW = time.mktime((2026, 5, 4, 17, 0, 0, 0, 0, -1))  # 17:00 local time


class _Store:
    def __init__(self, n_train: int, hyper: dict, n_valid: int = 0, task: str = "", trainer=None):
        self.stats = {"n_train": n_train, "n_valid": n_valid, "task": task}
        self.hyper = {"base_model": "packaged:SmolLM2-135M-Instruct", **hyper}
        self.trainer = trainer or {"eval_strategy": "steps", "eval_steps": 0.2}
        self.others = {}

    def get_model(self, model_id):
        """A saved model as the store keeps it: the sections, the form values folded in."""
        template = TEMPLATES["smollm2-135m-lora"]
        if model_id in self.others:
            hyper = {**default_hyper(template), "base_model": self.others[model_id]}
            return {
                "template": template.key,
                "config": model_config(default_dicts(template), hyper),
            }
        hyper = {**default_hyper(template), "time_budget_min": 0, **self.hyper}
        config = model_config(default_dicts(template), hyper)
        config["trainer"].update(self.trainer)
        return {"dataset_version_id": "v", "template": template.key, "config": config}

    def get_dataset_version(self, version_id):
        return {"stats": self.stats}


def _timed(job_id="j1", model_id="m", step_s=0.8, batch=8, **timing):
    t = {"load_s": 20.0, "step_s": step_s, "eval_s": 12.0, "eval_rows": 60, "save_s": 1.0}
    return {
        "id": job_id,
        "model_id": model_id,
        "status": "succeeded",
        "summary": {"global_batch": batch, "timing": {**t, **timing}},
    }


def test_the_step_plan_says_what_the_status_line_will_say():
    store = _Store(66, {"batch_size": 8, "grad_accum": 1, "max_steps": 0, "epochs": 2})
    text = plan_markdown(store, "m", [], NOW)
    assert "18 steps of 8 examples = 132 examples = **2.00 epochs**" in text
    assert coverage(18, 66, 8).epochs == 2.0  # what the trainer's budget record will say
    short = _Store(400, {"batch_size": 8, "grad_accum": 1, "max_steps": 20, "epochs": 3})
    text = plan_markdown(short, "m", [], NOW)
    assert "**0.40 of an epoch**" in text and "never be seen" in text
    assert "time left once the first steps" in text  # no run to estimate from


def test_a_measured_run_gives_the_duration_and_the_end():
    store = _Store(66, {"batch_size": 8, "grad_accum": 1, "max_steps": 0, "epochs": 2}, 6)
    text = plan_markdown(store, "m", [_timed()], NOW)
    # 20 s load + 18 steps x 0.8 s + final eval (6 rows x 0.2 s) + saves 1.5 s + exit 3 s
    assert "About **40 s** here, ending by **17:00**" in text
    assert "estimated from job j1 here (0.10 s per example)" in text


def test_a_budget_plan_shows_what_the_budget_will_do():
    hyper = {"batch_size": 8, "grad_accum": 1, "max_steps": 0, "epochs": 3, "time_budget_min": 1}
    store = _Store(2484, hyper, 276, "classification")
    blind = plan_markdown(store, "m", [], NOW)
    assert "**Plan (time budget 1 min):** the job ends by **17:01**" in blind
    assert "933 steps = 7452 examples = 3.00 epochs" in blind  # what the epochs ask for
    assert "measured on the first steps" in blind and "7 h" not in blind
    text = plan_markdown(store, "m", [_timed(step_s=0.5)], NOW)
    steps = int(re.search(r"about \*\*(\d+) steps = ", text).group(1))
    # 60 s: 20 s loading, then the final evaluation (376 rows x 0.2 s = 75 s) alone would
    # overrun: one step, and the plan says when the job really ends.
    assert steps == 1 and "the budget stops it sooner" in text
    ten = {**hyper, "time_budget_min": 10}
    text = plan_markdown(_Store(2484, ten, 276, "classification"), "m", [_timed()], NOW)
    steps = int(re.search(r"about \*\*(\d+) steps = ", text).group(1))
    covered = coverage(steps, 2484, 8)
    assert f"steps = {covered.examples} examples = {covered.epochs:.2f} epochs**" in text
    # (600 s - 20 s load) x 0.97 - the final evaluation (75 s), saves and exit, at 0.8 s a step
    assert steps == 603 and "the budget stops it sooner" in text
    end = re.search(r"ends by \*\*(\d\d):(\d\d)\*\*", text)
    assert (int(end.group(1)), int(end.group(2))) in ((17, 9), (17, 10))
    roomy = {**hyper, "time_budget_min": 60}
    text = plan_markdown(_Store(2484, roomy, 276, "classification"), "m", [_timed()], NOW)
    assert "about **933 steps = 7452 examples = 3.00 epochs**" in text
    assert "all the epochs ask for" in text


def test_another_base_models_run_is_a_guess_and_the_same_base_wins():
    hyper = {"batch_size": 8, "grad_accum": 1, "max_steps": 0, "epochs": 3, "time_budget_min": 5}
    store = _Store(500, hyper, 50)
    store.others = {"other": "some/other-model"}
    other = _timed("j2", "other", step_s=2.0)
    text = plan_markdown(store, "m", [other], NOW)
    assert "**a guess**: timed on job j2" in text
    runs = [other, _timed("j1", "m")]  # newest first: the other base's run is newer
    assert measured_run(store, runs, store.hyper["base_model"]).job_id == "j1"
    assert "estimated from job j1" in plan_markdown(store, "m", runs, NOW)


def test_a_budgeted_plan_under_one_epoch_says_so():
    hyper = {"batch_size": 8, "grad_accum": 1, "max_steps": 10, "epochs": 3, "time_budget_min": 10}
    text = plan_markdown(_Store(136, hyper), "m", [], NOW)
    assert "10 steps = 80 examples = 0.59 of an epoch" in text and "never be seen" in text
