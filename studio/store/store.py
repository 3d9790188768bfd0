"""The SQLite store (stdlib sqlite3, WAL, foreign keys on).

Every method opens its own short connection, so the store is safe to share between
Gradio's worker threads and the job runner. Writes run in one transaction each
(`BEGIN IMMEDIATE`): a failure half-way leaves the database as it was.

    store = Store(settings.db_path)        # creates / migrates the file
    app = store.create_app("Sentiment", owner="local")

Apps and models live here, datasets and dataset versions (immutable: no update) in
studio.store.datasets, jobs and evaluations in studio.store.records, ownership and "does this
id belong to this app" in studio.store.owners. Deleting an app or a model also removes the
files it owns (an app's folder and exports, its jobs' run folders) and is refused while a
job that would lose its files is queued or running.
"""

from __future__ import annotations

import shutil
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from studio.errors import NotFoundError, StudioError
from studio.store.access import AccessMixin
from studio.store.datasets import DatasetsMixin
from studio.store.owners import OwnershipMixin
from studio.store.queue import QueueMixin
from studio.store.records import (
    ACTIVE_STATUSES,
    JOB_STATUSES,
    TERMINAL_STATUSES,
    RecordsMixin,
    refuse_active,
)
from studio.store.rows import decode_row, encode_values, new_id, remove_inside
from studio.store.schema import MIGRATIONS, SCHEMA_VERSION
from studio.store.sessions import SessionsMixin
from studio.store.text import (
    MAX_DESCRIPTION,
    checked_name,
    checked_text,
    refuse_invalid_text,
)

__all__ = ["ACTIVE_STATUSES", "JOB_STATUSES", "TERMINAL_STATUSES", "Store", "new_id"]
_TABLES = ("apps", "datasets", "dataset_versions", "models", "jobs", "evaluations")


class Store(DatasetsMixin, RecordsMixin, OwnershipMixin, AccessMixin, SessionsMixin, QueueMixin):
    """Data access for the whole studio.

    `files_root` is where app folders live (settings.apps_dir); `exports_root` is where
    studio.export writes each app's downloads (settings.home/exports, see
    studio.export.paths.exports_dir). Both default to folders beside the database file,
    which is where Settings puts them.
    """

    def __init__(
        self,
        db_path: Path | str,
        files_root: Path | str | None = None,
        exports_root: Path | str | None = None,
    ):
        self.db_path = Path(db_path)
        self.db_path.parent.mkdir(parents=True, exist_ok=True)
        self.files_root = Path(files_root) if files_root else self.db_path.parent / "apps"
        self.exports_root = Path(exports_root) if exports_root else self.db_path.parent / "exports"
        self.migrate()

    # -- connection and transactions -------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.db_path, timeout=30, isolation_level=None)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA busy_timeout = 30000")
        return conn

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic unit of work: commits on success, rolls back on any exception."""
        conn = self._connect()
        try:
            conn.execute("BEGIN IMMEDIATE")
            yield conn
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        finally:
            conn.close()

    def _query(self, sql: str, args: tuple = ()) -> list[dict[str, Any]]:
        conn = self._connect()
        try:
            return [decode_row(r) for r in conn.execute(sql, args).fetchall()]
        finally:
            conn.close()

    def _one(self, table: str, id_: str) -> dict[str, Any]:
        rows = self._query(f"SELECT * FROM {table} WHERE id = ?", (id_,))
        if not rows:
            what = table.rstrip("s").replace("_", " ")
            raise NotFoundError(f"No {what} with id {id_!r}; it may have been deleted.")
        return rows[0]

    def migrate(self) -> int:
        """Bring the file to SCHEMA_VERSION; returns the version it was at."""
        conn = self._connect()
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            start = conn.execute("PRAGMA user_version").fetchone()[0]
            if start > SCHEMA_VERSION:
                raise StudioError(
                    f"{self.db_path} was written by a newer TextGen Studio (schema {start}, "
                    f"this one knows {SCHEMA_VERSION}); upgrade the studio."
                )
            for version in range(start, SCHEMA_VERSION):
                conn.execute("BEGIN IMMEDIATE")
                try:
                    step = MIGRATIONS[version]
                    if callable(step):
                        step(conn)
                    else:
                        for stmt in filter(str.strip, step.split(";")):
                            conn.execute(stmt)
                    conn.execute(f"PRAGMA user_version = {version + 1}")
                    conn.execute("COMMIT")
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
            return start
        finally:
            conn.close()

    def _insert(self, conn: sqlite3.Connection, table: str, values: dict[str, Any]) -> None:
        refuse_invalid_text(values)  # a message naming the field, never an encoding error
        values = encode_values(values)
        cols = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        conn.execute(f"INSERT INTO {table} ({cols}) VALUES ({marks})", tuple(values.values()))

    def _update(self, table: str, id_: str, fields: dict[str, Any]) -> dict[str, Any]:
        if fields:
            refuse_invalid_text(fields)
            values = encode_values(fields)
            sets = ", ".join(f"{k} = ?" for k in values)
            with self.transaction() as conn:
                cur = conn.execute(
                    f"UPDATE {table} SET {sets} WHERE id = ?", (*values.values(), id_)
                )
                if cur.rowcount == 0:
                    raise NotFoundError(f"No {table.rstrip('s')} with id {id_!r}.")
        return self._one(table, id_)

    # -- apps -------------------------------------------------------------------------
    def create_app(self, name: str, owner: str = "local", description: str = "") -> dict:
        name = checked_name(name, "The app name", max_len=10**6)  # its own length message
        description = checked_text(description, "The description", MAX_DESCRIPTION)
        if not name:
            raise StudioError("An app needs a name: type one in the Name box.")
        if len(name) > 80:
            raise StudioError("App names are at most 80 characters; shorten the name.")
        now = time.time()
        app = dict(
            id=new_id(),
            owner=owner,
            name=name,
            description=description,
            created_at=now,
            updated_at=now,
        )
        try:
            with self.transaction() as conn:
                self._insert(conn, "apps", app)
        except sqlite3.IntegrityError as exc:
            raise StudioError(
                f"You already have an app named {name!r}; pick another name."
            ) from exc
        return app

    def get_app(self, app_id: str) -> dict:
        return self._one("apps", app_id)

    def list_apps(self, owner: str | None = None) -> list[dict]:
        if owner is None:
            return self._query("SELECT * FROM apps ORDER BY created_at")
        return self._query("SELECT * FROM apps WHERE owner = ? ORDER BY created_at", (owner,))

    def update_app(
        self, app_id: str, *, name: str | None = None, description: str | None = None
    ) -> dict:
        """Change an app's name and/or description; returns the updated row."""
        fields: dict[str, Any] = {"updated_at": time.time()}
        if name is not None:
            name = checked_name(name, "The app name", max_len=10**6)
            if not name:
                raise StudioError("The new name is empty; type a name.")
            if len(name) > 80:
                raise StudioError("App names are at most 80 characters; shorten the name.")
            fields["name"] = name
        if description is not None:
            fields["description"] = checked_text(description, "The description", MAX_DESCRIPTION)
        try:
            return self._update("apps", app_id, fields)
        except sqlite3.IntegrityError as exc:
            raise StudioError(
                f"You already have an app named {name!r}; pick another name."
            ) from exc

    def rename_app(self, app_id: str, name: str) -> dict:
        return self.update_app(app_id, name=name or "")

    def delete_app(self, app_id: str) -> None:
        """Delete the app, everything that belongs to it in the store, its files and exports.

        Refused (JobError) while one of its jobs is queued or running: stop them first, as
        studio.jobs.removal.delete_app_and_stop_jobs does.
        """
        with self.transaction() as conn:
            if not conn.execute("SELECT 1 FROM apps WHERE id = ?", (app_id,)).fetchone():
                raise NotFoundError(f"No app with id {app_id!r}; it may have been deleted.")
            jobs = conn.execute("SELECT * FROM jobs WHERE app_id = ?", (app_id,)).fetchall()
            refuse_active([dict(j) for j in jobs], "This app")
            conn.execute("DELETE FROM apps WHERE id = ?", (app_id,))
        shutil.rmtree(self.files_root / app_id, ignore_errors=True)
        # The same folder as studio.export.paths.exports_dir (app ids need no escaping).
        shutil.rmtree(self.exports_root / app_id, ignore_errors=True)

    def app_dir(self, app_id: str) -> Path:
        return self.files_root / app_id

    # -- models (saved training configurations) ---------------------------------------
    def create_model(
        self,
        app_id: str,
        name: str,
        template: str,
        model_type: str,
        dataset_version_id: str | None,
        config: dict,
        parent_id: str | None = None,
    ) -> dict:
        name = checked_name(name, "The model name")
        if not name:
            raise StudioError("A model needs a name: type one in the Model name box.")
        with self.transaction() as conn:
            n = conn.execute(
                "SELECT COALESCE(MAX(version), 0) FROM models WHERE app_id = ? AND name = ?",
                (app_id, name),
            ).fetchone()[0]
            model = dict(
                id=new_id(),
                app_id=app_id,
                name=name,
                version=n + 1,
                template=template,
                model_type=model_type,
                dataset_version_id=dataset_version_id,
                config=config,
                parent_id=parent_id,
                created_at=time.time(),
            )
            self._insert(conn, "models", model)
        return model

    def get_model(self, model_id: str) -> dict:
        return self._one("models", model_id)

    def list_models(self, app_id: str) -> list[dict]:
        return self._query(
            "SELECT * FROM models WHERE app_id = ? ORDER BY created_at DESC", (app_id,)
        )

    def delete_model(self, model_id: str) -> int:
        """Delete a saved model with its jobs, evaluations and the jobs' run folders.

        Refused (JobError) while one of its jobs is queued or running. Returns how many run
        folders were removed.
        """
        with self.transaction() as conn:
            m = conn.execute("SELECT * FROM models WHERE id = ?", (model_id,)).fetchone()
            if m is None:
                raise NotFoundError(f"No model with id {model_id!r}; it may have been deleted.")
            jobs = [
                dict(j)
                for j in conn.execute(
                    "SELECT * FROM jobs WHERE model_id = ?", (model_id,)
                ).fetchall()
            ]
            refuse_active(jobs, f"{m['name']} v{m['version']}")
            conn.execute("DELETE FROM models WHERE id = ?", (model_id,))
        return sum(remove_inside(self.files_root, j["run_dir"]) for j in jobs)

    def counts(self) -> dict[str, int]:
        """Rows per table (used by tests and the health check)."""
        conn = self._connect()
        try:
            return {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in _TABLES}
        finally:
            conn.close()
