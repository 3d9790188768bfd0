"""What a newcomer meets first, in a real browser: the form keeps its settings, errors never
cover an input, and pasted examples become a version on the first click.

No training here (see test_honest_results.py for runs): each test takes seconds.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import fill, shot

pytestmark = [pytest.mark.e2e, pytest.mark.alone]


def _tab(page, name: str) -> None:
    page.get_by_role("tab", name=name, exact=True).click()


def _open(page, url: str) -> None:
    page.goto(url)
    expect(page.locator("#apps-create")).to_be_visible()


def _new_app(page, name: str) -> None:
    fill(page, "apps-name", name)
    page.locator("#apps-create").click()
    expect(page.locator("#apps-current-note")).to_contain_text(name)


def _value(page, elem_id: str) -> str:
    return page.locator(f"#{elem_id} input, #{elem_id} textarea").first.input_value()


def _usable(page, elem_id: str) -> None:
    """The field shows no error pill and takes a click and typing (no overlay above it)."""
    box = page.locator(f"#{elem_id}")
    expect(box).not_to_contain_text("Error")
    field = box.locator("input, textarea").first
    field.click(timeout=3_000)  # fails when another element intercepts the click
    before = field.input_value()
    typed = "7" if field.get_attribute("type") == "number" else "typed"
    field.fill(typed)
    expect(field).to_have_value(typed)
    field.fill(before)


def _toast(page, text: str) -> None:
    expect(page.locator(".toast-body").filter(has_text=text).first).to_be_visible()


def test_template_dropdown_keeps_settings_until_a_real_change(studio_server, page):
    url, _ = studio_server
    _open(page, url)
    _tab(page, "Models")
    fill(page, "models-max-steps", "20")
    fill(page, "models-lr", "0.001")
    # Open the template list and leave it without choosing: nothing may change.
    for _ in range(2):
        page.locator("#models-template input").first.click()
        expect(page.get_by_role("option").first).to_be_visible()
        page.locator("#models-name").click()
        page.wait_for_timeout(800)
    expect(page.locator("#models-max-steps input").first).to_have_value("20")
    expect(page.locator("#models-lr input").first).to_have_value("0.001")
    expect(page.locator("#models-problems")).not_to_contain_text("Template changed")
    # Choosing the same template again is not a change either.
    current = _value(page, "models-template")
    page.locator("#models-template input").first.click()
    page.get_by_role("option", name=current, exact=True).first.click()
    page.wait_for_timeout(800)
    expect(page.locator("#models-max-steps input").first).to_have_value("20")
    # A real change resets the form to that template's defaults, and says so.
    page.locator("#models-template input").first.click()
    other = page.get_by_role("option").filter(has_not_text=current).first
    other_name = other.inner_text().strip()
    other.click()
    expect(page.locator("#models-problems")).to_contain_text("Template changed")
    expect(page.locator("#models-problems")).to_contain_text(other_name.split(" (")[0])
    expect(page.locator("#models-max-steps input").first).not_to_have_value("20")
    shot(page, "newcomer-template-changed")
    # The note speaks of the form as the template left it: the first edit makes it go.
    fill(page, "models-max-steps", "30")
    expect(page.locator("#models-problems")).not_to_contain_text("Template changed")


def test_errors_leave_every_input_usable(studio_server, page, tmp_path):
    url, _ = studio_server
    _open(page, url)
    # Apps: create without a name.
    page.locator("#apps-create").click()
    _toast(page, "name")
    page.wait_for_timeout(500)
    _usable(page, "apps-name")
    _usable(page, "apps-description")
    _new_app(page, "Overlay check")
    # Apps: delete without ticking; the box to tick must be reachable.
    page.get_by_text("Rename or delete the current app").click()
    page.locator("#apps-delete").click()
    _toast(page, "I understand")
    page.wait_for_timeout(500)
    box = page.locator("#apps-delete-confirm")
    expect(box).not_to_contain_text("Error")
    box.locator("input").click(timeout=3_000)
    expect(box.locator("input")).to_be_checked()
    box.locator("input").click()  # keep the app: untick again
    _usable(page, "apps-new-name")
    # Models: save without a name.
    _tab(page, "Models")
    page.locator("#models-save").click()
    expect(page.locator("#models-problems")).to_contain_text("Model name", timeout=90_000)
    page.wait_for_timeout(500)
    for elem in ("models-name", "models-max-steps", "models-lr"):
        _usable(page, elem)
    # Inputs: a file that cannot be read.
    _tab(page, "Inputs")
    bad = tmp_path / "broken.parquet"
    bad.write_bytes(b"this is not a parquet file")
    page.locator("#inputs-upload input[type=file]").set_input_files(str(bad))
    _toast(page, "broken.parquet")
    page.wait_for_timeout(500)
    for elem in ("inputs-paste", "inputs-name"):
        _usable(page, elem)
    page.locator("#inputs-submit").click()
    page.wait_for_timeout(1000)
    for elem in ("inputs-paste", "inputs-name"):
        _usable(page, elem)
    shot(page, "newcomer-errors-inputs-usable")


def test_paste_then_create_on_the_first_click(studio_server, page):
    url, _ = studio_server
    _open(page, url)
    _new_app(page, "Paste check")
    _tab(page, "Inputs")
    rows = ["sentence,label"] + [
        f"Sentence number {i} about the quarter,{'positive' if i % 2 else 'negative'}"
        for i in range(12)
    ]
    box = page.locator("#inputs-paste textarea")
    box.fill("\n".join(rows))
    page.wait_for_timeout(700)  # the time a hand takes to reach the button
    # A human click: the box loses focus on mouse down, the click lands on mouse up.
    button = page.locator("#inputs-submit").bounding_box()
    x, y = button["x"] + button["width"] / 2, button["y"] + button["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.wait_for_timeout(400)
    page.mouse.up()
    expect(page.locator("#inputs-counts")).to_contain_text("12 accepted", timeout=180_000)
    expect(page.locator("#inputs-counts")).to_contain_text("Sentence + label")
    preview = page.locator("#inputs-preview")
    expect(preview).to_contain_text("positive")
    expect(preview).not_to_contain_text("sentence,label")
    shot(page, "newcomer-paste-create")
