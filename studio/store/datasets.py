"""Dataset and dataset-version rows: the part of the Store that holds an app's data.

A mixin of Store (studio.store.store): it uses the store's transaction(), _query(), _one(),
_insert() and _update(). Versions are immutable (there is no update_dataset_version): a
change to the data is a new version, so a trained model always points at the rows it saw.
An app's data goes with the app (Store.delete_app).
"""

from __future__ import annotations

import sqlite3
import time

from studio.store.rows import new_id
from studio.store.text import checked_name


class DatasetsMixin:
    """Create and read datasets and their (immutable) versions."""

    def get_or_create_dataset(self, app_id: str, name: str, conn=None) -> dict:
        name = checked_name(name, "The dataset name")
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
        row = dict(
            id=fields.pop("id", None) or new_id(),
            dataset_id=dataset_id,
            version=n + 1,
            created_at=time.time(),
            **fields,
        )
        self._insert(conn, "dataset_versions", row)
        return row

    def version_with_hash(
        self, dataset_id: str, content_hash: str, conn: sqlite3.Connection | None = None
    ) -> int | None:
        """The newest version number of the dataset holding exactly these examples (the same
        content hash), or None; inside the caller's transaction when `conn` is given."""
        sql = (
            "SELECT version FROM dataset_versions WHERE dataset_id = ? AND content_hash = ? "
            "ORDER BY version DESC LIMIT 1"
        )
        if conn is not None:
            row = conn.execute(sql, (dataset_id, content_hash)).fetchone()
            return row[0] if row else None
        rows = self._query(sql, (dataset_id, content_hash))
        return rows[0]["version"] if rows else None

    def get_dataset_version(self, version_id: str) -> dict:
        """A version row. Versions are immutable: there is no update; a change to the data is
        a new version, so a trained model always points at exactly the rows it saw."""
        return self._one("dataset_versions", version_id)

    def list_dataset_versions(self, app_id: str) -> list[dict]:
        """Every version of every dataset of the app, newest first, with the dataset name."""
        return self._query(
            "SELECT v.*, d.name AS dataset_name, d.app_id AS app_id FROM dataset_versions v "
            "JOIN datasets d ON d.id = v.dataset_id WHERE d.app_id = ? "
            "ORDER BY v.created_at DESC",
            (app_id,),
        )
