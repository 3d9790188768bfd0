"""A training run watched in a real browser: a second Train click is refused with a note, a
reload opens on the Train tab with the job, and after Cancel and Resume the progress follows
the resumed run instead of standing at the step where it stopped.

The sentiment-free "Domain text" demo (a tiny model trained from scratch) is cloned with
enough steps to watch, so the test needs no large model.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import fill, pick, shot

pytestmark = [pytest.mark.e2e]
STEP = re.compile(r"step (\d+) / (\d+)")


def _tab(page, name: str) -> None:
    page.get_by_role("tab", name=name, exact=True).click()


def demo_config(page, url: str, **fields) -> None:
    """The Domain text demo app, its configuration cloned with `fields` and saved as v2."""
    page.goto(url)
    pick(page, "apps-sample", "Domain text")
    page.locator("#apps-demo").click()
    expect(page.locator("#apps-demo-note")).to_contain_text("Created", timeout=120_000)
    _tab(page, "Models")
    expect(page.locator("#models-pick input")).not_to_have_value("", timeout=30_000)
    page.locator("#models-clone").click()
    expect(page.locator("#models-problems")).to_contain_text("Loaded", timeout=30_000)
    for key, value in fields.items():
        fill(page, "models-" + key.replace("_", "-"), value)
    page.locator("#models-save").click()
    expect(page.locator("#models-problems")).to_contain_text("v2", timeout=120_000)


def _shown_step(page) -> int:
    match = STEP.search(page.locator("#train-progress").inner_text())
    return int(match.group(1)) if match else -1


def test_refuse_a_duplicate_reload_to_train_and_resume_live(studio_server, page):
    url, _ = studio_server
    demo_config(page, url, max_steps=600, eval_every=1000, time_budget_min=0)
    _tab(page, "Train")
    pick(page, "train-model", "v2")
    page.locator("#train-start").click()
    status, progress = page.locator("#train-status"), page.locator("#train-progress")
    expect(status).to_contain_text("running", timeout=120_000)
    expect(progress).to_contain_text(re.compile(r"step [1-9]\d* / 600"), timeout=120_000)
    job_id = page.locator("#train-job-id textarea, #train-job-id input").first.input_value()

    # A second click on Train while it runs: refused, and says which job runs.
    page.locator("#train-start").click()
    note = page.locator(".toast-body").filter(has_text="already running")
    expect(note.first).to_contain_text(job_id)
    expect(page.locator("#train-jobs tbody tr")).to_have_count(1)

    # A reload during the run opens on Train, showing the job.
    page.reload()
    expect(page.get_by_role("tab", name="Train", exact=True)).to_have_attribute(
        "aria-selected", "true", timeout=30_000
    )
    expect(status).to_contain_text(job_id, timeout=30_000)
    expect(status).to_contain_text("running")

    page.locator("#train-cancel").click()
    expect(status).to_contain_text("cancelled", timeout=180_000)
    page.wait_for_timeout(2_000)  # the last poll has drawn the stopped step
    stopped = _shown_step(page)
    assert stopped > 0
    shot(page, "train-run-cancelled")

    expect(page.locator("#train-resume")).to_be_enabled(timeout=30_000)
    page.locator("#train-resume").click()
    expect(status).to_contain_text("running", timeout=120_000)
    # The progress moves past the stop while the resumed run trains: twice, so it is live.
    page.wait_for_function(
        """([stopped]) => {
            const m = /step (\\d+) \\//.exec(document.querySelector('#train-progress').innerText);
            return m && Number(m[1]) > stopped + 1;
        }""",
        arg=[stopped],
        timeout=180_000,
    )
    first = _shown_step(page)
    page.wait_for_function(
        """([first]) => {
            const m = /step (\\d+) \\//.exec(document.querySelector('#train-progress').innerText);
            return m && Number(m[1]) > first;
        }""",
        arg=[first],
        timeout=120_000,
    )
    expect(status).to_contain_text("running")
    expect(progress).to_contain_text(re.compile(r"about \d+m\d\ds left"))
    shot(page, "train-run-resumed-live")
    page.locator("#train-cancel").click()
    expect(status).to_contain_text("cancelled", timeout=180_000)


def test_the_plan_shows_what_the_time_budget_will_do(studio_server, page):
    """With a 1-minute budget and epochs that would take hours, the plan gives the budget's
    end, not the epochs' hours; after one timed run it estimates the steps that fit, and
    the finished run's status says the same steps, examples and epochs."""
    url, _ = studio_server
    demo_config(page, url, epochs=1000, time_budget_min=1, max_steps=0)
    _tab(page, "Train")
    pick(page, "train-model", "v2")
    plan = page.locator("#train-plan")
    expect(plan).to_contain_text("Plan (time budget 1 min)")
    expect(plan).to_contain_text(re.compile(r"ends by \d\d:\d\d, final evaluation and save"))
    expect(plan).not_to_contain_text(re.compile(r"\d+ h \d+ min"))
    shot(page, "train-plan-budget-unmeasured")

    page.locator("#train-start").click()
    status = page.locator("#train-status")
    expect(status).to_contain_text("succeeded", timeout=300_000)
    expect(status).to_contain_text("Time budget 1 min")
    chosen = re.search(r"(\d+) steps chosen", status.inner_text())
    covering = re.search(r"covering (\d+) examples = ([\d.]+) epochs", status.inner_text())
    assert chosen and covering

    # The next plan is estimated from that run, and says so.
    pick(page, "train-model", "v1")
    pick(page, "train-model", "v2")
    expect(plan).to_contain_text("estimated from job", timeout=30_000)
    expect(plan).to_contain_text(re.compile(r"about \d+ steps = \d+ examples = [\d.]+ epochs"))
    shot(page, "train-plan-budget-measured")

    # The Models form says what the evaluations cost, at the rate that run measured.
    _tab(page, "Models")
    page.locator("#models-clone").click()
    cost = page.locator("#models-eval-cost")
    expect(cost).to_contain_text(re.compile(r"Evaluations: \d+ × \d+ rows"), timeout=30_000)
    expect(cost).to_contain_text("at the rate job")
