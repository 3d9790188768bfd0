"""Who may see a row: the one ownership check of the studio.

Every app has an `owner` (the signed-in user, or `local` when sign-in is off); everything
under an app (datasets, versions, models, jobs, evaluations) belongs to the app's owner.
`app_of(user, id)` and its siblings return the row when `user` owns it and raise the same
NotFoundError whether the id does not exist or belongs to someone else, so nobody can
probe for other users' ids. `user=None` means an administrator: every row is visible.

A mixin of Store (studio.store.store): it uses the store's _query().
"""

from __future__ import annotations

from studio.errors import NotFoundError

# table -> (SQL joining the row to its app, what the message calls it)
_OWNED = {
    "apps": ("SELECT t.* , t.owner AS _owner FROM apps t WHERE t.id = ?", "app"),
    "models": (
        "SELECT t.*, a.owner AS _owner FROM models t JOIN apps a ON a.id = t.app_id WHERE t.id = ?",
        "model",
    ),
    "jobs": (
        "SELECT t.*, a.owner AS _owner FROM jobs t JOIN apps a ON a.id = t.app_id WHERE t.id = ?",
        "job",
    ),
    "dataset_versions": (
        "SELECT t.id, a.owner AS _owner FROM dataset_versions t "
        "JOIN datasets d ON d.id = t.dataset_id JOIN apps a ON a.id = d.app_id WHERE t.id = ?",
        "dataset version",
    ),
}


# table -> SQL giving the app a row belongs to
_APP_OF = {
    "models": "SELECT app_id FROM models WHERE id = ?",
    "jobs": "SELECT app_id FROM jobs WHERE id = ?",
    "evaluations": "SELECT app_id FROM evaluations WHERE id = ?",
    "datasets": "SELECT app_id FROM datasets WHERE id = ?",
    "dataset_versions": (
        "SELECT d.app_id AS app_id FROM dataset_versions v "
        "JOIN datasets d ON d.id = v.dataset_id WHERE v.id = ?"
    ),
}


class OwnershipMixin:
    """`<thing>_of(user, id)`: the row if `user` may see it (None = admin), else NotFoundError."""

    def _owned(self, table: str, user: str | None, id_: str | None) -> dict:
        sql, what = _OWNED[table]
        rows = self._query(sql, (id_ or "",)) if id_ else []
        if not rows or (user is not None and rows[0]["_owner"] != user):
            # The same words for "missing" and "someone else's": ids are not probeable.
            raise NotFoundError(f"No {what} with id {id_!r}; it may have been deleted.")
        row = rows[0]
        row.pop("_owner", None)
        return row

    def app_of(self, user: str | None, app_id: str | None) -> dict:
        """The app row if `user` owns it (any app for user=None)."""
        return self._owned("apps", user, app_id)

    def model_of(self, user: str | None, model_id: str | None) -> dict:
        return self._owned("models", user, model_id)

    def job_of(
        self, user: str | None, job_id: str | None, kinds: tuple[str, ...] | None = None
    ) -> dict:
        """The job row if `user` owns it and, when `kinds` is given, it is of one of those
        kinds: a tab that acts on one kind of job reads another kind as missing too."""
        row = self._owned("jobs", user, job_id)
        if kinds is not None and row["kind"] not in kinds:
            raise NotFoundError(f"No job with id {job_id!r}; it may have been deleted.")
        return row

    def version_of(self, user: str | None, version_id: str | None) -> dict:
        """The full dataset-version row (as get_dataset_version) if `user` owns its app."""
        row = self._owned("dataset_versions", user, version_id)
        return self.get_dataset_version(row["id"])

    def owner_of_app(self, app_id: str) -> str:
        """The owner name recorded on an app ('' when the app does not exist)."""
        rows = self._query("SELECT owner FROM apps WHERE id = ?", (app_id,))
        return rows[0]["owner"] if rows else ""

    # -- "does this id belong to this app": the one answer ----------------------------
    def belongs_to_app(self, table: str, id_: str | None, app_id: str | None) -> bool:
        """True when the row `id_` of `table` (models, jobs, evaluations, datasets,
        dataset_versions) exists and is part of the app `app_id`."""
        if not id_ or not app_id:
            return False
        rows = self._query(_APP_OF[table], (id_,))
        return bool(rows) and rows[0]["app_id"] == app_id

    def app_version(self, app_id: str | None, version_id: str | None) -> dict | None:
        """The app's dataset version with this id (with dataset_name and app_id), or None
        when there is none or it belongs to another app."""
        if not version_id or not app_id:
            return None
        rows = self._query(
            "SELECT v.*, d.name AS dataset_name, d.app_id AS app_id FROM dataset_versions v "
            "JOIN datasets d ON d.id = v.dataset_id WHERE v.id = ? AND d.app_id = ?",
            (version_id, app_id),
        )
        return rows[0] if rows else None
