"""Honest results in a real browser: a classifier that answers one label is called out
against the majority-class baseline, and a run shorter than an epoch still evaluates.

The evaluation is made deterministic: its results.json is written by the real metrics code
(studio.scoring.labels) from label probabilities that always favour "neutral", and
recorded as a finished evaluation of an imported model, so the test needs no model run.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from studio.jobs.run_folder import RunFolder
from studio.scoring.labels import classification_metrics
from studio.store import Store
from tests.e2e.conftest import fill, legend_shown, pick, shot

pytestmark = [pytest.mark.e2e]

LABELS = ["negative", "neutral", "positive"]
TRUTH = ["neutral"] * 6 + ["positive"] * 2 + ["negative"] * 2  # majority 0.6


def _one_label_results() -> dict:
    always_neutral = [[0.2, 0.6, 0.2]] * len(TRUTH)
    balanced = [[1.0 if lab == t else 0.0 for lab in LABELS] for t in TRUTH]  # the base: right
    return {
        "n_examples": len(TRUTH),
        "split": "validation",
        "has_base": True,
        "classification": {
            "tuned": classification_metrics(TRUTH, always_neutral, LABELS),
            "base": classification_metrics(TRUTH, balanced, LABELS),
        },
    }


def test_one_label_model_is_called_out_against_the_majority_baseline(studio_server, page):
    url, home = studio_server
    page.goto(url)
    fill(page, "apps-name", "Baseline check")
    page.locator("#apps-create").click()
    expect(page.locator("#apps-current-note")).to_contain_text("Baseline check")
    app_id = page.locator("#current-app-id textarea, #current-app-id input").first.input_value()
    assert app_id

    store = Store(home / "studio.db", files_root=home / "apps")
    run_dir = home / "apps" / app_id / "runs" / "eval-one-label"
    run_dir.mkdir(parents=True)
    (run_dir / "results.json").write_text(json.dumps(_one_label_results()))
    # The evaluation first: the page may list the model the moment its row exists.
    trained_id = "onelabel0001"
    store.create_job(
        app_id,
        None,
        "evaluate",
        params={"train_job_id": trained_id},
        run_dir=str(run_dir),
        status="succeeded",
    )
    # The imported model's run folder holds its model (the page lists only models on disk).
    model_run = home / "apps" / app_id / "runs" / "import-one-label"
    RunFolder(model_run).adapter_dir.mkdir(parents=True)
    RunFolder(model_run).write_meta(
        {"base_model": "packaged:SmolLM2-135M-Instruct", "model_type": "causal"}
    )
    store.create_job(
        app_id,
        None,
        "import",
        params={"source": "one-label.zip"},
        job_id=trained_id,
        run_dir=str(model_run),
        status="succeeded",
    )

    page.get_by_role("tab", name="Evaluate / Export", exact=True).click()
    results = page.locator("#eval-results")
    expect(results).to_contain_text("Majority-class baseline", timeout=60_000)
    expect(results).to_contain_text("always “neutral”")
    expect(results).to_contain_text("answers “neutral” for every example")
    expect(results).to_contain_text("no better than always answering “neutral”")
    # The ROC chart names its curves (with a fixed height the page cut the legend off).
    expect(page.locator("#eval-roc svg.marks")).to_be_visible()
    for label in LABELS:
        assert legend_shown(page, "eval-roc", f"{label} (AUC"), label
    shot(page, "honest-one-label-warning")


def test_a_run_shorter_than_an_epoch_draws_an_eval_curve(studio_server, page):
    """Tiny from-scratch model: the demo's configuration cloned with 10 steps (part of an
    epoch) and an evaluation every 3 steps, trained from the page."""
    url, home = studio_server
    page.goto(url)
    pick(page, "apps-sample", "Domain text")
    page.locator("#apps-demo").click()
    expect(page.locator("#apps-demo-note")).to_contain_text("Created", timeout=120_000)
    page.get_by_role("tab", name="Models", exact=True).click()
    expect(page.locator("#models-pick input")).not_to_have_value("", timeout=30_000)
    page.locator("#models-clone").click()
    expect(page.locator("#models-problems")).to_contain_text("Loaded", timeout=30_000)
    fill(page, "models-max-steps", "10")
    fill(page, "models-eval-every", "3")
    page.locator("#models-save").click()
    expect(page.locator("#models-problems")).to_contain_text("v2", timeout=120_000)

    page.get_by_role("tab", name="Train", exact=True).click()
    pick(page, "train-model", "v2")
    expect(page.locator("#train-plan")).to_contain_text("of an epoch")
    page.locator("#train-start").click()
    status = page.locator("#train-status")
    expect(status).to_contain_text("succeeded", timeout=10 * 60_000)
    expect(status).to_contain_text(re.compile(r"eval loss \d"))
    shot(page, "honest-short-run-eval-curve")

    job_id = page.locator("#train-job-id textarea, #train-job-id input").first.input_value()
    store = Store(home / "studio.db", files_root=home / "apps")
    job = store.get_job(job_id)
    assert job["summary"]["steps"] == 10 and job["summary"]["epochs"] < 1
    lines = (Path(job["run_dir"]) / "metrics.jsonl").read_text().splitlines()
    evals = [json.loads(x) for x in lines if '"eval_loss"' in x]
    assert len({e["step"] for e in evals}) >= 3  # steps 3, 6, 9 and the final one
    assert min(e["step"] for e in evals) < 10
