"""Deleting an app stops its jobs' processes first (stand-in children, no torch)."""

from __future__ import annotations

import pathlib
import sys
import time

import psutil
import pytest

import studio.jobs.scheduler as runner_mod
from studio.errors import NotFoundError
from studio.jobs import JobRunner
from studio.jobs.removal import delete_app_and_stop_jobs

# Ignores the STOP file and SIGTERM, keeps writing into its run folder, and has started a
# worker process of its own (like a data loader): the worst case.
STUBBORN = (
    "import pathlib, signal, subprocess, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    "p = pathlib.Path(sys.argv[1])\n"
    "w = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
    "(p / 'worker.pid').write_text(str(w.pid))\n"
    "while True:\n"
    "    p.mkdir(parents=True, exist_ok=True); (p / 'metrics.jsonl').write_text('{}'); "
    "time.sleep(0.05)"
)
# Stops when asked (the STOP file), like a training run does.
POLITE = (
    "import pathlib, sys, time; p = pathlib.Path(sys.argv[1])\n"
    "while not (p / 'STOP').exists():\n"
    "    time.sleep(0.05)"
)


def _fake(monkeypatch, code):
    def command(_kind, run_dir, resume=False):
        return [sys.executable, "-c", code, str(run_dir)]

    monkeypatch.setattr(runner_mod, "build_command", command)


def _running(runner, store, job_id):
    deadline = time.time() + 20
    while time.time() < deadline:
        runner.tick()
        job = store.get_job(job_id)
        if job["status"] == "running" and job["pid"]:
            return job
        time.sleep(0.05)
    raise AssertionError("the job never started")


def _worker_pid(run_dir, code) -> list[int]:
    if code != STUBBORN:
        return []
    path = pathlib.Path(run_dir) / "worker.pid"
    deadline = time.time() + 20
    while not path.is_file() and time.time() < deadline:
        time.sleep(0.05)
    return [int(path.read_text())]


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@pytest.mark.parametrize("code", [STUBBORN, POLITE], ids=["stubborn", "polite"])
def test_delete_app_stops_running_and_queued_jobs_first(monkeypatch, store, settings, code):
    _fake(monkeypatch, code)
    app = store.create_app("doomed")
    runner = JobRunner(store, settings)  # one slot: the second job stays queued
    running = runner.submit(app["id"], None, "train", {})
    pid = _running(runner, store, running["id"])["pid"]
    pids = [pid, *_worker_pid(running["run_dir"], code)]
    queued = runner.submit(app["id"], None, "train", {})
    keep = store.create_app("kept")
    other = store.create_job(keep["id"], None, "train", status="succeeded")

    try:
        stopped = delete_app_and_stop_jobs(store, runner, app["id"], grace_s=0.3, term_s=0.3)
    finally:
        left = [p for p in pids if _alive(p)]
        for p in left:
            psutil.Process(p).kill()  # never leave a stand-in running after a failure
    assert left == [] and stopped == [running["id"]]
    time.sleep(0.3)  # a surviving process would have re-created its run folder by now
    assert not store.app_dir(app["id"]).exists()
    with pytest.raises(NotFoundError):
        store.get_job(queued["id"])
    assert [j["id"] for j in store.list_jobs()] == [other["id"]]
    runner.tick()  # the runner copes with the rows being gone and launches nothing
    assert store.list_jobs(status=("running", "queued")) == []


def test_delete_app_without_jobs_and_of_a_missing_app(store, settings):
    app = store.create_app("plain")
    assert delete_app_and_stop_jobs(store, JobRunner(store, settings), app["id"]) == []
    with pytest.raises(NotFoundError):
        delete_app_and_stop_jobs(store, None, app["id"])


def test_a_job_that_stops_the_moment_it_is_cancelled_counts_as_stopped(
    monkeypatch, store, settings
):
    """The Apps tab says how many running jobs a delete stopped: a job whose process obeys the
    cancel at once (before it could be looked up again) was one of them."""
    _fake(monkeypatch, POLITE)
    app = store.create_app("quick")
    runner = JobRunner(store, settings)
    job = runner.submit(app["id"], None, "train", {})
    pid = _running(runner, store, job["id"])["pid"]
    cancel = runner.cancel

    def cancel_and_wait(job_id):  # the process is gone by the time cancel returns
        cancel(job_id)
        proc = psutil.Process(pid)
        proc.wait(timeout=20)

    monkeypatch.setattr(runner, "cancel", cancel_and_wait)
    assert delete_app_and_stop_jobs(store, runner, app["id"], grace_s=0.3, term_s=0.3) == [
        job["id"]
    ]
    assert not _alive(pid)
