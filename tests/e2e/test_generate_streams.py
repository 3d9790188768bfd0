"""Generate and Compare in one page: one click stops the other's stream, and every stream
ends in a state the page shows (finished, stopped or failed). Also: a new run clears the last
output at once, no rate over a token or two, and the Output box above the fold at 1000 px."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import fill, pick, shot

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.alone]
MINUTE = 60_000  # the exact model decodes 64 tokens per side: minutes on a busy 2-core CPU
FINISHED = re.compile(r"finished: (stop|length)")


def _open_generate(page, url: str) -> None:
    page.goto(url)
    page.get_by_role("tab", name="Generate", exact=True).click()
    expect(page.locator("#gen-model input")).to_have_value(re.compile("SmolLM2"), timeout=MINUTE)
    page.get_by_label("Free text").check()
    fill(page, "gen-text", "Once upon a time, in a small village by the sea,")
    pick(page, "gen-compare-with", "Base: SmolLM2")


def _streaming(page, box: str) -> None:
    """Wait until `box` holds some text of a run in progress."""
    expect(page.locator(f"{box} textarea")).not_to_have_value("", timeout=2 * MINUTE)


def test_the_output_box_is_in_view_at_1000_px(studio_server, page):
    url, _ = studio_server
    page.goto(url)
    page.get_by_role("tab", name="Generate", exact=True).click()
    expect(page.locator("#gen-model input")).to_have_value(re.compile("SmolLM2"), timeout=MINUTE)
    box = page.locator("#gen-output").bounding_box()  # the Instruction mode, the tallest form
    assert box is not None and box["y"] + box["height"] <= 1000, f"the Output box is at {box}"


def test_compare_stops_a_streaming_generate_and_the_other_way_round(studio_server, page):
    url, _ = studio_server
    _open_generate(page, url)
    page.locator("#gen-run").click()
    _streaming(page, "#gen-output")
    expect(page.locator("#gen-stats")).not_to_contain_text(re.compile(r"^\s*1 tokens?\b.*tokens/s"))
    page.locator("#gen-compare-run").click()
    # Generate says it was stopped; both Compare panes run to their end and say so.
    expect(page.locator("#gen-stats")).to_contain_text(
        "stopped: Compare was started", timeout=MINUTE
    )
    for side in ("left", "right"):
        expect(page.locator(f"#gen-compare-{side}-stats")).to_contain_text(
            FINISHED, timeout=6 * MINUTE
        )
        assert page.locator(f"#gen-compare-{side} textarea").input_value().strip()
    shot(page, "generate-stopped-by-compare")

    # The other way round: Generate clicked while Compare streams.
    page.locator("#gen-compare-run").click()
    expect(page.locator("#gen-compare-left-stats")).not_to_contain_text(FINISHED, timeout=MINUTE)
    _streaming(page, "#gen-compare-left")
    page.locator("#gen-run").click()
    expect(page.locator("#gen-output textarea")).to_have_value("", timeout=MINUTE)  # cleared
    stopped = page.locator("#gen-compare-left-stats, #gen-compare-right-stats").filter(
        has_text="stopped: Generate was started"
    )
    expect(stopped.first).to_be_visible(timeout=MINUTE)
    expect(page.locator("#gen-stats")).to_contain_text(FINISHED, timeout=6 * MINUTE)
    assert page.locator("#gen-output textarea").input_value().strip()
    shot(page, "compare-stopped-by-generate")
