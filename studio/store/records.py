"""Job and evaluation rows: the part of the Store that records work done on an app.

A mixin of Store (studio.store.store): it uses the store's transaction(), _query(), _one(),
_insert() and _update(). Jobs go with their model or app (Store.delete_model / delete_app),
which is refused while one is queued or running: its process would be orphaned and could
write into the folder again.
"""

from __future__ import annotations

import time
from typing import Any

from studio.errors import JobError
from studio.store.job_states import ACTIVE_STATUSES, JOB_STATUSES, QUEUED, TERMINAL_STATUSES
from studio.store.rows import new_id

__all__ = ["ACTIVE_STATUSES", "JOB_STATUSES", "TERMINAL_STATUSES", "RecordsMixin", "refuse_active"]


def refuse_active(jobs: list[dict[str, Any]], what: str) -> None:
    """Raise JobError naming the first queued or running job among `jobs`, if any."""
    for job in jobs:
        if job["status"] in ACTIVE_STATUSES:
            raise JobError(
                f"{what} has a {job['kind']} job {job['status']} (job {job['id']}); cancel it "
                "in the Train tab (or Evaluate tab), wait until it stops, then delete again."
            )


class RecordsMixin:
    """Create / read / update for jobs; create / list for evaluations."""

    # -- jobs -------------------------------------------------------------------------
    def create_job(
        self,
        app_id: str,
        model_id: str | None,
        kind: str,
        params: dict | None = None,
        run_dir: str = "",
        job_id: str | None = None,
        status: str = QUEUED,
        **fields: Any,
    ) -> dict:
        """A job row. A record of finished work (an import) is created with its final status in
        the same transaction, so a runner never sees it queued and tries to launch it."""
        if status not in JOB_STATUSES:
            raise ValueError(f"unknown job status {status!r}")
        job = dict(
            id=job_id or new_id(),
            app_id=app_id,
            model_id=model_id,
            kind=kind,
            status=status,
            run_dir=run_dir,
            params=params or {},
            summary={},
            created_at=time.time(),
        )
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

    def list_jobs(
        self,
        app_id: str | None = None,
        status: tuple[str, ...] | None = None,
        kind: str | None = None,
    ) -> list[dict]:
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
    def add_evaluation(
        self, app_id: str, model_id: str | None, kind: str, results: dict, job_id: str | None = None
    ) -> dict:
        ev = dict(
            id=new_id(),
            app_id=app_id,
            model_id=model_id,
            job_id=job_id,
            kind=kind,
            results=results,
            created_at=time.time(),
        )
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
