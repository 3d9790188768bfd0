"""The SQLite store: apps, datasets, dataset versions, models, jobs, evaluations."""

from studio.store.store import JOB_STATUSES, TERMINAL_STATUSES, Store

__all__ = ["JOB_STATUSES", "TERMINAL_STATUSES", "Store"]
