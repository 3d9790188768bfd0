"""Dataset and dataset-version rows: the part of the Store that holds an app's data.

A mixin of Store (studio.store.store): it uses the store's transaction(), _query(), _one(),
_insert() and _update(). Versions are immutable (there is no update_dataset_version): a
change to the data is a new version, so a trained model always points at the rows it saw.
Deleting data a saved model was trained on is refused; delete the model first.
"""

from __future__ import annotations

import sqlite3
import time
from typing import Any

from studio.errors import NotFoundError, StudioError
from studio.store.rows import new_id, remove_inside


class DatasetsMixin:
    """Create / read / update / delete for datasets; create / read / delete for versions."""

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

    def get_dataset(self, dataset_id: str) -> dict:
        return self._one("datasets", dataset_id)

    def list_datasets(self, app_id: str) -> list[dict]:
        return self._query("SELECT * FROM datasets WHERE app_id = ? ORDER BY created_at", (app_id,))

    def update_dataset(self, dataset_id: str, *, name: str) -> dict:
        """Rename a dataset (its versions keep their numbers); returns the updated row."""
        name = (name or "").strip()
        if not name:
            raise StudioError("The new dataset name is empty; type a name.")
        try:
            return self._update("datasets", dataset_id, {"name": name})
        except sqlite3.IntegrityError as exc:
            raise StudioError(
                f"This app already has a dataset named {name!r}; pick another name."
            ) from exc

    def delete_dataset(self, dataset_id: str) -> None:
        """Delete a dataset with all its versions and their folders.

        Refused while a saved model trains on one of its versions: deleting the data would
        silently delete those models too; delete them first.
        """
        with self.transaction() as conn:
            ds = conn.execute("SELECT * FROM datasets WHERE id = ?", (dataset_id,)).fetchone()
            if ds is None:
                raise NotFoundError(f"No dataset with id {dataset_id!r}; it may have been deleted.")
            versions = conn.execute(
                "SELECT * FROM dataset_versions WHERE dataset_id = ?", (dataset_id,)
            ).fetchall()
            self._refuse_used([v["id"] for v in versions], conn, f"Dataset {ds['name']!r}")
            conn.execute("DELETE FROM datasets WHERE id = ?", (dataset_id,))
        for v in versions:
            remove_inside(self.files_root, v["path"])

    def create_dataset_version(self, app_id: str, dataset_name: str, **fields: Any) -> dict:
        """The next version of the app's dataset `dataset_name` (created if new), in one
        transaction: if the version cannot be written, no new dataset row is left either."""
        with self.transaction() as conn:
            row = conn.execute(
                "SELECT id FROM datasets WHERE app_id = ? AND name = ?", (app_id, dataset_name)
            ).fetchone()
            if row is None:
                ds = dict(id=new_id(), app_id=app_id, name=dataset_name, created_at=time.time())
                self._insert(conn, "datasets", ds)
                dataset_id = ds["id"]
            else:
                dataset_id = row["id"]
            return self.add_dataset_version(conn, dataset_id, **fields)

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
        """A version row. Versions are immutable: there is no update; a change to the data is
        a new version, so a trained model always points at exactly the rows it saw."""
        return self._one("dataset_versions", version_id)

    def delete_dataset_version(self, version_id: str) -> None:
        """Delete one version and its folder; refused while a saved model uses it."""
        with self.transaction() as conn:
            v = conn.execute(
                "SELECT v.*, d.name AS dataset_name FROM dataset_versions v "
                "JOIN datasets d ON d.id = v.dataset_id WHERE v.id = ?",
                (version_id,),
            ).fetchone()
            if v is None:
                raise NotFoundError(
                    f"No dataset version with id {version_id!r}; it may have been deleted."
                )
            self._refuse_used([version_id], conn, f"{v['dataset_name']} v{v['version']}")
            conn.execute("DELETE FROM dataset_versions WHERE id = ?", (version_id,))
        remove_inside(self.files_root, v["path"])

    @staticmethod
    def _refuse_used(version_ids: list[str], conn: sqlite3.Connection, what: str) -> None:
        if not version_ids:
            return
        marks = ", ".join("?" for _ in version_ids)
        used = conn.execute(
            f"SELECT name, version FROM models WHERE dataset_version_id IN ({marks}) "
            "ORDER BY name, version",
            tuple(version_ids),
        ).fetchall()
        if used:
            names = ", ".join(f"{m['name']} v{m['version']}" for m in used[:5])
            raise StudioError(
                f"{what} is used by the saved model(s) {names}; delete those models in the "
                "Models tab first, then delete the data."
            )

    def list_dataset_versions(self, app_id: str) -> list[dict]:
        """Every version of every dataset of the app, newest first, with the dataset name."""
        return self._query(
            "SELECT v.*, d.name AS dataset_name, d.app_id AS app_id FROM dataset_versions v "
            "JOIN datasets d ON d.id = v.dataset_id WHERE d.app_id = ? "
            "ORDER BY v.created_at DESC",
            (app_id,),
        )
