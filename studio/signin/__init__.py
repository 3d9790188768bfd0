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

from studio.settings import Settings
from studio.signin.files import FileGuard, file_rule
from studio.signin.identity import (
    SESSION_KEY,
    bearer_key,
    key_user,
    session_secret,
    user_from_request,
)
from studio.signin.login import add_login_routes, add_logout_route, login_html
from studio.signin.middleware import LoginRedirect
from studio.signin.uploads import UploadOwners, UploadRecorder
from studio.store.sessions import SESSION_DAYS

__all__ = [
    "SESSION_KEY",
    "bearer_key",
    "install_sign_in",
    "key_user",
    "login_html",
    "user_from_request",
]


def install_sign_in(api, store, settings: Settings, add_hf_routes=None, uploads=None):
    """Add the session middleware, login routes and page redirect to `api` when sign-in is on.

    `add_hf_routes(api)` installs the Hugging Face OAuth routes (the web layer passes Gradio's
    own), used when sign-in is "hf". `uploads` (an UploadOwners) learns who uploaded each
    file. Returns the auth_dependency for gr.mount_gradio_app, or None when sign-in is off.
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
    uploads = uploads if uploads is not None else UploadOwners()
    api.add_middleware(UploadRecorder, who=auth_dependency, owners=uploads)
    api.add_middleware(FileGuard, who=auth_dependency, may_read=file_rule(store, settings, uploads))

    if settings.sign_in == "hf":
        if add_hf_routes is None:
            raise ValueError("sign-in with Hugging Face needs the OAuth routes (add_hf_routes)")
        # Ours first: FastAPI takes the first route of a path, and this one ends the
        # server-side session as well as clearing the cookie.
        add_logout_route(api, store, "/")
        add_hf_routes(api)
        api.add_middleware(
            SessionMiddleware,
            secret_key=session_secret(settings),
            same_site="none",
            https_only=True,
        )
    else:
        add_login_routes(api, store, settings)
        api.add_middleware(
            SessionMiddleware,
            secret_key=session_secret(settings),
            same_site="lax",
            https_only=False,
            max_age=SESSION_DAYS * 24 * 3600,
        )
    return auth_dependency
