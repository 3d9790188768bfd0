"""The SQLite store (stdlib sqlite3, WAL, foreign keys on).

Every method opens its own short connection, so the store is safe to share between
Gradio's worker threads and the job runner. Writes run in one transaction each
(`BEGIN IMMEDIATE`): a failure half-way leaves the database as it was.

    store = Store(settings.db_path)        # creates / migrates the file
    app = store.create_app("Sentiment", owner="local")
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from studio.errors import NotFoundError, StudioError
from studio.store.schema import MIGRATIONS, SCHEMA_VERSION

JOB_STATUSES = ("queued", "running", "succeeded", "failed", "cancelled", "interrupted")
TERMINAL_STATUSES = ("succeeded", "failed", "cancelled", "interrupted")
_JSON_COLUMNS = {"stats", "config", "params", "summary", "results"}
_TABLES = ("apps", "datasets", "dataset_versions", "models", "jobs", "evaluations")


def new_id() -> str:
    return uuid.uuid4().hex[:12]


def _row(row: sqlite3.Row | None) -> dict[str, Any] | None:
    if row is None:
        return None
    d = dict(row)
    for k in _JSON_COLUMNS & d.keys():
        d[k] = json.loads(d[k]) if d[k] else {}
    return d


class Store:
    """Data access for the whole studio. `files_root` is where app folders live."""

    def __init__(self, db_path: Path | str, files_root: Path | str | None = None):
        self.db_path = Path(db_path)
        self.db_path.parent.mkdir(parents=True, exist_ok=True)
        self.files_root = Path(files_root) if files_root else self.db_path.parent / "apps"
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
            return [_row(r) for r in conn.execute(sql, args).fetchall()]
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
                    for stmt in filter(str.strip, MIGRATIONS[version].split(";")):
                        conn.execute(stmt)
                    conn.execute(f"PRAGMA user_version = {version + 1}")
                    conn.execute("COMMIT")
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
            return start
        finally:
            conn.close()

    def schema_version(self) -> int:
        conn = self._connect()
        try:
            return conn.execute("PRAGMA user_version").fetchone()[0]
        finally:
            conn.close()

    def _insert(self, conn: sqlite3.Connection, table: str, values: dict[str, Any]) -> None:
        values = {k: json.dumps(v) if k in _JSON_COLUMNS else v for k, v in values.items()}
        cols = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        conn.execute(f"INSERT INTO {table} ({cols}) VALUES ({marks})", tuple(values.values()))

    def _update(self, table: str, id_: str, fields: dict[str, Any]) -> dict[str, Any]:
        if fields:
            values = {k: json.dumps(v) if k in _JSON_COLUMNS else v for k, v in fields.items()}
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
        name = (name or "").strip()
        if not name:
            raise StudioError("An app needs a name: type one in the Name box.")
        if len(name) > 80:
            raise StudioError("App names are at most 80 characters; shorten the name.")
        now = time.time()
        app = dict(id=new_id(), owner=owner, name=name, description=description,
                   created_at=now, updated_at=now)  # fmt: skip
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

    def rename_app(self, app_id: str, name: str) -> dict:
        name = (name or "").strip()
        if not name:
            raise StudioError("The new name is empty; type a name.")
        try:
            return self._update("apps", app_id, {"name": name, "updated_at": time.time()})
        except sqlite3.IntegrityError as exc:
            raise StudioError(
                f"You already have an app named {name!r}; pick another name."
            ) from exc

    def delete_app(self, app_id: str) -> None:
        """Delete the app, everything that belongs to it in the store, and its files."""
        self._one("apps", app_id)
        with self.transaction() as conn:
            conn.execute("DELETE FROM apps WHERE id = ?", (app_id,))
        shutil.rmtree(self.files_root / app_id, ignore_errors=True)

    def app_dir(self, app_id: str) -> Path:
        return self.files_root / app_id

    # -- datasets and versions --------------------------------------------------------
    def get_or_create_dataset(self, app_id: str, name: str, conn=None) -> dict:
        rows = self._query("SELECT * FROM datasets WHERE app_id = ? AND name = ?", (app_id, name))
        if rows:
            return rows[0]
        ds = dict(id=new_id(), app_id=app_id, name=name, created_at=time.time())
        if conn is not None:
            self._insert(conn, "datasets", ds)
        else:
            with self.transaction() as c:
                self._insert(c, "datasets", ds)
        return ds

    def list_datasets(self, app_id: str) -> list[dict]:
        return self._query("SELECT * FROM datasets WHERE app_id = ? ORDER BY created_at", (app_id,))

    def add_dataset_version(self, conn: sqlite3.Connection, dataset_id: str, **fields) -> dict:
        """Insert the next version of a dataset inside the caller's transaction."""
        n = conn.execute(
            "SELECT COALESCE(MAX(version), 0) FROM dataset_versions WHERE dataset_id = ?",
            (dataset_id,),
        ).fetchone()[0]
        row = dict(id=fields.pop("id", None) or new_id(), dataset_id=dataset_id, version=n + 1,
                   created_at=time.time(), **fields)  # fmt: skip
        self._insert(conn, "dataset_versions", row)
        return row

    def get_dataset_version(self, version_id: str) -> dict:
        return self._one("dataset_versions", version_id)

    def list_dataset_versions(self, app_id: str) -> list[dict]:
        """Every version of every dataset of the app, newest first, with the dataset name."""
        return self._query(
            "SELECT v.*, d.name AS dataset_name, d.app_id AS app_id FROM dataset_versions v "
            "JOIN datasets d ON d.id = v.dataset_id WHERE d.app_id = ? "
            "ORDER BY v.created_at DESC",
            (app_id,),
        )

    # -- models (saved training configurations) ---------------------------------------
    def create_model(self, app_id: str, name: str, template: str, model_type: str,
                     dataset_version_id: str | None, config: dict,
                     parent_id: str | None = None) -> dict:  # fmt: skip
        name = (name or "").strip()
        if not name:
            raise StudioError("A model needs a name: type one in the Model name box.")
        with self.transaction() as conn:
            n = conn.execute(
                "SELECT COALESCE(MAX(version), 0) FROM models WHERE app_id = ? AND name = ?",
                (app_id, name),
            ).fetchone()[0]
            model = dict(id=new_id(), app_id=app_id, name=name, version=n + 1, template=template,
                         model_type=model_type, dataset_version_id=dataset_version_id,
                         config=config, parent_id=parent_id, created_at=time.time())  # fmt: skip
            self._insert(conn, "models", model)
        return model

    def get_model(self, model_id: str) -> dict:
        return self._one("models", model_id)

    def list_models(self, app_id: str) -> list[dict]:
        return self._query(
            "SELECT * FROM models WHERE app_id = ? ORDER BY created_at DESC", (app_id,)
        )

    def delete_model(self, model_id: str) -> None:
        with self.transaction() as conn:
            conn.execute("DELETE FROM models WHERE id = ?", (model_id,))

    # -- jobs -------------------------------------------------------------------------
    def create_job(self, app_id: str, model_id: str | None, kind: str, params: dict | None = None,
                   run_dir: str = "", job_id: str | None = None, status: str = "queued",
                   **fields: Any) -> dict:  # fmt: skip
        """A job row. A record of finished work (an import) is created with its final status in
        the same transaction, so a runner never sees it queued and tries to launch it."""
        if status not in JOB_STATUSES:
            raise ValueError(f"unknown job status {status!r}")
        job = dict(id=job_id or new_id(), app_id=app_id, model_id=model_id, kind=kind,
                   status=status, run_dir=run_dir, params=params or {}, summary={},
                   created_at=time.time())  # fmt: skip
        job.update(fields)
        with self.transaction() as conn:
            self._insert(conn, "jobs", job)
        return self.get_job(job["id"])

    def get_job(self, job_id: str) -> dict:
        return self._one("jobs", job_id)

    def update_job(self, job_id: str, **fields) -> dict:
        if "status" in fields and fields["status"] not in JOB_STATUSES:
            raise ValueError(f"unknown job status {fields['status']!r}")
        return self._update("jobs", job_id, fields)

    def list_jobs(self, app_id: str | None = None, status: tuple[str, ...] | None = None,
                  kind: str | None = None) -> list[dict]:  # fmt: skip
        sql, args = "SELECT * FROM jobs WHERE 1=1", []
        if app_id is not None:
            sql += " AND app_id = ?"
            args.append(app_id)
        if status:
            sql += f" AND status IN ({', '.join('?' for _ in status)})"
            args.extend(status)
        if kind:
            sql += " AND kind = ?"
            args.append(kind)
        return self._query(sql + " ORDER BY created_at DESC", tuple(args))

    # -- evaluations ------------------------------------------------------------------
    def add_evaluation(self, app_id: str, model_id: str | None, kind: str, results: dict,
                       job_id: str | None = None) -> dict:  # fmt: skip
        ev = dict(id=new_id(), app_id=app_id, model_id=model_id, job_id=job_id, kind=kind,
                  results=results, created_at=time.time())  # fmt: skip
        with self.transaction() as conn:
            self._insert(conn, "evaluations", ev)
        return ev

    def list_evaluations(self, app_id: str, model_id: str | None = None) -> list[dict]:
        if model_id:
            return self._query(
                "SELECT * FROM evaluations WHERE app_id = ? AND model_id = ? "
                "ORDER BY created_at DESC",
                (app_id, model_id),
            )
        return self._query(
            "SELECT * FROM evaluations WHERE app_id = ? ORDER BY created_at DESC", (app_id,)
        )

    def counts(self) -> dict[str, int]:
        """Rows per table (used by tests and the health check)."""
        conn = self._connect()
        try:
            return {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in _TABLES}
        finally:
            conn.close()
