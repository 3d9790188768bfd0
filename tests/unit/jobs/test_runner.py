"""JobRunner logic with stand-in children (plain Python one-liners, no torch)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

import studio.jobs.scheduler as runner_mod
from studio.errors import JobError
from studio.jobs import JobRunner, build_command

FAKE = {
    "ok": "import json,sys,pathlib; p=pathlib.Path(sys.argv[1]); print('hi'); "
    "(p/'status.json').write_text(json.dumps({'status':'succeeded','reason':'',"
    "'summary':{'steps':3,'total_steps':3}}))",
    "crash": "import sys; sys.exit(3)",
    "sleep": "import time; time.sleep(60)",
    # A launcher with a worker in its process group (as `accelerate launch` has its ranks).
    "family": "import pathlib,subprocess,sys,time; w=subprocess.Popen([sys.executable,'-c',"
    "'import time; time.sleep(60)']); (pathlib.Path(sys.argv[1])/'worker.pid')"
    ".write_text(str(w.pid)); time.sleep(60)",
}


@pytest.fixture
def app_id(store):
    return store.create_app("unit")["id"]


def _fake(monkeypatch, kind):
    monkeypatch.setattr(
        runner_mod,
        "build_command",
        lambda _k, run_dir, resume=False: [sys.executable, "-c", FAKE[kind], str(run_dir)],
    )


def _until(runner, store, job_id, statuses, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        runner.tick()
        job = store.get_job(job_id)
        if job["status"] in statuses:
            return job
        time.sleep(0.05)
    raise AssertionError(f"job stayed {store.get_job(job_id)['status']}")


def test_build_command_is_an_argument_list():
    cmd = build_command("train", "/runs/x", resume=True)
    assert cmd[0] == sys.executable and cmd[1:] == ["-m", "studio.train", "/runs/x", "--resume"]


def test_submit_writes_the_config_and_success_is_copied(monkeypatch, store, settings, app_id):
    _fake(monkeypatch, "ok")
    runner = JobRunner(store, settings)
    job = runner.submit(app_id, None, "train", {"base_model": "m"})
    config = json.loads(open(os.path.join(job["run_dir"], "config.json")).read())
    assert config == {
        "base_model": "m",
        "job_id": job["id"],
        "run_dir": job["run_dir"],
        "kind": "train",
    }
    assert job["run_dir"].endswith(os.path.join(app_id, "runs", job["id"]))
    done = _until(runner, store, job["id"], ("succeeded", "failed"))
    assert done["status"] == "succeeded" and done["summary"]["steps"] == 3 and done["pid"]
    assert "hi" in open(os.path.join(job["run_dir"], "train.log")).read()
    with pytest.raises(JobError):
        runner.submit(app_id, None, "shell", {})


def test_exit_without_status_and_kill_are_failures_with_reasons(
    monkeypatch, store, settings, app_id
):
    runner = JobRunner(store, settings)
    _fake(monkeypatch, "crash")
    crashed = runner.submit(app_id, None, "train", {})
    assert "exited with code 3" in _until(runner, store, crashed["id"], ("failed",))["reason"]
    _fake(monkeypatch, "sleep")
    killed = runner.submit(app_id, None, "train", {})
    pid = _until(runner, store, killed["id"], ("running",))["pid"]
    os.kill(pid, signal.SIGKILL)
    assert "signal 9" in _until(runner, store, killed["id"], ("failed",))["reason"]


def test_cancel_escalates_to_sigterm_when_the_stop_file_is_ignored(
    monkeypatch, store, settings, app_id
):
    _fake(monkeypatch, "sleep")
    runner = JobRunner(store, settings, term_after_s=0.2)
    job = runner.submit(app_id, None, "train", {})
    _until(runner, store, job["id"], ("running",))
    runner.cancel(job["id"])
    assert os.path.isfile(os.path.join(job["run_dir"], "STOP"))
    done = _until(runner, store, job["id"], ("cancelled", "failed"))
    assert done["status"] == "cancelled"
    with pytest.raises(JobError, match="saved no checkpoint"):
        runner.resume(job["id"])


def _gone(pid: int, timeout: float = 10) -> bool:
    import psutil

    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.05)
    return False


def test_cancel_escalation_reaches_the_whole_process_group(monkeypatch, store, settings, app_id):
    _fake(monkeypatch, "family")
    runner = JobRunner(store, settings, term_after_s=0.2)
    job = runner.submit(app_id, None, "train", {})
    pid = _until(runner, store, job["id"], ("running",))["pid"]
    worker_file = os.path.join(job["run_dir"], "worker.pid")
    deadline = time.time() + 20
    while not os.path.isfile(worker_file) and time.time() < deadline:
        time.sleep(0.05)
    worker = int(open(worker_file).read())
    assert os.getpgid(worker) == pid  # the child leads its own group, the worker is in it
    try:
        runner.cancel(job["id"])
        assert _until(runner, store, job["id"], ("cancelled", "failed"))["status"] == "cancelled"
        assert _gone(worker), "the worker outlived the cancel"
    finally:
        if not _gone(worker, 0):
            os.kill(worker, signal.SIGKILL)


def test_the_child_runs_at_a_lower_cpu_priority(monkeypatch, store, settings, app_id):
    import psutil

    from studio.jobs.launch import CHILD_NICENESS

    _fake(monkeypatch, "sleep")
    runner = JobRunner(store, settings)
    job = runner.submit(app_id, None, "train", {})
    pid = _until(runner, store, job["id"], ("running",))["pid"]
    try:
        child = psutil.Process(pid)
        # `nice` execs the job under the same pid; on a busy machine that can come a moment
        # after the pid is recorded, so wait for the exec before reading the priority.
        deadline = time.time() + 30
        while job["run_dir"] not in child.cmdline() and time.time() < deadline:
            time.sleep(0.05)
        assert job["run_dir"] in child.cmdline()
        assert child.nice() == min(os.nice(0) + CHILD_NICENESS, 19)
    finally:
        os.kill(pid, signal.SIGKILL)
    assert _until(runner, store, job["id"], ("failed",))["status"] == "failed"


def test_reconcile_settles_dead_jobs(store, settings, app_id):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    runner = JobRunner(store, settings)
    jobs = {}
    for name in ("with_ckpt", "without", "finished"):
        job = runner.submit(app_id, None, "train", {})
        store.update_job(job["id"], status="running", pid=dead.pid, started_at=time.time())
        jobs[name] = job
    ckpt = os.path.join(jobs["with_ckpt"]["run_dir"], "checkpoints", "checkpoint-4")
    os.makedirs(ckpt)
    open(os.path.join(ckpt, "trainer_state.json"), "w").write("{}")
    with open(os.path.join(jobs["finished"]["run_dir"], "status.json"), "w") as f:
        json.dump({"status": "succeeded", "reason": "", "summary": {"steps": 9}}, f)
    runner.reconcile()
    interrupted = store.get_job(jobs["with_ckpt"]["id"])
    assert interrupted["status"] == "interrupted" and "step 4" in interrupted["reason"]
    assert store.get_job(jobs["without"]["id"])["status"] == "failed"
    assert store.get_job(jobs["finished"]["id"])["summary"] == {"steps": 9}
    resumed = runner.resume(jobs["with_ckpt"]["id"])
    assert resumed["status"] == "queued" and resumed["params"]["resume"] is True
    with pytest.raises(JobError, match="only queued or running"):
        runner.cancel(jobs["without"]["id"])


def test_runner_never_launches_a_job_without_a_run_folder(store, settings, app_id, monkeypatch):
    launched = []
    monkeypatch.setattr(runner_mod, "launch", lambda cmd, run_dir: launched.append(cmd))
    runner = JobRunner(store, settings)
    orphan = store.create_job(app_id, None, "train")  # queued, but no run folder / config.json
    record = store.create_job(app_id, None, "import", {}, "", status="succeeded")
    runner.tick()
    assert launched == []
    failed = store.get_job(orphan["id"])
    assert failed["status"] == "failed" and "no run folder" in failed["reason"]
    assert store.get_job(record["id"])["status"] == "succeeded"  # never seen as queued
    with pytest.raises(ValueError, match="unknown job status"):
        store.create_job(app_id, None, "train", status="done")
