"""Data-parallel training on two CPU processes (gloo) through `accelerate launch`.

What a user relies on when a run uses several processes: each rank trains on its own share
of every epoch, the step count and the loss curve are those of one process with a batch
twice as large, only rank 0 writes the run files, a stop request stops both ranks on one
checkpoint that a resume continues exactly, two "machines" train together, and the job
runner's cancel and restart handle every rank. Tiny model, few steps: the processes' start
(importing torch and transformers) is most of the time.
"""

from __future__ import annotations

import json
import math
import os
import re
import signal
import subprocess
from collections import Counter
from pathlib import Path

import psutil
import pytest

from studio.configs.launch import LaunchSettings
from studio.jobs import JobRunner, read_metrics
from studio.jobs.launch import build_command, child_env
from studio.jobs.procs import rank_processes
from studio.settings import PROJECT_ROOT
from tests.helpers import free_port
from tests.support.runs import run_config, write_run
from tests.support.waiting import wait_for

N_TRAIN = 48
# No dropout: the ranks' dropout masks cannot match one process's, the rest can.
BASE = {
    "peft": {"lora_dropout": 0.0},
    "trainer": {
        "num_train_epochs": 2,
        "per_device_train_batch_size": 4,
        "logging_steps": 1,
        "save_strategy": "steps",
        "save_steps": 4,
        "eval_strategy": "epoch",
    },
    "studio": {"processes": 2},
    "debug": {"log_batches": True},
}


def _env() -> dict[str, str]:
    return {**child_env(), "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def _start(run_dir: Path, resume: bool = False, launch: LaunchSettings | None = None):
    log = (run_dir / "train.log").open("ab")
    cmd = build_command("train", run_dir, resume=resume, launch=launch)
    return subprocess.Popen(
        cmd,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=PROJECT_ROOT,
        env=_env(),
        start_new_session=True,
    )


def _finish(proc, run_dir: Path, timeout: float = 300) -> dict:
    try:
        proc.wait(timeout=timeout)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    status = run_dir / "status.json"
    assert status.is_file(), (run_dir / "train.log").read_text()[-4000:]
    return json.loads(status.read_text())


def _cfg(tmp_path, settings, tiny, **over):
    from tests.support.runs import deep_update

    base = run_config(tiny, tmp_path / "data", settings, n_train=N_TRAIN)
    return deep_update(deep_update(base, BASE), over)


def _train_losses(run_dir: Path) -> dict[int, float]:
    return {m["step"]: m["loss"] for m in read_metrics(run_dir) if m["type"] == "train"}


def _batches(run_dir: Path) -> list[tuple[int, int, list[int]]]:
    pattern = re.compile(r"rank (\d+) epoch (\d+) batch \[([\d, ]*)\]")
    return [
        (int(r), int(e), [int(x) for x in b.split(",") if x.strip()])
        for r, e, b in pattern.findall((run_dir / "train.log").read_text())
    ]


def _weights(run_dir: Path) -> dict:
    from safetensors.torch import load_file

    return load_file(run_dir / "adapter" / "adapter_model.safetensors")


@pytest.fixture(scope="module")
def runs(tmp_path_factory, tiny_causal_dir, models_cache):
    """Two processes x 4 examples, one process x 8, one process x 4 (only its plan)."""
    from studio.settings import Settings

    tmp = tmp_path_factory.mktemp("ddp")
    settings = Settings.from_env(home=tmp / "home", models_root=models_cache, port=0)
    settings.ensure_dirs()
    two = write_run(tmp / "two", _cfg(tmp, settings, tiny_causal_dir))
    one8 = write_run(
        tmp / "one8",
        _cfg(
            tmp,
            settings,
            tiny_causal_dir,
            trainer={"per_device_train_batch_size": 8},
            studio={"processes": 1},
        ),
    )
    one4 = write_run(
        tmp / "one4",
        _cfg(
            tmp,
            settings,
            tiny_causal_dir,
            studio={"processes": 1},
            debug={"stop_after_step": 1},
        ),
    )
    procs = [(_start(run), run) for run in (two, one8, one4)]
    results = {run.name: _finish(p, run) for p, run in procs}
    return {
        "dirs": {"two": two, "one8": one8, "one4": one4},
        "status": results,
        "settings": settings,
        "tmp": tmp,
    }


def test_each_rank_trains_on_its_own_share_of_every_epoch(runs):
    two = runs["dirs"]["two"]
    assert runs["status"]["two"]["status"] == "succeeded", runs["status"]["two"]
    seen = _batches(two)
    assert {r for r, _, _ in seen} == {0, 1}
    for epoch in (0, 1):
        per_rank = {
            r: [i for rr, e, b in seen if rr == r and e == epoch for i in b] for r in (0, 1)
        }
        assert len(per_rank[0]) == len(per_rank[1]) == N_TRAIN // 2
        assert not set(per_rank[0]) & set(per_rank[1])  # disjoint
        assert sorted(per_rank[0] + per_rank[1]) == list(range(N_TRAIN))  # the whole epoch
    # A new order per epoch, the same on every rank (each rank agrees on the global batches).
    assert [b for r, e, b in seen if r == 0 and e == 0] != [
        b for r, e, b in seen if r == 0 and e == 1
    ]


def test_steps_halve_and_the_loss_curve_matches_one_process_with_twice_the_batch(runs):
    status = runs["status"]
    two, one8 = status["two"]["summary"], status["one8"]["summary"]
    plan4 = next(m for m in read_metrics(runs["dirs"]["one4"]) if m["type"] == "start")
    assert plan4["total_steps"] == 2 * math.ceil(N_TRAIN / 4)  # one process, 4 per step
    assert two["total_steps"] == two["steps"] == plan4["total_steps"] // 2
    assert two["processes"] == 2 and two["global_batch"] == 8 and one8["processes"] == 1
    assert two["epochs"] == pytest.approx(2.0) and two["tokens_seen"] == one8["tokens_seen"]
    a, b = _train_losses(runs["dirs"]["two"]), _train_losses(runs["dirs"]["one8"])
    assert a.keys() == b.keys() and len(a) == two["steps"]
    for step in a:
        assert a[step] == pytest.approx(b[step], abs=2e-3), (step, a[step], b[step])
    # Evaluation is sharded over the ranks and gathered: the same loss as one process.
    assert two["eval_loss"] == pytest.approx(one8["eval_loss"], abs=2e-3)


def test_only_rank_zero_writes_the_run_files(runs):
    two = runs["dirs"]["two"]
    lines = [json.loads(x) for x in (two / "metrics.jsonl").read_text().splitlines()]
    keys = Counter((m["type"], m["step"]) for m in lines)
    assert keys[("start", 0)] == 1 and max(keys.values()) == 1, keys
    log = (two / "train.log").read_text()
    assert log.count("finished: succeeded") == 1 and log.count("INFO studio.train: data:") == 1
    assert sorted(p.name for p in (two / "checkpoints").iterdir()) == [
        "checkpoint-12",
        "checkpoint-8",
    ]
    # Each rank's RNG state is in the checkpoint (the resume needs both); the rest once.
    ckpt = two / "checkpoints" / "checkpoint-12"
    assert sorted(p.name for p in ckpt.glob("rng_state*")) == ["rng_state_0.pth", "rng_state_1.pth"]


def _rank_pids(run_dir: Path) -> dict[int, int]:
    job = {"run_dir": str(run_dir), "kind": "train", "pid": -1}
    out = {}
    for proc in rank_processes(job):
        try:
            out[int(proc.environ().get("RANK", -1))] = proc.pid
        except psutil.Error:
            continue
    return out


def _wait_step(run_dir: Path, step: int, timeout: float = 240) -> None:
    wait_for(
        lambda: any(m["type"] == "train" and m["step"] >= step for m in read_metrics(run_dir)),
        timeout,
        lambda: (run_dir / "train.log").read_text()[-4000:],
        interval=0.2,
    )


def test_a_stop_on_one_rank_stops_both_on_one_checkpoint_and_resume_is_exact(runs):
    # The uninterrupted run is the fixture's "two" (checkpoints and logging do not change the
    # weights): the same config, but the only checkpoint here is the stop's.
    straight = runs["dirs"]["two"]
    cfg = json.loads((straight / "config.json").read_text())
    cfg["trainer"]["save_steps"] = 1000
    cfg["debug"] = {}
    stopped = write_run(runs["tmp"] / "stopped", cfg)
    proc = _start(stopped)
    _wait_step(stopped, 3)
    ranks = _rank_pids(stopped)
    assert sorted(ranks) == [0, 1]
    os.kill(ranks[1], signal.SIGTERM)  # rank 1 alone is asked to stop: rank 0 must follow
    result = _finish(proc, stopped)
    assert proc.returncode == 0 and result["status"] == "cancelled", result
    step = result["summary"]["steps"]
    assert 3 <= step < 12 and f"step {step}" in result["reason"]
    assert [p.name for p in (stopped / "checkpoints").iterdir()] == [f"checkpoint-{step}"]
    assert not _rank_pids(stopped)  # both ranks ended

    resumed = _finish(_start(stopped, resume=True), stopped)
    assert (
        resumed["status"] == "succeeded"
        and resumed["summary"]["resumed_from"] == f"checkpoint-{step}"
    )
    assert resumed["summary"]["steps"] == 12
    a, b = _weights(straight), _weights(stopped)
    assert a.keys() == b.keys()
    for key in a:
        assert float((a[key] - b[key]).abs().max()) < 1e-6, key


def test_two_machines_on_localhost_train_together(tmp_path, settings, tiny_causal_dir):
    cfg = _cfg(
        tmp_path,
        settings,
        tiny_causal_dir,
        trainer={
            "num_train_epochs": 1,
            "save_strategy": "no",
            "eval_strategy": "no",
        },
        studio={"processes": 1, "num_machines": 2, "main_address": "127.0.0.1"},
    )
    run = write_run(tmp_path / "run", cfg)
    port = free_port()
    machines = [
        LaunchSettings(
            processes=1, num_machines=2, machine_rank=r, main_address="127.0.0.1", main_port=port
        )
        for r in (0, 1)
    ]
    procs = [_start(run, launch=ls) for ls in machines]
    status = _finish(procs[0], run)
    procs[1].wait(timeout=120)
    assert procs[0].returncode == procs[1].returncode == 0
    assert status["status"] == "succeeded", status
    assert status["summary"]["processes"] == 2 and status["summary"]["steps"] == N_TRAIN // 8
    seen = _batches(run)
    assert sorted(i for _, _, b in seen for i in b) == list(range(N_TRAIN))


def final_step(job: dict) -> int:
    from studio.jobs.run_folder import RunFolder

    return RunFolder(job["run_dir"]).last_checkpoint_step()


LONG = {
    "trainer": {"max_steps": 400, "save_strategy": "steps", "save_steps": 2, "eval_strategy": "no"},
    "debug": {},
}


def test_runner_cancel_ends_every_rank_and_a_restart_marks_a_broken_group(
    tmp_path, store, settings, tiny_causal_dir
):
    app = store.create_app("ddp")["id"]
    runner = JobRunner(store, settings, poll_s=0.2)
    runner.start()
    jobs = []
    try:
        cfg = _cfg(tmp_path, settings, tiny_causal_dir, **LONG)
        job = runner.submit(app, None, "train", cfg)
        jobs.append(job)
        wait_for(
            lambda: store.get_job(job["id"])["status"] == "running", timeout=240, what="running"
        )
        wait_for(
            lambda: any(
                m["type"] == "train" and m["step"] >= 2 for m in read_metrics(job["run_dir"])
            ),
            timeout=240,
            what="a step",
        )
        assert len(rank_processes(store.get_job(job["id"]))) == 2
        runner.cancel(job["id"])
        done = wait_for(
            lambda: (j := store.get_job(job["id"]))["status"] != "running" and j, 240, "the cancel"
        )
        assert done["status"] == "cancelled", done["reason"]
        assert not rank_processes(done) and not psutil.pid_exists(done["pid"])

        # The launcher dies while the studio is down; its two ranks go on alone.
        second = runner.submit(app, None, "train", cfg)
        jobs.append(second)
        wait_for(
            lambda: any(
                m["type"] == "train" and m["step"] >= 3 for m in read_metrics(second["run_dir"])
            ),
            timeout=240,
            what="a step",
        )
        runner.stop()
        row = store.get_job(second["id"])
        os.kill(row["pid"], signal.SIGKILL)
        wait_for(
            lambda: (
                not psutil.pid_exists(row["pid"])
                or psutil.Process(row["pid"]).status() == psutil.STATUS_ZOMBIE
            ),
            timeout=240,
            what="the launcher",
        )
        assert len(rank_processes(row)) == 2
        again = JobRunner(store, settings, poll_s=0.2)
        again.reconcile()
        final = store.get_job(second["id"])
        assert final["status"] == "interrupted", final
        assert "launcher had died" in final["reason"] and "Resume" in final["reason"], final
        # The ranks were asked to stop, not killed: they saved a checkpoint to resume from.
        assert f"step {final_step(final)}" in final["reason"]
        assert not rank_processes(final)
    finally:
        runner.stop()
        for job in jobs:
            for proc in rank_processes(store.get_job(job["id"])):
                proc.kill()
