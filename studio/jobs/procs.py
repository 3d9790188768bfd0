"""The processes of one job: its leader (the pid in the job row) and, for a run on several
processes, the ranks that `accelerate launch` (torchrun) started.

torchrun starts every rank in a session of its own, so signalling the leader's process
group does not reach them: these helpers find the ranks by their command line (they name the
run folder) and signal each. Never imports torch.
"""

from __future__ import annotations

import os
import signal
from typing import Any

import psutil

from studio.store.job_states import TRAIN


def killed_reason(signum: int, step: int | None = None) -> str:
    """The reason shown for a job whose process died of signal `signum`."""
    name = signal.Signals(signum).name if signum in signal.Signals._value2member_map_ else "?"
    why = " (often the system running out of memory)" if signum == signal.SIGKILL else ""
    then = (
        f"press Resume to continue from step {step}, or Train again"
        if step is not None
        else "Train again (it saved no checkpoint to resume from)"
    )
    return (
        f"The training process was killed (signal {signum}, {name}){why}. Lower the batch "
        f"size or max length, then {then}."
    )


def broken_group_reason(alive: int, expected: int, step: int | None) -> str:
    """Part of a multi-process group died, so the rest could not go on (they would wait
    forever for the missing ranks) and were stopped; resumable from its checkpoint."""
    what = (
        "its launcher had died"
        if alive == 0
        else f"only {alive} of its {expected} training processes were still running"
    )
    then = (
        f"press Resume to continue from step {step}."
        if step is not None
        else "no checkpoint was saved, so train it again."
    )
    return (
        f"The training process group was broken ({what}); the remaining processes were "
        f"stopped. {then}"
    )


def job_process(job: dict[str, Any]) -> psutil.Process | None:
    """The live process running this job's run folder, or None. A pid can be reused (after
    a reboot, or once the job's own process is gone): the process must name the run folder."""
    if not job.get("pid") or not job.get("run_dir"):
        return None
    try:
        proc = psutil.Process(int(job["pid"]))
        if proc.status() == psutil.STATUS_ZOMBIE or job["run_dir"] not in proc.cmdline():
            return None
        return proc
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None


def rank_processes(job: dict[str, Any]) -> list[psutil.Process]:
    """Live processes other than the leader that run this job's module on its run folder
    (the ranks of a multi-process run, alive even when their launcher is gone)."""
    run_dir, module = job.get("run_dir"), f"studio.{job.get('kind', TRAIN)}"
    if not run_dir:
        return []
    found = []
    for proc in psutil.process_iter(["pid", "cmdline", "status"]):
        try:
            cmd = proc.info["cmdline"] or []
            if (
                proc.pid != job.get("pid")
                and run_dir in cmd
                and module in cmd
                and proc.info["status"] != psutil.STATUS_ZOMBIE
                and "accelerate.commands.launch" not in cmd
            ):
                found.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found


def _signal_one(pid: int, sig: int) -> None:
    try:
        if os.getpgid(pid) == pid:  # leads its own group (start_new_session): its helpers too
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def signal_job(pid: int, sig: int, job: dict[str, Any] | None = None) -> None:
    """Send `sig` to a job's leader (with its process group: data loader workers) and to
    every rank it started, each of which leads a group of its own."""
    ranks = {p.pid for p in rank_processes(job)} if job else set()
    try:
        ranks |= {c.pid for c in psutil.Process(pid).children(recursive=True)}
    except psutil.NoSuchProcess:
        pass
    _signal_one(pid, sig)
    for rank in ranks:
        _signal_one(rank, sig)


def end_processes(procs: list[psutil.Process], grace_s: float = 10.0) -> None:
    """SIGTERM these processes, then SIGKILL what is left after `grace_s`."""
    for proc in procs:
        _signal_one(proc.pid, signal.SIGTERM)
    _, alive = psutil.wait_procs(procs, timeout=grace_s)
    for proc in alive:
        _signal_one(proc.pid, signal.SIGKILL)
    psutil.wait_procs(alive, timeout=5)
