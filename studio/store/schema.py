"""Schema and forward migrations. `MIGRATIONS[i]` takes the database from version i to i+1:
SQL statements, or a function of the open connection for a change SQL cannot say (rows
rewritten in Python), run in the same transaction.

Add a migration by appending to the list; never edit one that has shipped.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable

from studio.store.upgrade import upgrade_model_config


def _studio_section(conn: sqlite3.Connection) -> None:
    """Each saved model keeps its settings once: the five dicts and the studio section (the
    form's values, stored beside them until now, are derived from those)."""
    rows = conn.execute("SELECT id, config FROM models").fetchall()
    for model_id, text in rows:
        try:
            config = json.loads(text or "{}")
        except ValueError:
            continue  # nothing the studio wrote; left for the page to report
        if isinstance(config, dict):
            new = upgrade_model_config(config)
            conn.execute("UPDATE models SET config = ? WHERE id = ?", (json.dumps(new), model_id))


MIGRATIONS: list[str | Callable[[sqlite3.Connection], None]] = [
    # 0 -> 1: the whole flow
    """
    CREATE TABLE apps (
        id TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        name TEXT NOT NULL,
        description TEXT NOT NULL DEFAULT '',
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        UNIQUE (owner, name)
    );
    CREATE TABLE datasets (
        id TEXT PRIMARY KEY,
        app_id TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        created_at REAL NOT NULL,
        UNIQUE (app_id, name)
    );
    CREATE TABLE dataset_versions (
        id TEXT PRIMARY KEY,
        dataset_id TEXT NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
        version INTEGER NOT NULL,
        content_hash TEXT NOT NULL,
        path TEXT NOT NULL,
        source TEXT NOT NULL DEFAULT '',
        n_rows INTEGER NOT NULL DEFAULT 0,
        n_accepted INTEGER NOT NULL DEFAULT 0,
        n_rejected INTEGER NOT NULL DEFAULT 0,
        n_duplicates INTEGER NOT NULL DEFAULT 0,
        valid_pct REAL NOT NULL DEFAULT 10,
        seed INTEGER NOT NULL DEFAULT 42,
        stats TEXT NOT NULL DEFAULT '{}',
        created_at REAL NOT NULL,
        UNIQUE (dataset_id, version)
    );
    CREATE TABLE models (
        id TEXT PRIMARY KEY,
        app_id TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        version INTEGER NOT NULL,
        template TEXT NOT NULL,
        model_type TEXT NOT NULL,
        dataset_version_id TEXT REFERENCES dataset_versions(id) ON DELETE CASCADE,
        config TEXT NOT NULL DEFAULT '{}',
        parent_id TEXT,
        created_at REAL NOT NULL,
        UNIQUE (app_id, name, version)
    );
    CREATE TABLE jobs (
        id TEXT PRIMARY KEY,
        app_id TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
        model_id TEXT REFERENCES models(id) ON DELETE CASCADE,
        kind TEXT NOT NULL,
        status TEXT NOT NULL,
        run_dir TEXT NOT NULL DEFAULT '',
        pid INTEGER,
        reason TEXT NOT NULL DEFAULT '',
        params TEXT NOT NULL DEFAULT '{}',
        summary TEXT NOT NULL DEFAULT '{}',
        created_at REAL NOT NULL,
        started_at REAL,
        finished_at REAL
    );
    CREATE INDEX jobs_status ON jobs (status);
    CREATE TABLE evaluations (
        id TEXT PRIMARY KEY,
        app_id TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
        model_id TEXT REFERENCES models(id) ON DELETE CASCADE,
        job_id TEXT REFERENCES jobs(id) ON DELETE SET NULL,
        kind TEXT NOT NULL,
        results TEXT NOT NULL DEFAULT '{}',
        created_at REAL NOT NULL
    );
    """,
    # 1 -> 2: teams: API keys (stored hashed) and a per-app activity log. Activity rows keep
    # no foreign key so the record of a deletion outlives the app.
    """
    CREATE TABLE api_keys (
        id TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        name TEXT NOT NULL DEFAULT '',
        prefix TEXT NOT NULL,
        key_hash TEXT NOT NULL UNIQUE,
        created_at REAL NOT NULL,
        last_used_at REAL
    );
    CREATE INDEX api_keys_owner ON api_keys (owner);
    CREATE TABLE activity (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        app_id TEXT NOT NULL,
        user TEXT NOT NULL,
        action TEXT NOT NULL,
        detail TEXT NOT NULL DEFAULT '',
        created_at REAL NOT NULL
    );
    CREATE INDEX activity_app ON activity (app_id, created_at);
    """,
    # 2 -> 3: a saved model's settings stored once (studio.store.upgrade)
    _studio_section,
    # 3 -> 4: server-side sign-in sessions (stored hashed; a cookie names one), ended at
    # sign-out and when the user is removed; the whole activity log read by time (admins).
    """
    CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        user TEXT NOT NULL,
        token_hash TEXT NOT NULL UNIQUE,
        created_at REAL NOT NULL,
        expires_at REAL NOT NULL,
        last_seen_at REAL NOT NULL
    );
    CREATE INDEX sessions_user ON sessions (user);
    CREATE INDEX activity_time ON activity (created_at);
    """,
]

SCHEMA_VERSION = len(MIGRATIONS)
