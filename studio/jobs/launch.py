"""Start a job's child process: one small piece so another launcher can drop in.

Today: `python -m studio.<kind> RUN_DIR [--resume]`. Several GPUs or machines later:
change build_command to return ["accelerate", "launch", "--num_processes", N, "-m",
f"studio.{kind}", RUN_DIR] (the Trainer already runs on accelerate); nothing else changes.
The child gets its own session (a Ctrl-C or restart of the server does not kill it; a
cancel can signal its whole process group, every rank included), runs a little below the
page's CPU priority (`nice`, so the page stays responsive while it trains) and writes its
stdout/stderr to RUN_DIR/train.log. Never a shell.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from studio.jobs.files import LOG_FILE
from studio.settings import PROJECT_ROOT

CHILD_NICENESS = 5  # a little below the page; `nice` execs the command (same pid)


def build_command(kind: str, run_dir: str | Path, resume: bool = False) -> list[str]:
    """The argument list that runs a job of `kind` ("train", "evaluate") on RUN_DIR."""
    cmd = [sys.executable, "-m", f"studio.{kind}", str(run_dir)]
    return cmd + ["--resume"] if resume else cmd


def child_env() -> dict[str, str]:
    """The parent's environment, unbuffered output, and the project importable."""
    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"
    env["TOKENIZERS_PARALLELISM"] = env.get("TOKENIZERS_PARALLELISM", "false")
    paths = [str(PROJECT_ROOT)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    return env


def launch(cmd: list[str], run_dir: str | Path) -> subprocess.Popen:
    """Start `cmd` with its output appended to RUN_DIR/train.log, at a lower CPU priority."""
    log_path = Path(run_dir) / LOG_FILE
    nice = shutil.which("nice")  # coreutils; without it the child runs at normal priority
    if nice:
        cmd = [nice, "-n", str(CHILD_NICENESS), *cmd]
    with log_path.open("ab") as log:
        return subprocess.Popen(
            cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            cwd=str(PROJECT_ROOT), env=child_env(), start_new_session=True,
        )  # fmt: skip
