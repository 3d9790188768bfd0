"""The fair queue: which queued job starts next when several users share one machine.

A mixin of Store (studio.store.store). Queued jobs are served round-robin across owners:
each owner's jobs keep their own first-come order, and the owners take turns, the one
served least recently going first. One owner who queues ten jobs therefore delays another
owner's single job by at most one job, not ten. With one owner this is plain first come,
first served, as before.

Starting and stopping move a job's status with a guarded UPDATE, so two runners on one
store (or a runner and the Apps tab's Delete) never both act on the same job:
`claim_job` (queued -> running) and `close_active_jobs` (queued/running -> cancelled).
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict

from studio.store.job_states import ACTIVE_STATUSES, CANCELLED, QUEUED, RUNNING


class QueueMixin:
    """`fair_queue()`: queued jobs in the order they should start; claiming and closing."""

    def claim_job(self, job_id: str) -> bool:
        """Mark a queued job running (started now); False when someone else claimed it first
        or it is no longer queued."""
        with self.transaction() as conn:
            cur = conn.execute(
                "UPDATE jobs SET status = ?, started_at = ?, reason = '' WHERE id = ? AND status = ?",
                (RUNNING, time.time(), job_id, QUEUED),
            )
            return cur.rowcount == 1

    def close_active_jobs(self, job_ids: list[str], reason: str) -> None:
        """Mark these jobs cancelled with `reason`, only those still queued or running (a
        final status already written is kept)."""
        marks = ", ".join("?" for _ in ACTIVE_STATUSES)
        with self.transaction() as conn:
            for job_id in job_ids:
                conn.execute(
                    "UPDATE jobs SET status = ?, finished_at = ?, reason = ? "
                    f"WHERE id = ? AND status IN ({marks})",
                    (CANCELLED, time.time(), reason, job_id, *ACTIVE_STATUSES),
                )

    def fair_queue(self, max_running_per_owner: int | None = None) -> list[dict]:
        """Queued jobs, round-robin across owners; owners already running
        `max_running_per_owner` jobs (when given) wait until one of theirs finishes."""
        marks = ", ".join("?" for _ in ACTIVE_STATUSES)
        jobs = self._query(
            "SELECT j.*, a.owner AS owner FROM jobs j JOIN apps a ON a.id = j.app_id "
            f"WHERE j.status IN ({marks}) ORDER BY j.created_at, j.id",
            ACTIVE_STATUSES,
        )
        running = Counter(j["owner"] for j in jobs if j["status"] == RUNNING)
        served = {
            r["owner"]: r["last"] or 0.0
            for r in self._query(
                "SELECT a.owner AS owner, MAX(j.started_at) AS last FROM jobs j "
                "JOIN apps a ON a.id = j.app_id GROUP BY a.owner"
            )
        }
        waiting: dict[str, list[dict]] = defaultdict(list)
        for job in jobs:
            if job["status"] == QUEUED:
                waiting[job["owner"]].append(job)
        # Fewer running jobs first, then the owner served least recently, then who queued first.
        owners = sorted(
            waiting, key=lambda o: (running[o], served.get(o, 0.0), waiting[o][0]["created_at"])
        )
        out: list[dict] = []
        rank = 0
        while any(rank < len(waiting[o]) for o in owners):
            for owner in owners:
                if rank >= len(waiting[owner]):
                    continue
                if max_running_per_owner is not None and (
                    running[owner] + rank >= max_running_per_owner
                ):
                    continue
                out.append(waiting[owner][rank])
            rank += 1
        return out

    def owner_job_counts(self, owner: str) -> dict[str, int]:
        """{'queued': n, 'running': m} for one owner's jobs."""
        rows = self._query(
            "SELECT j.status AS status, COUNT(*) AS n FROM jobs j JOIN apps a ON a.id = j.app_id "
            "WHERE a.owner = ? AND j.status IN (?, ?) GROUP BY j.status",
            (owner, QUEUED, RUNNING),
        )
        counts = {QUEUED: 0, RUNNING: 0}
        counts.update({r["status"]: r["n"] for r in rows})
        return counts
