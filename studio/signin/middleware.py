"""ASGI middleware of sign-in: nothing answers a request without a user, except the login
routes. Deny by default: a route added later (by the studio or by Gradio) is closed too.

A browser asking for a page without a user is sent to the login page; any other request
without a user gets 401. /v1 answers its own 401 (an OpenAI-style error body).
"""

from __future__ import annotations

from fastapi.responses import JSONResponse, RedirectResponse
from starlette.requests import HTTPConnection

# Paths a request without a user may reach: signing in and out (the login page is one
# self-contained document), and /v1, whose own check answers in OpenAI's error format.
PUBLIC = ("/login", "/logout", "/favicon.ico", "/robots.txt")
OWN_CHECK = ("/v1/",)


def is_public(path: str) -> bool:
    """Whether `path` may be reached without a user."""
    return path.startswith(OWN_CHECK) or any(
        path == p or path.startswith(p + "/") or path.startswith(p + "?") for p in PUBLIC
    )


class LoginRedirect:
    """Pure ASGI middleware (streams pass through untouched): a request without a user is
    sent to the login page (a browser asking for a page) or refused with 401."""

    def __init__(self, app, login_url: str, who):
        self.app, self.login_url, self.who = app, login_url, who

    async def __call__(self, scope, receive, send):
        if scope["type"] in ("http", "websocket") and not is_public(scope["path"]):
            conn = HTTPConnection(scope)
            if self.who(conn) is None:
                if scope["type"] == "websocket":
                    await send({"type": "websocket.close", "code": 1008})
                    return
                wants_page = scope["method"] == "GET" and "text/html" in (
                    conn.headers.get("accept") or ""
                )
                answer = (
                    RedirectResponse(self.login_url, status_code=303)
                    if wants_page
                    else JSONResponse({"detail": "Not authenticated"}, status_code=401)
                )
                await answer(scope, receive, send)
                return
        await self.app(scope, receive, send)
