"""API keys and the per-app activity log: the part of the Store that records who did what.

A mixin of Store (studio.store.store). Keys are random 256-bit secrets shown once at
creation; only their SHA-256 is stored (a slow password hash buys nothing for a secret this
long), so a copy of the database does not let anyone call the API.
"""

from __future__ import annotations

import secrets
import time

from studio.errors import NotFoundError, StudioError
from studio.store.rows import new_id
from studio.store.sessions import digest
from studio.store.text import checked_name, printable_text

KEY_PREFIX = "tgs-"
MAX_KEYS_PER_USER = 20


class AccessMixin:
    """API keys (create, list, revoke, look up) and activity rows (log, list)."""

    # -- API keys ---------------------------------------------------------------------
    def create_api_key(self, owner: str, name: str = "") -> tuple[dict, str]:
        """A new key for `owner`: (row without the secret, the secret to show once)."""
        if not owner:
            raise StudioError("Sign in to create an API key.")
        if len(self.list_api_keys(owner)) >= MAX_KEYS_PER_USER:
            raise StudioError(
                f"You already have {MAX_KEYS_PER_USER} API keys (the limit); revoke one first."
            )
        name = checked_name(name, "The key name")
        secret = KEY_PREFIX + secrets.token_urlsafe(32)
        row = dict(
            id=new_id(),
            owner=owner,
            name=name,
            prefix=secret[: len(KEY_PREFIX) + 6],
            key_hash=digest(secret),
            created_at=time.time(),
        )
        with self.transaction() as conn:
            self._insert(conn, "api_keys", row)
        return {k: v for k, v in row.items() if k != "key_hash"}, secret

    def list_api_keys(self, owner: str) -> list[dict]:
        return self._query(
            "SELECT id, owner, name, prefix, created_at, last_used_at FROM api_keys "
            "WHERE owner = ? ORDER BY created_at",
            (owner,),
        )

    def revoke_api_key(self, owner: str, key_id: str) -> None:
        """Delete one of `owner`'s keys; someone else's key id is 'not found'."""
        with self.transaction() as conn:
            cur = conn.execute("DELETE FROM api_keys WHERE id = ? AND owner = ?", (key_id, owner))
            if cur.rowcount == 0:
                raise NotFoundError(f"No API key with id {key_id!r}; it may have been revoked.")

    def user_for_key(self, secret: str | None) -> str | None:
        """The owner of an API key, or None for an unknown (or revoked) key."""
        if not secret or not secret.startswith(KEY_PREFIX):
            return None
        rows = self._query("SELECT id, owner FROM api_keys WHERE key_hash = ?", (digest(secret),))
        if not rows:
            return None
        with self.transaction() as conn:
            conn.execute(
                "UPDATE api_keys SET last_used_at = ? WHERE id = ?", (time.time(), rows[0]["id"])
            )
        return rows[0]["owner"]

    def forget_user(self, owner: str) -> int:
        """Revoke everything that signs `owner` in (their API keys and sessions): a user
        taken out of the users file stays out, even if someone is later added under the
        same name. Returns how many keys and sessions were revoked."""
        with self.transaction() as conn:
            keys = conn.execute("DELETE FROM api_keys WHERE owner = ?", (owner,)).rowcount
            sessions = conn.execute("DELETE FROM sessions WHERE user = ?", (owner,)).rowcount
        return keys + sessions

    # -- activity ---------------------------------------------------------------------
    def log_activity(self, app_id: str, user: str, action: str, detail: str = "") -> None:
        """Record that `user` did `action` (created, trained, deleted, exported...) on an app."""
        # The record must be written whatever the text: what cannot be stored is replaced.
        user, detail = (printable_text(t) for t in (user or "", detail))
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO activity (app_id, user, action, detail, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (app_id, user, action, detail, time.time()),
            )

    def list_all_activity(self, limit: int = 500) -> list[dict]:
        """The whole studio's activity, newest first, with each app's name ("" for actions
        on an account: sign-ins, API keys), for administrators."""
        return self._query(
            "SELECT a.*, COALESCE(p.name, '') AS app_name FROM activity a "
            "LEFT JOIN apps p ON p.id = a.app_id ORDER BY a.created_at DESC, a.id DESC LIMIT ?",
            (limit,),
        )

    def list_activity(self, app_id: str, limit: int = 200) -> list[dict]:
        """The app's activity, newest first."""
        return self._query(
            "SELECT * FROM activity WHERE app_id = ? ORDER BY created_at DESC, id DESC LIMIT ?",
            (app_id, limit),
        )
