"""Who a request is: an API key (checked against the users file at every use) or a
signed session cookie (users file, or Hugging Face OAuth)."""

from __future__ import annotations

import hashlib
import os
import secrets

from studio.settings import Settings
from studio.users import is_listed

SESSION_KEY = "studio_session"  # the cookie's field holding the server-side session token


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
    session = request.scope.get("session")
    if session is None:
        return None
    if settings.sign_in == "users":
        name = store.session_user(session.get(SESSION_KEY))
        # A user removed from the file is signed out at their next request.
        if name and is_listed(settings.users_file, name):
            return name
        return None
    if settings.sign_in == "hf":
        info = (session.get("oauth_info") or {}).get("userinfo") or {}
        name = info.get("preferred_username") or None
        if name and SESSION_KEY not in session:  # just back from Hugging Face: a new session
            session[SESSION_KEY] = store.start_session(name)
        return name if name and store.session_user(session.get(SESSION_KEY)) == name else None
    return None


def session_secret(settings: Settings) -> str:
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
