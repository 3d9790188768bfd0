"""Watching the job processes: whether a running job's process exited, and with what
outcome (status.json, a cancel that did not stop in time, a signal, a lost process); a
multi-process run with dead ranks; a cancel escalated to SIGTERM, then SIGKILL; and the
reconcile after a restart that re-attaches live children.

JobWatching is a part of JobRunner (studio.jobs.scheduler), which owns the state it reads:
store, settings, _children, _cancel_at, _lock, term_after_s and kill_after_s.
Never imports torch.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from typing import Any

import psutil

from studio.jobs.launch import run_launch_settings
from studio.jobs.outcome import job_outcome
from studio.jobs.procs import (
    broken_group_reason,
    end_processes,
    job_process,
    killed_reason,
    rank_processes,
    signal_job,
)
from studio.jobs.run_folder import RunFolder
from studio.store.job_states import CANCELLED, FAILED, INTERRUPTED, RUNNING, TRAIN

log = logging.getLogger("studio.jobs")
STARTUP_S = 60.0  # a multi-process launcher may take this long to start all its ranks


class JobWatching:
    """Settles running jobs whose process ended; escalates cancels of those still running."""

    def _exit_code(self, job: dict) -> tuple[bool, int | None]:
        """(exited, return code or None when unknown) for a running job's process."""
        child = self._children.get(job["id"])
        if child is None:
            if not self._is_our_process(job):
                return True, None
            child = self._children[job["id"]] = psutil.Process(job["pid"])
        if isinstance(child, psutil.Process):
            try:
                if child.is_running() and child.status() != psutil.STATUS_ZOMBIE:
                    return False, None
            except psutil.NoSuchProcess:
                return True, None
            try:  # a zombie we happen to be the parent of (another runner in this process)
                _, status = os.waitpid(child.pid, os.WNOHANG)
                return True, os.waitstatus_to_exitcode(status) if status else None
            except ChildProcessError:
                return True, None
        code = child.poll()
        return code is not None, code

    def _watch(self, job: dict) -> None:
        exited, code = self._exit_code(job)
        if not exited:
            self._escalate_cancel(job)
            return
        self._children.pop(job["id"], None)
        leftover = rank_processes(job) if job["kind"] == TRAIN else []
        if leftover:  # ranks whose launcher died: stopped (they save a checkpoint first)
            end_processes(leftover)
            self._set_half_dead(job, 0, len(leftover))
            return
        cancel_asked = self._cancel_at.pop(job["id"], None) is not None
        run = RunFolder(job["run_dir"])
        status = run.status()
        if status:
            outcome = job_outcome(self.store, job, status)
            self._set_final(job["id"], outcome["status"], outcome["reason"], outcome["summary"])
        elif cancel_asked:
            step = run.last_checkpoint_step()
            self._set_final(
                job["id"],
                CANCELLED,
                "The job did not stop in time and was ended; "
                + (f"Resume continues from step {step}." if step else "start it again."),
            )
        elif code is not None and code < 0:
            step = run.last_checkpoint_step() if job["kind"] == TRAIN else None
            self._set_final(job["id"], FAILED, killed_reason(-code, step))
        elif code is not None:
            self._set_final(
                job["id"],
                FAILED,
                f"The job process exited with code {code} "
                "without writing status.json; see the end of train.log.",
            )
        else:
            self._set_lost(job)

    def _set_final(
        self, job_id: str, status: str, reason: str, summary: dict | None = None
    ) -> None:
        fields: dict[str, Any] = {"status": status, "reason": reason, "finished_at": time.time()}
        if summary is not None:
            fields["summary"] = summary
        self.store.update_job(job_id, **fields)
        log.info("job %s %s %s", job_id, status, reason)

    def _set_lost(self, job: dict) -> None:
        """The process is gone without a status: interrupted if it can resume, else failed."""
        step = RunFolder(job["run_dir"]).last_checkpoint_step() if job["kind"] == TRAIN else None
        if step is not None:
            self._set_final(
                job["id"],
                INTERRUPTED,
                "The training process stopped while the "
                f"studio was not watching; press Resume to continue from step {step}.",
            )
        else:
            self._set_final(
                job["id"],
                FAILED,
                "The job process ended without a status (it "
                "was killed or the machine restarted) before any checkpoint; start it again.",
            )

    def _set_half_dead(self, job: dict, alive: int, expected: int) -> None:
        step = RunFolder(job["run_dir"]).last_checkpoint_step()
        self._set_final(job["id"], INTERRUPTED, broken_group_reason(alive, expected, step))

    def _check_group(self, job: dict, leader: psutil.Process) -> bool:
        """True when every rank of a multi-process run is alive; else end it (interrupted)."""
        if job["kind"] != TRAIN:
            return True
        expected = run_launch_settings(job["run_dir"]).processes
        if expected <= 1 or time.time() - leader.create_time() < STARTUP_S:
            return True  # still starting its ranks
        ranks = rank_processes(job)
        if len(ranks) >= expected:
            return True
        end_processes([leader, *ranks])
        self._set_half_dead(job, len(ranks), expected)
        return False

    def _is_our_process(self, job: dict) -> bool:
        return job_process(job) is not None

    def reconcile(self) -> None:
        """After a restart: re-attach live children; settle jobs whose process died."""
        with self._lock:
            for job in self.store.list_jobs(status=(RUNNING,)):
                if job["id"] in self._children:
                    continue
                leader = job_process(job)
                if leader is not None:
                    if not self._check_group(job, leader):
                        continue
                    self._children[job["id"]] = psutil.Process(int(job["pid"]))
                    log.info("re-attached job %s (pid %s)", job["id"], job["pid"])
                else:
                    self._watch(job)

    def _escalate_cancel(self, job: dict) -> None:
        asked = self._cancel_at.get(job["id"])
        if asked is None:
            return
        waited = time.time() - asked
        sig = (
            signal.SIGKILL
            if waited > self.kill_after_s
            else signal.SIGTERM
            if waited > self.term_after_s
            else None
        )
        if sig is not None and job.get("pid"):
            signal_job(int(job["pid"]), sig, job)
