"""The real page loads in Chromium with its six tabs, quickly."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import shot

pytestmark = pytest.mark.e2e


def test_page_shows_every_tab(studio_server, page):
    url, _ = studio_server
    start = time.time()
    page.goto(url)
    for name in ("Apps", "Inputs", "Models", "Train", "Generate", "Evaluate / Export"):
        expect(page.get_by_role("tab", name=name)).to_be_visible()
    assert time.time() - start < 30
    shot(page, "00-start")
