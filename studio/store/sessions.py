"""Sign-in sessions kept on the server: a signed cookie only names one, so signing out (or
removing the user) ends every copy of that cookie.

A mixin of Store (studio.store.store). The cookie holds a random 256-bit token; only its
SHA-256 is stored, like API keys, so a copy of the database signs nobody in.
"""

from __future__ import annotations

import hashlib
import secrets
import time

from studio.store.rows import new_id

SESSION_DAYS = 14
_TOUCH_S = 60.0  # last_seen_at is written at most this often per session


def digest(secret: str) -> str:
    """What the store keeps of a secret (a session token, an API key): its SHA-256."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


class SessionsMixin:
    """start_session, session_user, end_session; AccessMixin.forget_user ends them all."""

    def start_session(self, user: str, days: float = SESSION_DAYS) -> str:
        """A new session for `user`; returns the token the cookie carries."""
        token = secrets.token_urlsafe(32)
        now = time.time()
        with self.transaction() as conn:
            conn.execute("DELETE FROM sessions WHERE expires_at < ?", (now,))
            conn.execute(
                "INSERT INTO sessions (id, user, token_hash, created_at, expires_at, "
                "last_seen_at) VALUES (?, ?, ?, ?, ?, ?)",
                (new_id(), user, digest(token), now, now + days * 86400, now),
            )
        return token

    def session_user(self, token: str | None) -> str | None:
        """The user of a live session, or None (unknown, ended or expired)."""
        if not token or not isinstance(token, str):
            return None
        rows = self._query(
            "SELECT id, user, expires_at, last_seen_at FROM sessions WHERE token_hash = ?",
            (digest(token),),
        )
        now = time.time()
        if not rows or rows[0]["expires_at"] < now:
            return None
        if now - rows[0]["last_seen_at"] > _TOUCH_S:
            with self.transaction() as conn:
                conn.execute(
                    "UPDATE sessions SET last_seen_at = ? WHERE id = ?", (now, rows[0]["id"])
                )
        return rows[0]["user"]

    def end_session(self, token: str | None) -> None:
        """End one session (sign-out); an unknown token is ignored."""
        if token and isinstance(token, str):
            with self.transaction() as conn:
                conn.execute("DELETE FROM sessions WHERE token_hash = ?", (digest(token),))
