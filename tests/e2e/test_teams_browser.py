"""Two users in two browser contexts on a studio with sign-in: each signs in on the login
page and neither can see, open, rename or delete the other's app through the page, even
with the other's app id planted in the browser's storage. (Training, generating with,
cancelling and downloading another user's jobs are refused through the same handlers; see
tests/integration/test_teams.py, which calls them with the other user's ids.)"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from studio.users import add_user
from tests.e2e.conftest import fill, running_studio, shot

pytestmark = pytest.mark.e2e
STORAGE_KEY = "textgen-studio-app"


@pytest.fixture(scope="module")
def team_server(tmp_path_factory, models_cache):
    home = tmp_path_factory.mktemp("team-home")
    users = home / "users.txt"
    add_user(users, "ann", "ann-password")
    add_user(users, "bob", "bob-password")
    with running_studio(home / "studio", models_cache, "/login", STUDIO_USERS=str(users)) as url:
        yield url


def _sign_in(browser, url: str, name: str):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(url)
    expect(page).to_have_url(url + "/login")
    page.fill("#login-username", name)
    page.fill("#login-password", "wrong")
    page.click("#login-submit")
    expect(page.get_by_role("alert")).to_contain_text("Wrong user name or password")
    page.fill("#login-username", name)
    page.fill("#login-password", f"{name}-password")
    page.click("#login-submit")
    expect(page.get_by_role("tab", name="Apps")).to_be_visible()
    page.get_by_text("Settings: account and API keys").click()
    expect(page.locator("#settings-who")).to_contain_text(f"Signed in as {name}")
    return context, page


def test_two_users_cannot_reach_each_others_apps(team_server, browser):
    url = team_server
    ann_ctx, ann = _sign_in(browser, url, "ann")
    bob_ctx, bob = _sign_in(browser, url, "bob")
    try:
        fill(ann, "apps-name", "Ann secret app")
        ann.click("#apps-create")
        expect(ann.locator("#apps-current-note")).to_contain_text("Ann secret app")
        expect(ann.locator("#apps-table")).to_contain_text("Ann secret app")
        # The app survives ann's reload (its id is in her browser storage)...
        ann.wait_for_function(f"localStorage.getItem('{STORAGE_KEY}')")
        ann.reload()
        expect(ann.locator("#apps-current-note")).to_contain_text("Ann secret app")
        planted = ann.evaluate(f"localStorage.getItem('{STORAGE_KEY}')")
        assert planted
        # ...but bob sees nothing of it, even with ann's app id planted in his browser.
        bob.evaluate(f"localStorage.setItem('{STORAGE_KEY}', {planted!r})")
        bob.reload()
        expect(bob.locator("#apps-current-note")).to_contain_text("No app chosen yet")
        expect(bob.locator("#apps-table")).not_to_contain_text("Ann secret app")
        bob.locator("#apps-current input").first.click()
        expect(bob.get_by_role("option", name="Ann secret app")).to_have_count(0)
        # Rename and delete act on nothing for bob.
        bob.keyboard.press("Escape")
        bob.get_by_text("Rename or delete the current app").click()
        fill(bob, "apps-new-name", "taken over")
        bob.click("#apps-rename")
        message = bob.locator("#apps-message")  # the error is the message (and a toast)
        expect(message).to_contain_text("Choose the app to rename in Current app first")
        bob.locator("#apps-delete-confirm input").check()
        bob.click("#apps-delete")
        expect(message).to_contain_text("Choose the app to delete in Current app first")
        # The Inputs tab shows bob no app to upload into.
        bob.get_by_role("tab", name="Inputs").click()
        expect(bob.locator("#inputs-no-app")).to_be_visible()
        shot(bob, "teams-bob-sees-nothing")
        ann.reload()
        expect(ann.locator("#apps-current-note")).to_contain_text("Ann secret app")
        expect(ann.locator("#apps-table")).not_to_contain_text("taken over")
    finally:
        ann_ctx.close()
        bob_ctx.close()
