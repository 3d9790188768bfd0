"""Sign-in for the mounted page, the Gradio API and /v1: who is asking?

    auth = install_sign_in(api, store, settings, add_hf_routes=...)  # before mounting
    gr.mount_gradio_app(api, blocks, "/", auth_dependency=auth, ...)

Gradio's `auth_dependency` (a function request -> user name or None) is the mechanism
Gradio offers a mounted app: every page, upload, file and queue route refuses a request it
answers None for, and `gr.Request.username` carries the name into the handlers. A request
names its user in one of two ways:

- `Authorization: Bearer tgs-...`: an API key (gradio_client `headers=`, curl, the OpenAI
  client); the key's owner is the user. A wrong key is refused, never treated as "no key".
- a signed session cookie (Starlette's SessionMiddleware, the one Gradio's own OAuth uses):
  set by the login form at /login (users file, `studio.users`) or, on a Space, by
  "Sign in with Hugging Face" (Gradio's OAuth routes; the user is the HF username).

A browser asking for the page without a session is sent to the login page.
"""

from __future__ import annotations

import hashlib
import html
import os
import secrets
from urllib.parse import quote

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.requests import HTTPConnection

from studio.settings import Settings
from studio.users import check_login, is_listed

SESSION_KEY = "studio_user"
_OPEN = (
    "/login",
    "/logout",
    "/v1/",
    "/gradio_api/",
    "/assets/",
    "/static/",
    "/favicon",
    "/manifest.json",
    "/theme.css",
    "/svelte/",
    "/custom_component/",
)


def bearer_key(request) -> str | None:
    auth = request.headers.get("authorization") or ""
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip()
    return None


def key_user(key: str | None, store, settings: Settings) -> str | None:
    """The owner of an API key while they may still sign in, else None.

    With a users file, the key's owner must still be in it, checked on every use: a user
    removed from the file loses their keys at once (and they are revoked, so adding the
    name again does not bring them back)."""
    user = store.user_for_key(key) if key else None
    if user is None:
        return None
    if settings.sign_in == "users" and not is_listed(settings.users_file, user):
        store.forget_user(user)
        return None
    return user


def user_from_request(request, store, settings: Settings) -> str | None:
    """The signed-in user of a request, or None (not signed in, or a wrong API key)."""
    key = bearer_key(request)
    if key is not None:
        return key_user(key, store, settings)
    session = request.scope.get("session") or {}
    if settings.sign_in == "users":
        name = session.get(SESSION_KEY)
        # A user removed from the file is signed out at their next request.
        if name and settings.users_file and is_listed(settings.users_file, name):
            return name
        return None
    if settings.sign_in == "hf":
        info = (session.get("oauth_info") or {}).get("userinfo") or {}
        return info.get("preferred_username") or None
    return None


def _session_secret(settings: Settings) -> str:
    if settings.sign_in == "hf":
        # The same secret Gradio's attach_oauth derives, so its OAuth routes and ours agree.
        return hashlib.sha256(
            ((os.environ.get("OAUTH_CLIENT_SECRET") or "") + "-v4").encode()
        ).hexdigest()
    path = settings.home / "session.key"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return path.read_text().strip()


def install_sign_in(api, store, settings: Settings, add_hf_routes=None):
    """Add the session middleware, login routes and page redirect to `api` when sign-in is on.

    `add_hf_routes(api)` installs the Hugging Face OAuth routes (the web layer passes Gradio's
    own), used when sign-in is "hf". Returns the auth_dependency for gr.mount_gradio_app, or
    None when sign-in is off.
    """
    if not settings.signed_in:
        return None
    if settings.sign_in == "users" and not settings.users_file:
        raise ValueError(
            "STUDIO_SIGN_IN=users needs STUDIO_USERS, the users file "
            "(python -m studio.users add NAME creates it)"
        )
    from starlette.middleware.sessions import SessionMiddleware

    def auth_dependency(request) -> str | None:
        return user_from_request(request, store, settings)

    login_url = "/login/huggingface" if settings.sign_in == "hf" else "/login"
    api.add_middleware(LoginRedirect, login_url=login_url, who=auth_dependency)

    if settings.sign_in == "hf":
        if add_hf_routes is None:
            raise ValueError("sign-in with Hugging Face needs the OAuth routes (add_hf_routes)")
        add_hf_routes(api)
        api.add_middleware(
            SessionMiddleware,
            secret_key=_session_secret(settings),
            same_site="none",
            https_only=True,
        )
    else:
        _add_login_routes(api, settings)
        api.add_middleware(
            SessionMiddleware,
            secret_key=_session_secret(settings),
            same_site="lax",
            https_only=False,
            max_age=14 * 24 * 3600,
        )
    return auth_dependency


class LoginRedirect:
    """Pure ASGI middleware (streams pass through untouched): a browser asking for a page
    without a user is sent to the login page; API routes answer 401 themselves."""

    def __init__(self, app, login_url: str, who):
        self.app, self.login_url, self.who = app, login_url, who

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["method"] == "GET":
            conn = HTTPConnection(scope)
            path = scope["path"]
            wants_page = not path.startswith(_OPEN) and "text/html" in (
                conn.headers.get("accept") or ""
            )
            if wants_page and self.who(conn) is None:
                await RedirectResponse(self.login_url, status_code=303)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _add_login_routes(api, settings: Settings) -> None:
    @api.get("/login", include_in_schema=False)
    async def login_page(error: str = ""):
        return HTMLResponse(login_html(error))

    @api.post("/login", include_in_schema=False)
    async def login(request: Request, username: str = Form(""), password: str = Form("")):
        from starlette.concurrency import run_in_threadpool

        name = username.strip()
        ok = await run_in_threadpool(check_login, settings.users_file, name, password)
        if not ok:
            return RedirectResponse(
                "/login?error=" + quote("Wrong user name or password."), status_code=303
            )
        request.session.clear()
        request.session[SESSION_KEY] = name
        return RedirectResponse("/", status_code=303)

    @api.get("/logout", include_in_schema=False)
    async def logout(request: Request):
        request.session.clear()
        return RedirectResponse("/login", status_code=303)


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
