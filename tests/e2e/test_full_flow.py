"""The whole flow in a real browser, as a user does it, on the real SmolLM2 model.

Create an app → upload the sentiment CSV (one bad row) and see the counts and the reason →
Text Generator + SmolLM2 LoRA, change hyperparameters, save → Train, watch the chart and the
log, reload the page mid-run and find the job still live (and in a second browser) → wait
for success → generate (streamed) → compare with the base → evaluate → download the adapter.
A screenshot of every step lands in tests/e2e/screenshots/.
"""

from __future__ import annotations

import re
import zipfile

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ROOT, fill, pick, shot

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SENTIMENT_CSV = ROOT / "tests" / "assets" / "sentiment_with_bad_row.csv"
INSTRUCTION = (
    "What is the sentiment of this sentence? Please choose an answer from "
    "{negative/neutral/positive}"
)
MINUTE = 60_000


def _tab(page, name: str) -> None:
    page.get_by_role("tab", name=name, exact=True).click()


def _watch_output(page) -> None:
    """Record every distinct value the Generate output box takes (to see it stream)."""
    page.evaluate(
        """() => {
        window.__seen = [];
        const initial = document.querySelector('#gen-output textarea')?.value;  // last run's
        clearInterval(window.__rec);
        window.__rec = setInterval(() => {
          const box = document.querySelector('#gen-output textarea');  // re-rendered on updates
          const v = box ? box.value : '';
          if (!window.__seen.length && v === initial) return;
          if (v && window.__seen[window.__seen.length - 1] !== v) window.__seen.push(v);
        }, 5);
      }"""
    )


def _run_and_wait(page, button: str, stats: str, outputs: tuple[str, ...]) -> str:
    """Click a generate button; wait until that run has finished; return its stats line.

    While an event runs Gradio shows an overlay over its outputs ("0.1s", "queue: 1/1",
    "processing | 0.2s"), above the previous run's line, which may say "finished" too. The run
    has started once an overlay or a line without "finished" appears, and is done once a
    finished line stands alone again.
    """
    page.evaluate(
        """([stats, outputs]) => {
        window.__phase = 'clicked';
        window.__trace = [];
        const overlay = /processing|queue:|^\\s*\\d+(\\.\\d+)?s\\b/m;
        clearInterval(window.__phaser);
        window.__phaser = setInterval(() => {
          const texts = [stats, ...outputs].map(s => document.querySelector(s)?.innerText || '');
          const seen = texts.join(' | ');
          if (window.__trace[window.__trace.length - 1] !== seen) window.__trace.push(seen);
          const pending = texts.some(t => overlay.test(t));
          const finished = texts[0].includes('finished');
          if (window.__phase === 'clicked' && (pending || !finished)) window.__phase = 'started';
          else if (window.__phase === 'started' && finished && !pending) window.__phase = 'done';
        }, 5);
      }""",
        [stats, list(outputs)],
    )
    page.locator(button).click()
    try:
        page.wait_for_function("() => window.__phase === 'done'", timeout=3 * MINUTE)
    except Exception:
        trace = page.evaluate("() => [window.__phase, ...window.__trace.slice(-15)]")
        raise AssertionError(f"{button}: the run did not finish; states seen: {trace}") from None
    return page.locator(stats).inner_text()


def test_from_upload_to_generated_text(studio_server, page, browser, packaged_model_dir):
    url, _home = studio_server
    page.goto(url)

    # 1. Apps: create an app; it becomes the current app.
    fill(page, "apps-name", "Sentiment flow")
    page.locator("#apps-create").click()
    expect(page.locator("#apps-message")).to_contain_text("Created", timeout=MINUTE)
    shot(page, "01-apps")

    # 2. Inputs: upload the Clarifai-template CSV; 24 accepted, the bad row shown with why.
    _tab(page, "Inputs")
    page.locator("#inputs-upload input[type=file]").set_input_files(str(SENTIMENT_CSV))
    expect(page.locator("#inputs-mapping")).to_be_visible(timeout=MINUTE)
    expect(page.locator("#inputs-mapping")).to_contain_text("Clarifai")
    page.locator("#inputs-submit").click()
    counts = page.locator("#inputs-counts")
    expect(counts).to_contain_text("24 accepted", timeout=2 * MINUTE)
    expect(counts).to_contain_text("1 rejected")
    expect(page.locator("#inputs-rejects")).to_contain_text("no target section")
    expect(page.locator("#inputs-rejects")).to_contain_text("14")  # the row number
    expect(page.locator("#inputs-stats")).to_contain_text("classification")
    shot(page, "02-inputs")

    # 3. Models: Text Generator, the SmolLM2 LoRA template, two hyperparameters changed.
    _tab(page, "Models")
    page.get_by_label("Text Generator").check()
    expect(page.locator("#models-template input").first).to_have_value(re.compile("SmolLM2"))
    expect(page.locator("#models-dataset input").first).to_have_value(re.compile("24 rows"))
    fill(page, "models-name", "sentiment-lora")
    fill(page, "models-lr", "0.001")
    fill(page, "models-max-steps", "8")
    page.locator("#models-save").click()
    expect(page.locator("#models-problems")).to_contain_text("Saved sentiment-lora v1")
    expect(page.locator("#models-saved")).to_contain_text("sentiment-lora")
    shot(page, "03-models")

    # 4. Train: press Train; the status, the log and the chart come alive.
    _tab(page, "Train")
    expect(page.locator("#train-model input").first).to_have_value(re.compile("sentiment-lora"))
    page.locator("#train-start").click()
    status = page.locator("#train-status")
    expect(status).to_contain_text(re.compile("queued|running"), timeout=MINUTE)
    expect(page.locator("#train-log textarea")).to_have_value(
        re.compile("studio.train"), timeout=2 * MINUTE
    )
    expect(page.locator("#train-progress")).to_contain_text(
        re.compile(r"step [1-8] / 8"), timeout=3 * MINUTE
    )
    job_id = re.search(r"Job (\w+)", status.inner_text()).group(1)
    shot(page, "04-train-live")

    # A reload during training finds the same job, still live.
    page.reload()
    _tab(page, "Train")
    expect(status).to_contain_text(f"Job {job_id}", timeout=MINUTE)
    # …and so does a second browser that picks the app.
    other = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        second = other.new_page()
        second.goto(url)
        pick(second, "apps-current", "Sentiment flow")
        _tab(second, "Train")
        expect(second.locator("#train-status")).to_contain_text(f"Job {job_id}", timeout=MINUTE)
    finally:
        other.close()
    expect(status).to_contain_text("succeeded", timeout=8 * MINUTE)
    expect(page.locator("#train-progress")).to_contain_text("step 8 / 8")
    expect(page.locator("#train-jobs")).to_contain_text("succeeded")
    # The chart holds points (a line per series once there are two steps).
    expect(page.locator("#train-chart canvas, #train-chart svg").first).to_be_visible()
    shot(page, "05-train-done")

    # 5. Generate: the tuned model, the prompt rendered as in training, streamed.
    _tab(page, "Generate")
    pick(page, "gen-model", "Trained: sentiment-lora")
    # The tuned model offers the instruction it was trained on; the user then types the input.
    expect(page.locator("#gen-instruction textarea")).to_have_value(INSTRUCTION, timeout=MINUTE)
    fill(page, "gen-input", "Shares of Northwind Energy fell 12% after it cut its forecast.")
    preview = page.locator("#gen-prompt-preview textarea")
    expect(preview).to_have_value(
        re.compile(r"### Human: Shares of Northwind.*### Assistant:"), timeout=MINUTE
    )
    stats = _run_and_wait(page, "#gen-run", "#gen-stats", ("#gen-output",))
    assert "tokens/s" in stats and "first token after" in stats
    answer = page.locator("#gen-output textarea").input_value().strip()
    assert answer, "the tuned model answered nothing"

    # Streaming is visible: the base model's longer free-text continuation arrives in pieces
    # (the tuned model now answers every text with a label).
    pick(page, "gen-model", "Base: SmolLM2")
    page.get_by_label("Free text").check()
    fill(page, "gen-text", "The quarterly report of the company shows that")
    _watch_output(page)
    _run_and_wait(page, "#gen-run", "#gen-stats", ("#gen-output",))
    seen = page.evaluate("() => window.__seen")
    shot(page, "06-generate")
    assert len(seen) >= 3, f"the output arrived in {len(seen)} piece(s): {seen}"
    assert all(seen[-1].startswith(s) for s in seen), "chunks must extend the text"

    # 6. Compare: the same prompt through the tuned model and its real base.
    pick(page, "gen-model", "Trained: sentiment-lora")
    page.get_by_label("Instruction", exact=True).check()
    _run_and_wait(
        page,
        "#gen-compare-run",
        "#gen-compare-right-stats",
        ("#gen-compare-left", "#gen-compare-right", "#gen-compare-left-stats"),
    )
    expect(page.locator("#gen-compare-left-stats")).to_contain_text("finished", timeout=MINUTE)
    expect(page.locator("#gen-compare-left-stats")).to_contain_text("sentiment-lora")
    expect(page.locator("#gen-compare-right-stats")).to_contain_text("(base)")
    left = page.locator("#gen-compare-left textarea").input_value()
    right = page.locator("#gen-compare-right textarea").input_value()
    assert left.strip() == answer  # greedy: the tuned side repeats the tuned answer
    assert left != right, "the base side gave the tuned answer: is it really the base?"
    shot(page, "07-compare")

    # 7. Evaluate: perplexity, classification and the batch table, run as a job.
    _tab(page, "Evaluate / Export")
    pick(page, "eval-model", "sentiment-lora")
    expect(page.locator("#eval-version input").first).to_have_value(
        re.compile("sentiment"), timeout=MINUTE
    )
    page.locator("#eval-run").click()
    expect(page.locator("#eval-status")).to_contain_text("succeeded", timeout=8 * MINUTE)
    results = page.locator("#eval-results")
    expect(results).to_contain_text(re.compile("[Pp]erplexity"), timeout=MINUTE)
    expect(results).to_contain_text(re.compile("[Aa]ccuracy"))
    expect(page.locator("#eval-batch-table")).to_contain_text("sentiment")  # validation rows
    shot(page, "08-evaluate")

    # 8. Export: download the adapter zip; it holds what PEFT loads.
    page.locator("#export-adapter").click()
    link = page.locator("#export-adapter-file a").first
    expect(link).to_be_visible(timeout=2 * MINUTE)
    with page.expect_download() as download:
        link.click()
    names = zipfile.ZipFile(download.value.path()).namelist()
    assert {"adapter_config.json", "adapter_model.safetensors"} <= {n.split("/")[-1] for n in names}
    shot(page, "09-export")
