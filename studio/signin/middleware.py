"""ASGI middleware of sign-in: send a browser without a user to the login page."""

from __future__ import annotations

from fastapi.responses import RedirectResponse
from starlette.requests import HTTPConnection

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
