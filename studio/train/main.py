"""The training entry point: `python -m studio.train RUN_DIR [--resume]`.

Run headless from a terminal the same way the job runner does:

    python -m studio.train studio_home/apps/<app>/runs/<job>            # train
    touch studio_home/apps/<app>/runs/<job>/STOP                        # stop with a checkpoint
    python -m studio.train studio_home/apps/<app>/runs/<job> --resume   # continue
    accelerate launch --num_processes 2 -m studio.train RUN_DIR         # several GPUs (DDP)

Ctrl-C (SIGINT) and SIGTERM stop like the STOP file: after the current step, with a checkpoint
and the adapter saved; a second Ctrl-C quits at once. Under accelerate / torchrun only the
main process (RANK 0) writes status.json, metrics.jsonl and the adapter.
Always ends by writing RUN_DIR/status.json = {"status", "reason", "summary"}; a failure's
reason is one line a user can act on, its traceback goes to train.log. Exit code 0 for
succeeded/cancelled, 1 for failed.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import warnings
from pathlib import Path
from typing import Any

from studio.errors import ConfigError, StudioError

STATUS_FILE, LOG_FILE = "status.json", "train.log"
OOM_ADVICE = (
    "Out of memory: lower the batch size (raise gradient accumulation to keep the same "
    "effective batch), lower the max length, turn on gradient checkpointing, or load the "
    "base in 4-bit (QLoRA, GPU only)."
)
OOM_MARKERS = ("out of memory", "defaultcpuallocator", "can't allocate memory",
               "cannot allocate memory", "not enough memory")  # fmt: skip


def write_status(run_dir: Path, status: dict[str, Any]) -> None:
    """Write status.json atomically (the runner may read it the moment the process exits)."""
    tmp = run_dir / (STATUS_FILE + ".tmp")
    tmp.write_text(json.dumps(status, indent=2))
    os.replace(tmp, run_dir / STATUS_FILE)


def _is_out_of_memory(exc: BaseException) -> bool:
    # torch.OutOfMemoryError (CUDA), triton's OutOfResources, and the CPU allocator's
    # RuntimeError ("DefaultCPUAllocator: can't allocate memory ... (Cannot allocate memory)").
    names = {cls.__name__ for cls in type(exc).__mro__}
    return bool(names & {"OutOfMemoryError", "OutOfResources"}) or any(
        marker in str(exc).lower() for marker in OOM_MARKERS
    )


def failure_reason(exc: BaseException) -> str:
    """One line saying what went wrong and what to change."""
    from studio.train.runner import NanLossError

    text = str(exc)
    if isinstance(exc, MemoryError) or _is_out_of_memory(exc):
        return OOM_ADVICE
    if isinstance(exc, ConfigError):
        return "Invalid run config: " + "; ".join(exc.problems)
    if isinstance(exc, (StudioError, NanLossError)):
        return " ".join(text.split())
    first = text.strip().splitlines()[0] if text.strip() else ""
    return f"{type(exc).__name__}: {first}"[:500]


def is_main_process() -> bool:
    """False on the other ranks of an `accelerate launch` / torchrun run (they set RANK)."""
    return os.environ.get("RANK", "0").strip() in ("", "0")


def _interrupted_reason(run_dir: Path) -> str:
    # A KeyboardInterrupt means the cooperative stop was cut short (Ctrl-C twice).
    steps = [int(p.name.rsplit("-", 1)[1]) for p in (run_dir / "checkpoints").glob("checkpoint-*")
             if (p / "trainer_state.json").is_file() and p.name.rsplit("-", 1)[1].isdigit()]  # fmt: skip
    if steps:
        return (f"Interrupted from the terminal before the stop finished; press Resume (or add "
                f"--resume) to continue from step {max(steps)}.")  # fmt: skip
    return "Interrupted from the terminal before any checkpoint was saved; train it again."


def _log_to_file_too(run_dir: Path, to_file: bool = True) -> None:
    # Launched by the runner, stdout already is train.log; from a terminal, copy it there.
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stdout)]
    log_path = run_dir / LOG_FILE
    try:
        same = log_path.exists() and os.path.samestat(os.fstat(1), os.stat(log_path))
    except OSError:
        same = False
    if to_file and not same:
        handlers.append(logging.FileHandler(log_path, encoding="utf-8"))
    logging.basicConfig(level=logging.INFO, handlers=handlers, force=True,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")  # fmt: skip
    logging.getLogger("transformers").setLevel(logging.WARNING)
    # train.log is shown in the page: keep library deprecation notices and the weight-loading
    # progress bar out of it (they say nothing the user can act on).
    warnings.filterwarnings("ignore", message=r".*deprecated and will be removed in v\d",
                            category=FutureWarning)  # fmt: skip
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m studio.train", description=__doc__.split("\n")[0]
    )
    parser.add_argument("run_dir", type=Path, help="folder holding config.json")
    parser.add_argument("--resume", action="store_true", help="continue from the last checkpoint")
    opts = parser.parse_args(argv)
    run_dir = opts.run_dir.resolve()
    if not run_dir.is_dir():
        print(f"{run_dir} is not a folder; create it with a config.json first.", file=sys.stderr)
        return 2
    main_process = is_main_process()
    _log_to_file_too(run_dir, to_file=main_process)
    log = logging.getLogger("studio.train")
    if main_process:
        (run_dir / STATUS_FILE).unlink(missing_ok=True)
    resume = opts.resume
    try:
        resume = resume or bool(json.loads((run_dir / "config.json").read_text()).get("resume"))
    except (OSError, ValueError):
        pass  # read_config reports a missing or broken config with a clear reason
    try:
        from transformers.utils import logging as hf_logging

        from studio.train.runner import run_training

        hf_logging.disable_progress_bar()

        status = run_training(run_dir, resume=resume)
    except BaseException as exc:  # noqa: BLE001 - every failure must end in status.json
        if isinstance(exc, SystemExit | KeyboardInterrupt):
            # The first Ctrl-C is a cooperative stop (StopRequest); this is a second one.
            status = {"status": "cancelled", "reason": _interrupted_reason(run_dir),
                      "summary": {}}  # fmt: skip
        else:
            log.exception("training failed")
            status = {"status": "failed", "reason": failure_reason(exc), "summary": {}}
    if main_process:
        write_status(run_dir, status)
    log.info("finished: %s %s", status["status"], status["reason"])
    sys.stdout.flush()
    return 1 if status["status"] == "failed" else 0
