"""A newcomer's first steps, second pass, in a real browser: an error replaces the message it
follows (no "Error" pill beside an old success), the first demo app says what it waits for,
the tab bar lists each tab once, and pasted data gets the same mapping step as a file.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ROOT, fill, running_studio, shot

pytestmark = [pytest.mark.e2e, pytest.mark.alone]

PILL = "[data-testid=status-tracker] .error"  # the pill Gradio draws on a failed event


def _open(page, url: str) -> None:
    page.goto(url)
    expect(page.locator("#apps-create")).to_be_visible()


def _tab(page, name: str) -> None:
    page.get_by_role("tab", name=name, exact=True).click()


def _new_app(page, name: str) -> None:
    fill(page, "apps-name", name)
    page.locator("#apps-create").click()
    expect(page.locator("#apps-message")).to_contain_text(f"Created {name}")


def test_an_error_replaces_the_success_it_follows(studio_server, page):
    url, _ = studio_server
    _open(page, url)
    _new_app(page, "FPB by hand")
    fill(page, "apps-name", "FPB by hand")  # the same name again: refused
    page.locator("#apps-create").click()
    message = page.locator("#apps-message")
    expect(message).to_contain_text("already have an app named 'FPB by hand'")
    expect(message).not_to_contain_text("Created")
    expect(message.locator(PILL)).to_have_count(0)
    expect(page.locator(".toast-body").filter(has_text="already have an app").first).to_be_visible()
    # Inputs: Create version with nothing to read says so in its own message box.
    _tab(page, "Inputs")
    page.locator("#inputs-submit").click()
    counts = page.locator("#inputs-counts")
    expect(counts).to_contain_text("Choose one or more files")
    expect(counts.locator(PILL)).to_have_count(0)
    shot(page, "first-steps-error-message")


def test_each_tab_is_listed_once_after_being_opened(studio_server, page):
    url, _ = studio_server
    _open(page, url)
    for name in ("Evaluate / Export", "Generate", "Train", "Evaluate / Export", "Inputs"):
        _tab(page, name)
        page.wait_for_timeout(300)
    expect(page.get_by_role("tab")).to_have_count(6)
    for name in ("Apps", "Inputs", "Models", "Train", "Generate", "Evaluate / Export"):
        expect(page.get_by_role("tab", name=name, exact=True)).to_have_count(1)


def test_pasted_table_gets_the_mapping_step_and_instruction(studio_server, page):
    url, _ = studio_server
    _open(page, url)
    _new_app(page, "Pasted table")
    _tab(page, "Inputs")
    rows = ["sentence,label"] + [
        f"Revenue line {i} of the quarter,{('negative', 'neutral', 'positive')[i % 3]}"
        for i in range(12)
    ]
    # fill() puts the text in at once with no key press, as a paste does.
    page.locator("#inputs-paste textarea").fill("\n".join(rows))
    expect(page.locator("#inputs-mapping")).to_be_visible()
    expect(page.locator("#inputs-mapping")).to_contain_text("Sentence + label")
    instruction = page.locator("#inputs-instruction-text textarea, #inputs-instruction-text input")
    expect(instruction.first).to_have_value(
        "Read the sentence and answer with its label: one of negative, neutral, positive."
    )
    page.locator("#inputs-submit").click()
    expect(page.locator("#inputs-counts")).to_contain_text("12 accepted", timeout=180_000)
    expect(page.locator("#inputs-preview")).to_contain_text("one of negative, neutral, positive")
    shot(page, "first-steps-pasted-mapping")


def test_first_demo_app_says_what_it_waits_for(browser, tmp_path):
    """With the built-in model not converted yet (a fresh models folder), the click on
    Create demo app is answered at once under the button, and the note counts the seconds."""
    home, models = tmp_path / "home", tmp_path / "models"
    with running_studio(home, models) as url:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:
            _open(page, url)
            page.locator("#apps-demo").click()
            note = page.locator("#apps-demo-note")
            expect(note).to_contain_text(
                re.compile(r"(Preparing the built-in model|Creating the demo app).*\d+ s"),
                timeout=5_000,
            )
            expect(note).to_be_in_viewport()
            shot(page, "first-steps-demo-waiting")
            expect(note).to_contain_text("Created Demo: Sentiment", timeout=300_000)
            expect(page.locator("#apps-current-note")).to_contain_text("Demo: Sentiment")
        finally:
            page.close()
    # The conversion started with the server wrote plain lines into its log, no bars.
    log = (home / "server.log").read_text()
    assert "Preparing the embedded SmolLM2-135M-Instruct model" in log and "\r" not in log


def test_a_txt_of_random_characters_is_called_noise(studio_server, page, tmp_path):
    import random
    import string

    rnd = random.Random(7)
    alphabet = string.ascii_letters + string.digits + string.punctuation
    junk = tmp_path / "notes.txt"
    junk.write_text(
        "\n".join(
            " ".join("".join(rnd.choice(alphabet) for _ in range(8)) for _ in range(9))
            for _ in range(30)
        )
    )
    url, _ = studio_server
    _open(page, url)
    _new_app(page, "Junk check")
    _tab(page, "Inputs")
    page.locator("#inputs-upload input[type=file]").set_input_files(str(junk))
    page.locator("#inputs-submit").click()
    counts = page.locator("#inputs-counts")
    expect(counts).to_contain_text("30 accepted", timeout=180_000)
    expect(counts).to_contain_text("This looks like noise, not text")
    expect(page.locator("#inputs-rejects-file")).to_be_hidden()  # 0 rejects: no empty box
    shot(page, "first-steps-noise-warning")
    # A file with a rejected row (a fresh page: the upload box starts empty): now there is
    # a rejects.csv to download.
    page.reload()
    # The page restores the chosen app on load, after a round trip to a busy server.
    expect(page.locator("#apps-current-note")).to_contain_text("Junk check", timeout=60_000)
    _tab(page, "Inputs")
    bad_row = ROOT / "tests" / "assets" / "sentiment_with_bad_row.csv"
    page.locator("#inputs-upload input[type=file]").set_input_files(str(bad_row))
    page.locator("#inputs-submit").click()
    expect(counts).to_contain_text("1 rejected", timeout=180_000)
    expect(counts).not_to_contain_text("looks like noise")
    expect(page.locator("#inputs-rejects-file")).to_contain_text("rejects-")
