"""The skeleton every job process (`python -m studio.train RUN_DIR`, `python -m studio.evaluate
RUN_DIR`) runs in: its command line, its log, its stop request, its failure reason and its
status.json.

    sys.exit(run_job(JobProcess(kind="train", ...), argv))

`run_job` parses RUN_DIR [--resume], logs to stdout (and train.log from a terminal), clears
the previous status.json, sizes torch's threads (size_threads), calls the job's
`work(run, resume)` and always ends by writing
RUN_DIR/status.json = {"status", "reason", "summary"} atomically: a failure's reason is one
line a user can act on (out of memory gets advice of its own), its traceback goes to the log.
Exit code 0 for succeeded / cancelled, 1 for failed. A job stops cooperatively on a
StopRequest: the RUN_DIR/STOP file, SIGTERM or Ctrl-C; a second Ctrl-C quits at once.
Child processes never write the database: the runner records what they leave in RUN_DIR.

The other side of this contract, read by the page and the runner, is studio.jobs.run_folder.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from studio.errors import ConfigError, StudioError
from studio.jobs.run_folder import RunFolder
from studio.store.job_states import CANCELLED, FAILED

OOM_MARKERS = (
    "out of memory",
    "defaultcpuallocator",
    "can't allocate memory",
    "cannot allocate memory",
    "not enough memory",
)


TRAIN_STOP_NOTICE = (
    "finishing this step, then saving a checkpoint and the adapter (Ctrl-C "
    "again quits at once, without them)."
)


class Cancelled(Exception):
    """The job stopped on a stop request before it had anything to save."""


class StopRequest:
    """Set by SIGTERM / SIGINT (installed in the main thread) or a STOP file in the run folder."""

    def __init__(
        self,
        run_dir: str | Path,
        stop_after_step: int | None = None,
        notice: str = TRAIN_STOP_NOTICE,
    ):
        self.stop_file = RunFolder(run_dir).stop_path
        # What the job does now, printed when a signal asks it to stop.
        self._notice = f"Stop requested: {notice}\n".encode()
        self.signalled = False
        # config "debug": {"stop_after_step": N} makes a stop land on an exact step (tests).
        self.stop_after_step = stop_after_step

    def install(self) -> None:
        """Make SIGTERM and Ctrl-C (SIGINT) cooperative stops (no-op off the main thread)."""
        try:
            signal.signal(signal.SIGTERM, self._on_signal)
            signal.signal(signal.SIGINT, self._on_signal)
        except ValueError:  # not the main thread (tests calling a job's work directly)
            pass

    def _on_signal(self, signum, frame) -> None:  # noqa: ARG002
        if signum == signal.SIGINT and self.signalled:
            raise KeyboardInterrupt  # Ctrl-C twice: quit now, without the checkpoint
        self.signalled = True
        # os.write, not logging or print: the handler may have interrupted a write to stdout.
        os.write(2, self._notice)

    def requested(self, step: int = 0) -> bool:
        if self.stop_after_step is not None and step >= self.stop_after_step:
            return True
        return self.signalled or self.stop_file.exists()

    def check(self) -> None:
        """Raise Cancelled when a stop was requested (for jobs with nothing to save)."""
        if self.requested():
            raise Cancelled()


def is_out_of_memory(exc: BaseException) -> bool:
    """torch.OutOfMemoryError (CUDA), triton's OutOfResources, MemoryError and the CPU
    allocator's RuntimeError ("DefaultCPUAllocator: can't allocate memory ...")."""
    if isinstance(exc, MemoryError):
        return True
    names = {cls.__name__ for cls in type(exc).__mro__}
    return bool(names & {"OutOfMemoryError", "OutOfResources"}) or any(
        marker in str(exc).lower() for marker in OOM_MARKERS
    )


def failure_reason(exc: BaseException, oom_advice: str, config_label: str = "run config") -> str:
    """One line saying what went wrong and what to change."""
    if is_out_of_memory(exc):
        return oom_advice
    if isinstance(exc, ConfigError):
        return f"Invalid {config_label}: " + "; ".join(map(str, exc.problems))
    if isinstance(exc, StudioError):
        return " ".join(str(exc).split())
    text = str(exc).strip()
    first = text.splitlines()[0] if text else ""
    return f"{type(exc).__name__}: {first}"[:500]


def parse_run_dir(
    prog: str,
    description: str,
    argv: list[str] | None = None,
    resume_help: str = "continue from the last checkpoint",
) -> tuple[Path, bool]:
    """(RUN_DIR, --resume); exits with code 2 and a clear message when RUN_DIR is no folder."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("run_dir", type=Path, help="folder holding config.json")
    parser.add_argument("--resume", action="store_true", help=resume_help)
    opts = parser.parse_args(argv)
    run_dir = opts.run_dir.resolve()
    if not run_dir.is_dir():
        print(f"{run_dir} is not a folder; create it with a config.json first.", file=sys.stderr)
        raise SystemExit(2)
    return run_dir, opts.resume


def log_to_run(run_dir: Path, to_file: bool = True) -> None:
    """Log to stdout and to RUN_DIR/train.log (launched by the runner, stdout already is
    train.log: then once is enough). The page shows this log, so library deprecation
    notices and download bars are kept out of it."""
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stdout)]
    log_path = RunFolder(run_dir).log_path
    try:
        same = log_path.exists() and os.path.samestat(os.fstat(1), os.stat(log_path))
    except OSError:
        same = False
    if to_file and not same:
        handlers.append(logging.FileHandler(log_path, encoding="utf-8"))
    logging.basicConfig(
        level=logging.INFO,
        handlers=handlers,
        force=True,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("transformers").setLevel(logging.WARNING)
    # bitsandbytes warns on import that its optional CPU 4-bit kernels ('kernels' package) are
    # missing: noise on a LoRA run, and the first thing a user would read in train.log.
    logging.getLogger("bitsandbytes").setLevel(logging.ERROR)
    warnings.filterwarnings(
        "ignore", message=r".*deprecated and will be removed in v\d", category=FutureWarning
    )
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")


@dataclass(frozen=True)
class JobProcess:
    """What differs between the kinds of job process; the rest is run_job's."""

    kind: str  # "train" | "evaluate": `python -m studio.<kind>`, logger studio.<kind>
    description: str  # the --help line
    work: Callable[[RunFolder, bool], dict[str, Any]]  # (run, resume) -> the status dict
    oom_advice: str  # the reason shown when it ran out of memory
    config_label: str  # "run config" -> "Invalid run config: ..."
    cancelled_reason: Callable[[RunFolder], str]  # a stop cut short (Ctrl-C twice, Cancelled)
    activity: str = "the job"  # "training" -> "training failed" in the log
    resume_help: str = "continue from the last checkpoint"
    main_process: bool = True  # False on the other ranks of a multi-process run
    uses_torch: bool = True  # False: no torch threads to size (a download imports no torch)


def size_threads() -> int:
    """Torch threads for a job process: every core but one (STUDIO_TRAIN_THREADS overrides
    it), shared by the processes of one machine under `accelerate launch`. The page and
    generation keep a core, and a job never runs more threads than the cores it can have:
    an evaluation with a thread per core beside a training job ran 3.4x slower than with
    one thread (threads waiting on each other), and took the page's core."""
    import torch

    from studio.settings import training_threads

    local = max(1, int(os.environ.get("LOCAL_WORLD_SIZE", "1") or 1))
    threads = max(1, training_threads() // local)
    torch.set_num_threads(threads)
    return threads


def exit_process(code: int) -> NoReturn:
    """End a job process whose status.json and logs are written, without the interpreter's
    teardown: freeing torch's objects one by one took 4-8 s on a busy machine after the
    status was written, time the user waits on and a time budget must count."""
    logging.shutdown()  # flushes train.log
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)


def run_job(job: JobProcess, argv: list[str] | None = None) -> int:
    """Run one job process start to finish; returns its exit code."""
    run_dir, resume = parse_run_dir(
        f"python -m studio.{job.kind}", job.description, argv, job.resume_help
    )
    run = RunFolder(run_dir)
    log_to_run(run_dir, to_file=job.main_process)
    log = logging.getLogger(f"studio.{job.kind}")
    if not job.main_process:  # the other ranks share train.log: their warnings and errors only
        logging.getLogger().setLevel(logging.WARNING)
    else:
        run.clear_status()
    try:
        if job.uses_torch:
            size_threads()
        status = job.work(run, resume)
    except BaseException as exc:  # noqa: BLE001 - every failure must end in status.json
        if isinstance(exc, SystemExit | KeyboardInterrupt | Cancelled):
            # The first Ctrl-C is a cooperative stop (StopRequest); this one cut it short.
            status = {"status": CANCELLED, "reason": job.cancelled_reason(run), "summary": {}}
        else:
            log.exception("%s failed", job.activity)
            status = {
                "status": FAILED,
                "summary": {},
                "reason": failure_reason(exc, job.oom_advice, job.config_label),
            }
    if job.main_process:
        run.write_status(status)
    log.info("finished: %s %s", status["status"], status["reason"])
    sys.stdout.flush()
    return 1 if status["status"] == FAILED else 0
