"""Browser fixtures: the real studio started as `python app.py` in a subprocess, and headless
Chromium (Debian's /usr/bin/chromium, or $CHROMIUM) driven by Playwright.

In CI (CI=true) a missing browser is an error, not a skip: the flow test must really run.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.helpers import free_port

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "tests" / "e2e" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _chromium() -> str | None:
    return os.environ.get("CHROMIUM") or shutil.which("chromium") or None


@pytest.fixture(scope="session")
def browser():
    exe = _chromium()
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed; scripts/setup.sh --dev installs it")
        pytest.skip("chromium is not installed (scripts/setup.sh --dev installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=exe, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@contextlib.contextmanager
def running_studio(home: Path, models_cache: Path, ready_path: str = "/", **env_extra: str):
    """`python app.py` on a free port with its own STUDIO_HOME; yields its url, then stops it."""
    port = free_port()
    env = dict(
        os.environ,
        STUDIO_HOME=str(home),
        STUDIO_PORT=str(port),
        STUDIO_MODELS_DIR=str(models_cache),
        GRADIO_ANALYTICS_ENABLED="False",
        PYTHONUNBUFFERED="1",
        **env_extra,
    )
    log_path = home / "server.log"
    home.mkdir(parents=True, exist_ok=True)
    log = open(log_path, "w")
    proc = subprocess.Popen(
        [sys.executable, "app.py"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(log_path.read_text())
        try:
            if httpx.get(url + ready_path, timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.3)
    else:
        proc.kill()
        raise RuntimeError("studio did not start:\n" + log_path.read_text())
    try:
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="module")
def studio_server(tmp_path_factory, models_cache):
    """`python app.py` on a free port with its own STUDIO_HOME; yields (url, home)."""
    home = tmp_path_factory.mktemp("studio-home")
    with running_studio(home, models_cache) as url:
        yield url, home


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.call_report = report


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    yield pg
    report = getattr(request.node, "call_report", None)
    if report is not None and report.failed:  # what the page showed when the test failed
        shot(pg, f"FAILED-{request.node.name}")
    context.close()


def shot(page, name: str) -> Path:
    """Save a full-page screenshot under tests/e2e/screenshots/."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def fill(page, elem_id: str, value) -> None:
    """Type into a Gradio textbox or number field (by elem_id) and leave it, as a user does."""
    box = page.locator(f"#{elem_id} textarea, #{elem_id} input").first
    box.fill(str(value))
    box.press("Tab")


def pick(page, elem_id: str, option: str) -> None:
    """Open a Gradio dropdown (by elem_id) and click the first option matching `option`."""
    page.locator(f"#{elem_id} input").first.click()
    page.get_by_role("option", name=re.compile(re.escape(option))).first.click()


def legend_shown(page, elem_id: str, text: str) -> bool:
    """Whether a chart (by elem_id) shows a legend entry holding `text` inside its box: an
    entry drawn past the bottom of the chart's block is in the page but cut off."""
    return page.evaluate(
        """([id, text]) => {
          const block = document.getElementById(id);
          const svg = block && block.querySelector("svg.marks");
          if (!svg) return false;
          const box = block.getBoundingClientRect();
          return [...svg.querySelectorAll("text")].some((t) => {
            if (!t.textContent.includes(text)) return false;
            const r = t.getBoundingClientRect();
            return r.height > 0 && r.top >= box.top && r.bottom <= box.bottom + 1;
          });
        }""",
        [elem_id, text],
    )
