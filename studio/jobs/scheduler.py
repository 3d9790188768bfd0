"""The job queue and runner: jobs live in the store, children run in their own processes.

    runner = JobRunner(store, settings); runner.start()       # reconcile, then poll
    job = runner.submit(app_id, model_id, "train", config)   # queued; started when a slot is free
    runner.cancel(job["id"]); runner.resume(job["id"])

A daemon thread calls tick() about every half second: it finishes jobs whose process exited
(copying status.json into the row) and starts queued jobs up to max_concurrent_jobs. The
truth is the store plus the run folders, so a new runner (after a restart) reconciles:
a live child is re-attached, a dead one is marked interrupted (resumable) or failed.
Watching the processes (exits, outcomes, cancel escalation, reconcile) is JobWatching, in
studio.jobs.watching.
Never imports torch: the page must stay responsive.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from studio.configs.runs import RunConfig
from studio.errors import JobError
from studio.jobs.launch import build_command, launch
from studio.jobs.limits import check_queue_room
from studio.jobs.run_folder import RunFolder
from studio.jobs.watching import JobWatching
from studio.settings import Settings
from studio.store import Store
from studio.store.job_states import (
    CANCELLED,
    DOWNLOAD,
    FAILED,
    PROCESS_KINDS,
    QUEUED,
    RESUMABLE_STATUSES,
    RUNNING,
    TRAIN,
)
from studio.store.store import new_id

log = logging.getLogger("studio.jobs")
KINDS = PROCESS_KINDS
RESUMABLE = RESUMABLE_STATUSES


def can_resume(job: dict[str, Any]) -> bool:
    """Whether Resume can continue this job: a stopped train job with a complete checkpoint,
    or a stopped download (it continues from the files already on disk)."""
    if job.get("status") not in RESUMABLE:
        return False
    if job.get("kind") == DOWNLOAD:
        return True
    return job.get("kind") == TRAIN and RunFolder(job["run_dir"]).last_checkpoint_step() is not None


class JobRunner(JobWatching):
    """Runs queued jobs as child processes and keeps their rows in step with reality."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        poll_s: float = 0.5,
        term_after_s: float = 60.0,
        kill_after_s: float = 600.0,
    ):
        self.store, self.settings = store, settings
        self.poll_s = poll_s
        self.term_after_s, self.kill_after_s = term_after_s, kill_after_s  # after a cancel
        self._children: dict[str, Any] = {}  # job id -> Popen (ours) or psutil.Process
        self._cancel_at: dict[str, float] = {}
        self._env: dict[str, dict[str, str]] = {}  # job id -> the child's extra environment
        self._lock = threading.RLock()
        self._thread: threading.Thread | None = None
        self._halt = threading.Event()

    # -- lifecycle -------------------------------------------------------------------
    def start(self) -> None:
        """Reconcile with what survived a restart, then poll in a daemon thread."""
        if self._thread and self._thread.is_alive():
            return
        self.reconcile()
        self._halt.clear()
        self._thread = threading.Thread(target=self._loop, name="studio-jobs", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop polling. Running children keep training; the next start re-attaches them."""
        self._halt.set()
        if self._thread:
            self._thread.join(timeout=5)
        self._thread = None

    def _loop(self) -> None:
        while not self._halt.wait(self.poll_s):
            try:
                self.tick()
            except Exception:  # the loop must survive a bad row or a locked database
                log.exception("job runner tick failed")

    def tick(self) -> None:
        """One round: finish exited jobs, escalate pending cancels, start queued jobs."""
        with self._lock:
            for job in self.store.list_jobs(status=(RUNNING,)):
                self._watch(job)
            self._start_queued()

    # -- the queue -------------------------------------------------------------------
    def submit(
        self,
        app_id: str,
        model_id: str | None,
        kind: str,
        config: dict[str, Any] | RunConfig,
        params: dict[str, Any] | None = None,
        env: dict[str, str] | None = None,
    ) -> dict:
        """Queue a job: writes RUN_DIR/config.json (a TrainRun / EvalRun or its dict) and the
        job row (status queued). `env` goes to the child's environment and stays in this
        runner's memory only (a user's Hub token is never written to the run folder)."""
        if isinstance(config, RunConfig):
            config = config.to_dict()
        if kind not in KINDS:
            raise JobError(f"Unknown job kind {kind!r}; use one of {KINDS}.")
        check_queue_room(self.store, self.settings, app_id)
        job_id = new_id()
        run = RunFolder(self.store.app_dir(app_id) / "runs" / job_id)
        run.write_config({**config, "job_id": job_id, "run_dir": str(run.path), "kind": kind})
        if env:
            self._env[job_id] = dict(env)
        return self.store.create_job(app_id, model_id, kind, params or {}, str(run.path), job_id)

    def _claim(self, job_id: str) -> bool:
        # Another runner on the same store may race us for the same queued job.
        return self.store.claim_job(job_id)

    def _start_queued(self) -> None:
        running = len(self.store.list_jobs(status=(RUNNING,)))
        slots = max(0, int(self.settings.max_concurrent_jobs) - running)
        # Round-robin across users; with sign-in on each user also has a running-jobs cap.
        cap = self.settings.user_max_running if self.settings.signed_in else None
        for job in self.store.fair_queue(cap):
            if slots <= 0:
                return
            if job["kind"] in KINDS and self._claim(job["id"]):
                self._launch(job)
                slots -= 1

    def _launch(self, job: dict) -> None:
        if not job["run_dir"] or not RunFolder(job["run_dir"]).has_config():
            # Never launch into an unknown folder (an empty path would mean the cwd).
            self._set_final(
                job["id"],
                FAILED,
                "The job has no run folder with a config.json; "
                "start it again from the Train or Evaluate tab.",
            )
            return
        run = RunFolder(job["run_dir"])
        run.clear_stop()  # a stale stop request from a cancel
        run.clear_status()  # the previous attempt's, if resumed
        cmd = build_command(job["kind"], run.path, resume=bool(job["params"].get("resume")))
        try:
            proc = launch(cmd, run.path, self._env.pop(job["id"], None))
        except OSError as exc:
            self._set_final(job["id"], FAILED, f"Could not start the job process: {exc}")
            return
        self._children[job["id"]] = proc
        self.store.update_job(job["id"], pid=proc.pid, finished_at=None)
        log.info("started %s job %s (pid %d): %s", job["kind"], job["id"], proc.pid, cmd)

    # -- cancel / resume ---------------------------------------------------------------
    def cancel(self, job_id: str) -> dict:
        """Queued: cancelled at once. Running: ask it to stop (it saves, then exits)."""
        with self._lock:
            job = self.store.get_job(job_id)
            if job["status"] == QUEUED:
                return self.store.update_job(
                    job_id,
                    status=CANCELLED,
                    finished_at=time.time(),
                    reason="Cancelled before it started.",
                )
            if job["status"] != RUNNING:
                raise JobError(
                    f"Job {job_id} is {job['status']}; only queued or running jobs can be cancelled."
                )
            RunFolder(job["run_dir"]).request_stop(time.time())
            self._cancel_at.setdefault(job_id, time.time())
            return job

    def resume(self, job_id: str, env: dict[str, str] | None = None) -> dict:
        """Queue a stopped train job again (it continues from its last checkpoint), or a
        stopped download (from the files on disk); `env` as for submit."""
        if env:
            self._env[job_id] = dict(env)
        with self._lock:
            job = self.store.get_job(job_id)
            if job["kind"] not in (TRAIN, DOWNLOAD) or job["status"] not in RESUMABLE:
                raise JobError(
                    f"Job {job_id} is {job['status']}; only cancelled, failed or "
                    "interrupted training jobs and downloads can be resumed."
                )
            if job["kind"] == TRAIN and RunFolder(job["run_dir"]).last_checkpoint_step() is None:
                raise JobError(
                    f"Job {job_id} saved no checkpoint, so there is nothing to resume; "
                    "press Train to start it again."
                )
            RunFolder(job["run_dir"]).clear_stop()
            params = {**(job["params"] or {}), "resume": True}
            # The next start resets started_at: keep the time already spent, so the job's
            # total duration survives a resume.
            if job.get("started_at") and job.get("finished_at"):
                spent = float(job["finished_at"]) - float(job["started_at"])
                params["earlier_run_s"] = float(params.get("earlier_run_s") or 0) + max(0, spent)
            # The stopped part's summary goes: the page reads the resumed part's progress
            # from its run, and the resumed part writes the whole run's summary at its end.
            return self.store.update_job(
                job_id,
                status=QUEUED,
                params=params,
                reason="",
                pid=None,
                finished_at=None,
                summary={},
            )
