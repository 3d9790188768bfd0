"""The job vocabulary: the statuses a job row moves through and the kinds of job there are.

One set of names for the store, the runner, the child processes and the page:

    queued -> running -> succeeded | failed | cancelled | interrupted (resumable)

Kinds: "train", "evaluate" and "download" (a Hub model into the models folder) run as child
processes (`python -m studio.<kind> RUN_DIR`); "import" records an adapter brought in from
outside (created already succeeded).
"""

from __future__ import annotations

QUEUED, RUNNING = "queued", "running"
SUCCEEDED, FAILED, CANCELLED, INTERRUPTED = "succeeded", "failed", "cancelled", "interrupted"

JOB_STATUSES = (QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED, INTERRUPTED)
TERMINAL_STATUSES = (SUCCEEDED, FAILED, CANCELLED, INTERRUPTED)
ACTIVE_STATUSES = (QUEUED, RUNNING)
RESUMABLE_STATUSES = (CANCELLED, FAILED, INTERRUPTED)  # a train job with a checkpoint

TRAIN, EVALUATE, IMPORT, DOWNLOAD = "train", "evaluate", "import", "download"
PROCESS_KINDS = (TRAIN, EVALUATE, DOWNLOAD)  # kinds the runner launches as a child process
MODEL_KINDS = (TRAIN, IMPORT)  # kinds whose run folder holds a model once succeeded
