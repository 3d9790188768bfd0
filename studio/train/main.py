"""The training entry point: `python -m studio.train RUN_DIR [--resume]`.

Run headless from a terminal the same way the job runner does:

    python -m studio.train studio_home/apps/<app>/runs/<job>            # train
    touch studio_home/apps/<app>/runs/<job>/STOP                        # stop with a checkpoint
    python -m studio.train studio_home/apps/<app>/runs/<job> --resume   # continue
    accelerate launch --multi_gpu --num_processes 2 -m studio.train RUN_DIR   # 2 GPUs (DDP)

Ctrl-C (SIGINT) and SIGTERM stop like the STOP file: after the current step, with a checkpoint
and the adapter saved; a second Ctrl-C quits at once. Under accelerate / torchrun only the
main process (RANK 0) writes status.json, metrics.jsonl and the adapter.
Always ends by writing RUN_DIR/status.json = {"status", "reason", "summary"}; a failure's
reason is one line a user can act on, its traceback goes to train.log. Exit code 0 for
succeeded/cancelled, 1 for failed.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path

from studio.errors import ConfigError, StudioError
from studio.jobs.child import log_to_run, parse_run_dir, write_status
from studio.jobs.files import CONFIG_FILE, STATUS_FILE, last_checkpoint_step

OOM_ADVICE = (
    "Out of memory: lower the batch size (raise gradient accumulation to keep the same "
    "effective batch), lower the max length, turn on gradient checkpointing, or load the "
    "base in 4-bit (QLoRA, GPU only)."
)
OOM_MARKERS = ("out of memory", "defaultcpuallocator", "can't allocate memory",
               "cannot allocate memory", "not enough memory")  # fmt: skip


def _is_out_of_memory(exc: BaseException) -> bool:
    # torch.OutOfMemoryError (CUDA), triton's OutOfResources, and the CPU allocator's
    # RuntimeError ("DefaultCPUAllocator: can't allocate memory ... (Cannot allocate memory)").
    names = {cls.__name__ for cls in type(exc).__mro__}
    return bool(names & {"OutOfMemoryError", "OutOfResources"}) or any(
        marker in str(exc).lower() for marker in OOM_MARKERS
    )


def failure_reason(exc: BaseException) -> str:
    """One line saying what went wrong and what to change."""
    from studio.train.training import NanLossError

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
    step = last_checkpoint_step(run_dir)
    if step is not None:
        return (f"Interrupted from the terminal before the stop finished; press Resume (or add "
                f"--resume) to continue from step {step}.")  # fmt: skip
    return "Interrupted from the terminal before any checkpoint was saved; train it again."


def main(argv: list[str] | None = None) -> int:
    run_dir, resume = parse_run_dir("python -m studio.train", __doc__.split("\n")[0], argv)
    main_process = is_main_process()
    log_to_run(run_dir, to_file=main_process)
    log = logging.getLogger("studio.train")
    if not main_process:  # the other ranks share train.log: their warnings and errors only
        logging.getLogger().setLevel(logging.WARNING)
    if main_process:
        (run_dir / STATUS_FILE).unlink(missing_ok=True)
    try:
        resume = resume or bool(json.loads((run_dir / CONFIG_FILE).read_text()).get("resume"))
    except (OSError, ValueError):
        pass  # read_config reports a missing or broken config with a clear reason
    try:
        from transformers.utils import logging as hf_logging

        from studio.train.training import run_training

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
