"""The login page and its routes (/login, /logout) for sign-in with a users file; failed
passwords are throttled per name and per address (studio.signin.throttle)."""

from __future__ import annotations

import html
import math

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from studio.settings import Settings
from studio.signin.identity import SESSION_KEY
from studio.signin.throttle import HashingGate, SignInThrottle
from studio.users import check_login

# The login page shows only these messages, named by a code in its address: any other
# ?error= text (a phishing line in a link) shows nothing.
MESSAGES = {
    "wrong": "Wrong user name or password.",
    "wait": "Too many failed sign-ins: try again in {seconds} seconds.",
    "busy": "The studio is busy signing people in: try again in a moment.",
}


def _refused(code: str, seconds: int = 0) -> RedirectResponse:
    extra = f"&seconds={seconds}" if seconds else ""
    return RedirectResponse(f"/login?error={code}{extra}", status_code=303)


def message_for(code: str, seconds: str = "") -> str:
    """The login page's message for `code` ("" for an unknown one)."""
    text = MESSAGES.get(code, "")
    if "{seconds}" in text:
        wait = int(seconds) if seconds.isdigit() and len(seconds) < 7 else 0
        text = text.format(seconds=wait) if wait else MESSAGES["wait"].split(":")[0] + "."
    return text


def add_login_routes(
    api,
    store,
    settings: Settings,
    throttle: SignInThrottle | None = None,
    gate: HashingGate | None = None,
) -> None:
    throttle = throttle or SignInThrottle()
    gate = gate or HashingGate()

    @api.get("/login", include_in_schema=False)
    async def login_page(error: str = "", seconds: str = ""):
        return HTMLResponse(login_html(message_for(error, seconds)))

    @api.post("/login", include_in_schema=False)
    async def login(request: Request, username: str = Form(""), password: str = Form("")):
        name = username.strip()[:200]
        address = request.client.host if request.client else ""
        if (wait := throttle.wait_s(name, address)) > 0:
            return _refused("wait", math.ceil(wait))
        async with gate.slot() as admitted:
            if not admitted:
                return _refused("busy")
            ok = await run_in_threadpool(check_login, settings.users_file, name, password)
        if not ok:
            throttle.failed(name, address)
            await run_in_threadpool(
                store.log_activity, "", name[:64], "sign-in failed", f"from {address}"
            )
            return _refused("wrong")
        throttle.succeeded(name, address)
        await run_in_threadpool(store.log_activity, "", name, "signed in", f"from {address}")
        request.session.clear()
        request.session[SESSION_KEY] = await run_in_threadpool(store.start_session, name)
        return RedirectResponse("/", status_code=303)

    add_logout_route(api, store, "/login")


def add_logout_route(api, store, then: str) -> None:
    """GET /logout ends the server-side session (so no saved copy of the cookie works any
    more), clears the cookie and goes to `then`."""

    @api.get("/logout", include_in_schema=False)
    async def logout(request: Request):
        token = request.session.get(SESSION_KEY)
        user = await run_in_threadpool(store.session_user, token)
        await run_in_threadpool(store.end_session, token)
        if user:
            await run_in_threadpool(store.log_activity, "", user, "signed out", "")
        request.session.clear()
        return RedirectResponse(then, status_code=303)


def login_html(error: str = "") -> str:
    """The login page: a plain form that posts to /login."""
    note = f'<p class="error" role="alert">{html.escape(error)}</p>' if error else ""
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in · TextGen Studio</title><style>
body{{font-family:system-ui,sans-serif;background:#f5f5fb;display:grid;place-items:center;
min-height:100vh;margin:0}} form{{background:#fff;padding:2rem 2.5rem;border-radius:12px;
box-shadow:0 2px 12px #0002;display:grid;gap:.8rem;min-width:18rem}}
input{{padding:.55rem;border:1px solid #bbb;border-radius:6px;font-size:1rem}}
button{{padding:.6rem;border:0;border-radius:6px;background:#4f46e5;color:#fff;font-size:1rem}}
.error{{color:#b91c1c;margin:0}}</style></head><body>
<form method="post" action="/login"><h1 style="margin:0 0 .5rem">TextGen Studio</h1>{note}
<label>User name <input name="username" id="login-username" autocomplete="username" required
autofocus></label>
<label>Password <input name="password" id="login-password" type="password"
autocomplete="current-password" required></label>
<button type="submit" id="login-submit">Sign in</button></form></body></html>"""
