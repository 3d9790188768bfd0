"""Start a job's child process: one small piece so another launcher can drop in.

One process: `python -m studio.<kind> RUN_DIR [--resume]`. When the run config's studio
section asks for more (processes x num_machines > 1, studio.configs.launch): `accelerate launch
--multi_gpu --num_processes N ... -m studio.train RUN_DIR`, whose launcher (torchrun, in the
same process) starts one process per rank, each in a session of its own. The child gets its
own session (a Ctrl-C or restart of the server does not kill it), runs a little below the
page's CPU priority (`nice`, so the page stays responsive while it trains) and writes its
stdout/stderr to RUN_DIR/train.log. Never a shell. `machine_commands` gives the command each
machine of a multi-machine run types (machine 0 is the one the page launches).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from studio.configs.launch import DEFAULT_PORT, LaunchSettings, launch_settings
from studio.jobs.run_folder import RunFolder
from studio.settings import PROJECT_ROOT
from studio.store.job_states import TRAIN
from studio.store.upgrade import upgrade_run_config

CHILD_NICENESS = 5  # a little below the page; `nice` execs the command (same pid)


def run_launch_settings(run_dir: str | Path) -> LaunchSettings:
    """The launch settings in RUN_DIR/config.json's studio section (one process when it has
    none, or for an evaluation)."""
    cfg = RunFolder(run_dir).config()
    if cfg.get("kind", TRAIN) != TRAIN:
        return LaunchSettings()
    studio = upgrade_run_config(cfg).get("studio")
    return launch_settings(studio if isinstance(studio, dict) else {})


def free_port() -> int:
    """A TCP port nobody listens on now (the ranks of a one-machine run meet there)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def accelerate_args(ls: LaunchSettings) -> list[str]:
    """`accelerate launch` options for these settings (all given: no config file is read).

    --multi_gpu, never --cpu: with --cpu accelerate starts a single process whatever
    --num_processes says. On a machine without CUDA the training child itself selects the
    CPU process group (gloo)."""
    args = [
        "--multi_gpu",
        "--num_processes",
        str(ls.world_size),
        "--num_machines",
        str(ls.num_machines),
        "--machine_rank",
        str(ls.machine_rank),
        "--main_process_ip",
        ls.main_address,
        "--main_process_port",
        str(ls.main_port),
        "--mixed_precision",
        "no",
        "--dynamo_backend",
        "no",
    ]
    return args


def build_command(
    kind: str, run_dir: str | Path, resume: bool = False, launch: LaunchSettings | None = None
) -> list[str]:
    """The argument list that runs a job of `kind` ("train", "evaluate") on RUN_DIR; a
    training run whose config asks for several processes goes through accelerate launch."""
    ls = launch or (run_launch_settings(run_dir) if kind == TRAIN else LaunchSettings())
    tail = ["-m", f"studio.{kind}", str(run_dir)] + (["--resume"] if resume else [])
    if not ls.distributed:
        return [sys.executable, *tail]
    if ls.main_port is None:  # the other machines must know the port: only one picks freely
        ls = replace(ls, main_port=free_port() if ls.num_machines == 1 else DEFAULT_PORT)
    return [sys.executable, "-m", "accelerate.commands.launch", *accelerate_args(ls), *tail]


def machine_commands(run_dir: str | Path, ls: LaunchSettings, resume: bool = False) -> list[str]:
    """The command each machine runs, in machine-rank order, as text to copy (every machine
    sees the same run folder, e.g. on a shared file system)."""
    from shlex import join

    ls = ls if ls.main_port is not None else replace(ls, main_port=DEFAULT_PORT)
    tail = ["-m", "studio.train", str(run_dir)] + (["--resume"] if resume else [])
    return [
        join(["accelerate", "launch", *accelerate_args(replace(ls, machine_rank=r)), *tail])
        for r in range(ls.num_machines)
    ]


def accelerate_config(ls: LaunchSettings, machine_rank: int | None = None) -> str:
    """An accelerate config file (YAML) for these settings: `accelerate launch --config_file
    FILE -m studio.train RUN_DIR` on each machine, with its own machine_rank."""
    rank = ls.machine_rank if machine_rank is None else machine_rank
    lines = {
        "compute_environment": "LOCAL_MACHINE",
        "distributed_type": "MULTI_GPU",
        "num_processes": ls.world_size,
        "num_machines": ls.num_machines,
        "machine_rank": rank,
        "main_process_ip": ls.main_address,
        "main_process_port": ls.main_port or DEFAULT_PORT,
        "mixed_precision": "no",
        "rdzv_backend": "static",
        "same_network": True,
        "use_cpu": False,
    }
    return "".join(f"{k}: {json.dumps(v)}\n" for k, v in lines.items())


def child_env() -> dict[str, str]:
    """The parent's environment, unbuffered output, and the project importable."""
    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"
    env["TOKENIZERS_PARALLELISM"] = env.get("TOKENIZERS_PARALLELISM", "false")
    paths = [str(PROJECT_ROOT)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    return env


def launch(
    cmd: list[str], run_dir: str | Path, extra_env: dict[str, str] | None = None
) -> subprocess.Popen:
    """Start `cmd` with its output appended to RUN_DIR/train.log, at a lower CPU priority;
    `extra_env` reaches the child only (a user's Hub token: never written to disk)."""
    log_path = RunFolder(run_dir).log_path
    nice = shutil.which("nice")  # coreutils; without it the child runs at normal priority
    if nice:
        cmd = [nice, "-n", str(CHILD_NICENESS), *cmd]
    with log_path.open("ab") as log:
        return subprocess.Popen(
            cmd,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=str(PROJECT_ROOT),
            env={**child_env(), **(extra_env or {})},
            start_new_session=True,
        )


def launch_export(run_dir: str | Path) -> str:
    """What to run where for this run folder: the accelerate config file and the command
    of each machine (shown by the Train tab; every machine must see RUN_DIR at this path)."""
    ls = run_launch_settings(run_dir)
    if not ls.distributed:
        return (
            "# One process trains this run (set Processes / GPUs or Machines in the "
            f"Models tab for more).\npython -m studio.train {run_dir}\n"
        )
    lines = [
        f"# accelerate config file (machine 0; on machine r set machine_rank: r), use it "
        f"with: accelerate launch --config_file FILE -m studio.train {run_dir}",
        *accelerate_config(ls, 0).splitlines(),
        "",
    ]
    for rank, cmd in enumerate(machine_commands(run_dir, ls)):
        who = (
            " (the studio starts this one when you press Train)" if rank == ls.machine_rank else ""
        )
        lines += [f"# machine {rank}{who}", cmd]
    lines += ["# add --resume to continue from the last checkpoint"]
    return "\n".join(lines) + "\n"
