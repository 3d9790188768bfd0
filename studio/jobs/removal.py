"""Deleting an app whose jobs may still be running: stop them for good, then delete.

    delete_app_and_stop_jobs(store, runner, app_id)   # what the Apps tab's Delete calls

Cancelling alone is not enough: a cancelled training job saves a checkpoint before it exits,
and a process that outlives its app would write into (re-create) the deleted folder. So
every queued job is cancelled, every running one is asked to stop (JobRunner.cancel), given
a moment, then terminated and finally killed, with any processes it started; only when they
are gone are the rows and files deleted. Never imports torch.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from typing import Any

import psutil

from studio.errors import JobError, NotFoundError
from studio.jobs.procs import job_process
from studio.store import ACTIVE_STATUSES, Store

log = logging.getLogger("studio.jobs")


def _alive(procs: list[psutil.Process]) -> list[psutil.Process]:
    alive = []
    for proc in procs:
        try:
            if proc.status() != psutil.STATUS_ZOMBIE:
                alive.append(proc)
                continue
        except psutil.NoSuchProcess:
            continue
        try:  # our own child: reap it, since its job row is about to disappear
            os.waitpid(proc.pid, os.WNOHANG)
        except ChildProcessError:
            pass
    return alive


def _wait_gone(procs: list[psutil.Process], timeout_s: float) -> list[psutil.Process]:
    deadline = time.monotonic() + timeout_s
    alive = _alive(procs)
    while alive and time.monotonic() < deadline:
        time.sleep(0.05)
        alive = _alive(alive)
    return alive


def _signal_all(procs: list[psutil.Process], kill: bool) -> None:
    sig = signal.SIGKILL if kill else signal.SIGTERM
    for proc in procs:
        try:
            # A job leads its own process group (start_new_session): signal the group, so
            # workers or ranks it started after we listed its children go too.
            if os.getpgid(proc.pid) == proc.pid:
                os.killpg(proc.pid, sig)
            else:
                proc.send_signal(sig)
        except (ProcessLookupError, psutil.NoSuchProcess):
            pass


def _tree(proc: psutil.Process | None) -> list[psutil.Process] | None:
    """The process and every process it started; None when there is no process."""
    if proc is None:
        return None
    try:
        return [proc, *proc.children(recursive=True)]
    except psutil.NoSuchProcess:
        return [proc]  # it ended meanwhile: nothing left to wait for


def stop_jobs(
    store: Store, runner: Any, jobs: list[dict[str, Any]], grace_s: float = 3.0, term_s: float = 3.0
) -> list[str]:
    """Cancel `jobs` through the runner and make sure no process of theirs is left.

    Without a runner (None) nothing is cancelled, the processes are only ended. A running job
    gets `grace_s` to stop by itself, then SIGTERM, then after `term_s` SIGKILL (its process
    group and child processes too). Returns the ids of the jobs that had a process. Raises
    JobError if a process survives even SIGKILL (then nothing should be deleted).
    """
    procs: dict[str, list[psutil.Process]] = {}
    for job in jobs:
        # Its processes before the cancel too: a job that obeys it at once is gone before it
        # could be looked up afterwards, and it was still a running job stopped.
        trees = [_tree(job_process(job))]
        try:
            if runner is not None:
                runner.cancel(job["id"])  # queued: cancelled now; running: STOP file written
        except (JobError, NotFoundError):
            pass  # it finished (or vanished) in the meantime
        try:
            # The runner may have launched it just now.
            trees.append(_tree(job_process(store.get_job(job["id"]))))
        except NotFoundError:
            pass
        found = {p.pid: p for tree in trees if tree is not None for p in tree}
        if any(tree is not None for tree in trees):
            procs[job["id"]] = list(found.values())
    everything = [p for group in procs.values() for p in group]
    alive = _wait_gone(everything, grace_s)
    if alive:
        _signal_all(alive, kill=False)
        alive = _wait_gone(alive, term_s)
    if alive:
        _signal_all(alive, kill=True)
        alive = _wait_gone(alive, 5.0)
    if alive:
        pids = ", ".join(str(p.pid) for p in alive)
        raise JobError(
            f"Could not stop the job process(es) {pids}; end them (kill {pids}) and delete again."
        )
    for job_id in procs:
        log.info("stopped job %s before deleting it", job_id)
    return list(procs)


def _close(store: Store, job_ids: list[str]) -> None:
    # Rows the runner has not settled yet (its loop may not be running); only rows still
    # active are touched, so a status the runner already wrote is kept.
    store.close_active_jobs(job_ids, "Stopped because its app was deleted.")


def delete_app_and_stop_jobs(
    store: Store, runner: Any, app_id: str, grace_s: float = 3.0, term_s: float = 3.0
) -> list[str]:
    """Stop the app's queued and running jobs, then delete the app with its rows, files and
    exports (Store.delete_app). Returns the ids of the jobs whose processes were stopped."""
    store.get_app(app_id)  # NotFoundError before anything is stopped
    stopped: list[str] = []
    for _ in range(3):  # a job queued meanwhile (another tab) is stopped in the next round
        active = store.list_jobs(app_id, status=ACTIVE_STATUSES)
        if not active:
            break
        stopped += stop_jobs(store, runner, active, grace_s, term_s)
        _close(store, [job["id"] for job in active])
    store.delete_app(app_id)  # refuses (JobError) if yet another job became active
    return stopped
