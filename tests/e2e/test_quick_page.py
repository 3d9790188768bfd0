"""The page stays quick in a real browser: a tab's poll runs only while that tab is shown,
and selecting a job answers with its status line first, its log and chart after.

Two finished training jobs are recorded in the store with their run files (a log, a few
metrics), so the test needs no training run.
"""

from __future__ import annotations

import json
import re
import time
import uuid

import pytest
from playwright.sync_api import expect

from studio.store import Store
from tests.e2e.conftest import legend_shown, pick

pytestmark = [pytest.mark.e2e, pytest.mark.alone]

# Requests the page sends to run handlers (queued or direct), as opposed to file downloads.
CALLS = ("/gradio_api/queue/join", "/gradio_api/run/predict")


def _tab(page, name: str) -> None:
    page.get_by_role("tab", name=name, exact=True).click()


def _finished_job(store: Store, home, app_id: str, model_id: str, job_id: str, at: float):
    run_dir = home / "apps" / app_id / "runs" / job_id
    run_dir.mkdir(parents=True)
    (run_dir / "train.log").write_text(f"log line of {job_id}\n")
    (run_dir / "metrics.jsonl").write_text(
        "".join(
            json.dumps({"type": "train", "step": s, "loss": 2.0 - s / 10, "total_steps": 3}) + "\n"
            for s in (1, 2, 3)
        )
    )
    store.create_job(
        app_id,
        model_id,
        "train",
        job_id=job_id,
        run_dir=str(run_dir),
        status="succeeded",
        created_at=at,
        started_at=at,
        finished_at=at + 60,
    )


@pytest.fixture
def two_jobs(studio_server, page):
    """An app with two finished training jobs, chosen in the page, which is on the Apps tab:
    (older job, newest job, studio home, app id)."""
    url, home = studio_server
    store = Store(home / "studio.db", files_root=home / "apps")
    name = f"Quick page {uuid.uuid4().hex[:6]}"  # one server serves the module's tests
    app_id = store.create_app(name)["id"]
    model = store.create_model(app_id, "bot", "custom", "causal", None, {})
    now = time.time()
    older, newest = uuid.uuid4().hex[:12], uuid.uuid4().hex[:12]
    _finished_job(store, home, app_id, model["id"], older, now - 600)
    _finished_job(store, home, app_id, model["id"], newest, now - 300)
    page.goto(url)
    pick(page, "apps-current", name)
    expect(page.locator("#apps-current-note")).to_contain_text(name)
    return older, newest, home, app_id


def _calls_during(page, seconds: float) -> list[str]:
    seen: list[str] = []

    def note(request):
        if any(c in request.url for c in CALLS):
            seen.append(request.url)

    page.on("request", note)
    page.wait_for_timeout(seconds * 1000)
    page.remove_listener("request", note)
    return seen


def test_a_hidden_tabs_poll_is_paused_and_catches_up_when_shown(two_jobs, page):
    _, newest, home, app_id = two_jobs
    _tab(page, "Train")
    log = page.locator("#train-log textarea")
    expect(page.locator("#train-status")).to_contain_text(newest)  # the newest job is shown
    expect(log).to_have_value(f"log line of {newest}")
    # While the tab is shown its poll asks the server (every 1.5 s)...
    assert _calls_during(page, 4), "the Train tab does not poll while shown"
    # ...and once the user moved on, nothing does: not Train's poll, nor Evaluate's.
    _tab(page, "Evaluate / Export")
    expect(page.locator("#eval-run")).to_be_visible()
    _tab(page, "Apps")
    # The tab switches' own answers may take a while on a busy machine (the suite runs in
    # several workers): the poll stops when the switch's answer arrives. A poll still running
    # would ask in every 4 s window (it ticks every 1.5 s), so one quiet window says enough.
    windows = []
    while [] not in windows and len(windows) < 6:
        windows.append(_calls_during(page, 4))
    assert [] in windows, windows
    with open(home / "apps" / app_id / "runs" / newest / "train.log", "a") as f:
        f.write("a line written while the tab was hidden\n")
    assert _calls_during(page, 4) == []
    assert "while the tab was hidden" not in log.input_value()  # the hidden tab kept still
    # Showing Train again brings it up to date.
    _tab(page, "Train")
    expect(log).to_have_value(re.compile("a line written while the tab was hidden"))


def test_selecting_a_job_answers_with_its_status_then_its_log(two_jobs, page):
    older, newest, _, _ = two_jobs
    _tab(page, "Train")
    log = page.locator("#train-log textarea")
    expect(log).to_have_value(f"log line of {newest}")
    # Record what the log box holds at the moment the status line first names the clicked
    # job: a DOM mutation is observed once the answer that made it is fully applied.
    page.evaluate(
        """(job) => {
          window.__logAtStatus = null;
          const status = document.querySelector('#train-status');
          const seen = new MutationObserver(() => {
            if (window.__logAtStatus === null && status.textContent.includes(job)) {
              window.__logAtStatus = document.querySelector('#train-log textarea').value;
              seen.disconnect();
            }
          });
          seen.observe(status, { subtree: true, childList: true, characterData: true });
        }""",
        older,
    )
    page.locator("#train-jobs").get_by_text(older, exact=True).first.click()
    expect(page.locator("#train-status")).to_contain_text(f"Job {older}")
    # The first answer carried the status line only: the log was still the other job's...
    assert page.evaluate("() => window.__logAtStatus") == f"log line of {newest}"
    # ...and the clicked job's log follows.
    expect(log).to_have_value(f"log line of {older}")
    expect(page.locator("#train-chart canvas, #train-chart svg").first).to_be_visible()
    assert legend_shown(page, "train-chart", "train loss")  # not cut off below the chart


def test_plain_values_are_not_serialised_to_be_copied(studio_server, page):
    """The page's copy of a plain value is the value itself (the head script), while objects
    are still deep-copied and uncloneable values still refused, as by the browser."""
    url, _ = studio_server
    page.goto(url)
    expect(page.locator("#apps-create")).to_be_visible()
    result = page.evaluate(
        """() => {
          const shim = structuredClone.toString().includes("browserClone");
          const plain = ["text", 3.5, true, undefined, null, 10n].every(
            (v) => structuredClone(v) === v);
          const obj = { a: [1, { b: "c" }], d: new Date(0) };
          const copy = structuredClone(obj);
          const deep = copy !== obj && copy.a[1] !== obj.a[1] && copy.a[1].b === "c"
            && copy.d instanceof Date && copy.d.getTime() === 0;
          const refused = (v) => { try { structuredClone(v); return false; }
                                   catch (e) { return e.name === "DataCloneError"; } };
          const none = (() => { try { structuredClone(); return false; }
                                catch (e) { return e instanceof TypeError; } })();
          const buf = new ArrayBuffer(8);
          structuredClone(1, { transfer: [buf] });  // a transfer list still detaches
          return { shim, plain, deep, fn: refused(() => 1), sym: refused(Symbol("s")),
                   none, moved: buf.byteLength === 0 };
        }"""
    )
    assert result == {
        "shim": True,
        "plain": True,
        "deep": True,
        "fn": True,
        "sym": True,
        "none": True,
        "moved": True,
    }


def test_calls_are_not_recorded_in_the_browser(two_jobs, page):
    """Gradio's run history (every call's inputs and outputs kept in the browser's storage,
    the whole list rewritten on each status message) is off: a click and a few polls leave
    nothing there, and its page and bucket routes are not served."""
    older, newest, _, _ = two_jobs
    _tab(page, "Train")
    expect(page.locator("#train-status")).to_contain_text(newest)
    page.locator("#train-jobs").get_by_text(older, exact=True).first.click()
    expect(page.locator("#train-log textarea")).to_have_value(f"log line of {older}")
    _calls_during(page, 2)  # a poll or two
    keys = page.evaluate(
        """() => [...Object.keys(localStorage), ...Object.keys(sessionStorage)]
                   .filter((k) => k.startsWith("gradio:run-history"))"""
    )
    assert keys == []
    base = page.url.split("?")[0].rstrip("/")
    assert page.request.get(f"{base}/gradio_api/runs").status == 404
    assert page.request.get(f"{base}/gradio_api/run-history/records").status == 404
