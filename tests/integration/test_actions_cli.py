"""`python -m studio.actions train MODEL_ID --wait`: a saved model trained from a terminal, by
the same use case and job runner as the page's Train button, to the end."""

from __future__ import annotations

from studio.actions.__main__ import run
from studio.jobs.run_folder import RunFolder
from tests.support.trained import saved_model


def test_a_saved_model_trains_from_the_terminal(store, settings, tiny_causal_dir):
    made = saved_model(store, settings, tiny_causal_dir, max_steps=2, time_budget_min=0.0)
    said = run(["train", made["model"]["id"], "--wait"], settings, store)
    job = store.get_job(said.split()[1])
    assert said.startswith(f"job {job['id']} succeeded"), RunFolder(job["run_dir"]).log_tail()
    assert job["summary"]["steps"] == 2 and RunFolder(job["run_dir"]).has_model()
