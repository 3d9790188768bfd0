"""The job queue and runner (see studio.jobs.scheduler) and cheap run-folder readers for the page.

Never imports torch or transformers: the page stays fast while a job trains.
"""

from studio.jobs.files import (
    job_progress,
    read_metrics,
    tail_log,
)
from studio.jobs.launch import build_command
from studio.jobs.scheduler import JobRunner

__all__ = [
    "JobRunner",
    "build_command",
    "job_progress",
    "read_metrics",
    "tail_log",
]
