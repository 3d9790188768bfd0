"""The SQLite store: apps, datasets, dataset versions, models, jobs, evaluations."""

from studio.store.store import ACTIVE_STATUSES, JOB_STATUSES, TERMINAL_STATUSES, Store

__all__ = ["ACTIVE_STATUSES", "JOB_STATUSES", "TERMINAL_STATUSES", "Store"]
