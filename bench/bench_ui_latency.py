"""How quick the page feels, idle and while a job trains: real Chromium clicks, timed from
the click to the moment the page shows the result.

Starts `python app.py` on a free port with its own STUDIO_HOME, makes the sentiment demo app
(SmolLM2 LoRA), then times, `--rounds` times each: tab switches, opening a dropdown, Validate
on the Models tab, and selecting a row of the Train tab's jobs table. Then it starts training
the demo model and times the same interactions while the job runs. Prints p50 / p95 per kind
and the ratio training / idle. Not a test: timings depend on the machine and its load.

    python bench/bench_ui_latency.py [--rounds 12] [--train-threads 0]

Set STUDIO_MODELS_DIR to a folder that already holds the converted base model, or the first
run converts it (a minute or two).

--train-threads sets STUDIO_TRAIN_THREADS for the server (0 = the default: all cores but one);
--root runs another checkout's app.py (a baseline before a change).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.helpers import free_port  # noqa: E402

TABS = ("Apps", "Inputs", "Models", "Train", "Generate", "Evaluate / Export")
# An element that is visible only once its tab is shown.
TAB_MARK = {
    "Apps": "#apps-create",
    "Inputs": "#inputs-submit",
    "Models": "#models-validate",
    "Train": "#train-start",
    "Generate": "#gen-run",
    "Evaluate / Export": "#eval-run",
}


def _server(home: Path, train_threads: int, root: Path = ROOT) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = dict(
        os.environ,
        STUDIO_HOME=str(home),
        STUDIO_PORT=str(port),
        GRADIO_ANALYTICS_ENABLED="False",
        STUDIO_TRAIN_THREADS=str(train_threads),
    )
    log = open(home / "server.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "app.py"], cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("the studio did not start")


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measure(page, rounds: int, job_ids: list[str]) -> dict[str, list[float]]:
    """Milliseconds per interaction kind."""
    out: dict[str, list[float]] = {
        "tab switch": [],
        "dropdown": [],
        "validate": [],
        "job selection": [],
    }
    for i in range(rounds):
        for tab in TABS:
            mark = page.locator(TAB_MARK[tab])
            out["tab switch"].append(
                _timed(
                    lambda t=tab, m=mark: (
                        page.get_by_role("tab", name=t, exact=True)
                        .filter(visible=True)
                        .first.click(),
                        m.wait_for(),
                    )
                )
            )
        page.get_by_role("tab", name="Models", exact=True).filter(visible=True).first.click()

        def open_dropdown():
            page.locator("#models-template input").first.click()
            page.get_by_role("option").first.wait_for()

        out["dropdown"].append(_timed(open_dropdown))
        page.keyboard.press("Escape")
        # Alternate a bad and a good Max steps, so each Validate changes the message.
        bad = i % 2 == 0
        box = page.locator("#models-max-steps input").first
        box.fill("-1" if bad else "0")
        box.press("Tab")
        page.locator("#models-name input, #models-name textarea").first.fill("bench")
        page.wait_for_timeout(300)
        expected = "problem(s)" if bad else "No problems"

        def validate(expected=expected):
            page.locator("#models-validate").click()
            page.locator("#models-problems").filter(has_text=expected).wait_for()

        out["validate"].append(_timed(validate))
        page.get_by_role("tab", name="Train", exact=True).filter(visible=True).first.click()
        table = page.locator("#train-jobs")
        # Select another job first so that each timed click changes the selection.
        job, other = job_ids[i % len(job_ids)], job_ids[(i + 1) % len(job_ids)]
        table.get_by_text(other, exact=True).filter(visible=True).first.click()
        page.locator("#train-status").filter(has_text=other).wait_for()

        def select(job=job, table=table):
            table.get_by_text(job, exact=True).filter(visible=True).first.click()
            page.locator("#train-status").filter(has_text=job).wait_for()

        out["job selection"].append(_timed(select))
    return out


def report(name: str, data: dict[str, list[float]]) -> dict[str, tuple[float, float]]:
    print(f"\n{name}")
    summary = {}
    for kind, values in data.items():
        if not values:
            continue
        p50, p95 = statistics.median(values), _pct(values, 0.95)
        summary[kind] = (p50, p95)
        print(f"  {kind:14s} n={len(values):3d}  p50 {p50:7.0f} ms  p95 {p95:7.0f} ms")
    return summary


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=12)
    ap.add_argument("--train-threads", type=int, default=0)
    ap.add_argument(
        "--root",
        type=Path,
        default=ROOT,
        help="the checkout whose app.py to run (e.g. an older one, as a baseline)",
    )
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    home = Path(tempfile.mkdtemp(prefix="studio-bench-"))
    proc, url = _server(home, args.train_threads, args.root)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=os.environ.get("CHROMIUM", "/usr/bin/chromium"),
                headless=True,
                args=["--no-sandbox", "--disable-gpu"],
            )
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(120_000)
            page.goto(url)
            page.locator("#apps-demo").click()
            page.locator("#apps-message").filter(has_text="Created").wait_for()
            # Two finished-looking rows to select between: two jobs, the first cancelled.
            page.get_by_role("tab", name="Train", exact=True).filter(visible=True).first.click()
            page.locator("#train-start").click()
            page.locator("#train-status").filter(has_text="running").wait_for()
            page.locator("#train-cancel").click()
            page.locator("#train-status").filter(has_text="cancelled").wait_for(timeout=300_000)
            page.locator("#train-start").click()
            page.locator("#train-status").filter(has_text="running").wait_for(timeout=300_000)
            page.locator("#train-cancel").click()
            page.locator("#train-status").filter(has_text="cancelled").wait_for(timeout=300_000)
            from studio.store import Store

            store = Store(home / "studio.db", files_root=home / "apps")
            job_ids = [j["id"] for j in store.list_jobs(kind="train")]
            idle = measure(page, args.rounds, job_ids)
            # Now a job that trains for the whole second measurement.
            page.get_by_role("tab", name="Train", exact=True).filter(visible=True).first.click()
            page.locator("#train-start").click()
            page.locator("#train-progress").filter(has_text="left").wait_for(timeout=300_000)
            busy = measure(page, args.rounds, job_ids)
            still = "running" in page.locator("#train-status").inner_text()
            browser.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
    a = report("idle", idle)
    b = report("while training" + ("" if still else " (the job ended during the run)"), busy)
    print("\nratio training / idle (p95)")
    for kind in a:
        if kind in b:
            print(f"  {kind:14s} {b[kind][1] / max(a[kind][1], 1):.2f}x")


if __name__ == "__main__":
    main()
