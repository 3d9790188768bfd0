"""The training entry point: `python -m studio.train RUN_DIR [--resume]`.

Run headless from a terminal the same way the job runner does:

    python -m studio.train studio_home/apps/<app>/runs/<job>            # train
    touch studio_home/apps/<app>/runs/<job>/STOP                        # stop with a checkpoint
    python -m studio.train studio_home/apps/<app>/runs/<job> --resume   # continue

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
from pathlib import Path
from typing import Any

from studio.errors import ConfigError, StudioError

STATUS_FILE, LOG_FILE = "status.json", "train.log"
OOM_ADVICE = (
    "Out of memory: lower the batch size (raise gradient accumulation to keep the same "
    "effective batch), lower the max length, turn on gradient checkpointing, or load the "
    "base in 4-bit (QLoRA, GPU only)."
)


def write_status(run_dir: Path, status: dict[str, Any]) -> None:
    """Write status.json atomically (the runner may read it the moment the process exits)."""
    tmp = run_dir / (STATUS_FILE + ".tmp")
    tmp.write_text(json.dumps(status, indent=2))
    os.replace(tmp, run_dir / STATUS_FILE)


def failure_reason(exc: BaseException) -> str:
    """One line saying what went wrong and what to change."""
    from studio.train.runner import NanLossError

    text = str(exc)
    if (
        isinstance(exc, MemoryError)
        or "out of memory" in text.lower()
        or (type(exc).__name__ in ("OutOfMemoryError", "OutOfResources"))
    ):
        return OOM_ADVICE
    if isinstance(exc, ConfigError):
        return "Invalid run config: " + "; ".join(exc.problems)
    if isinstance(exc, (StudioError, NanLossError)):
        return " ".join(text.split())
    first = text.strip().splitlines()[0] if text.strip() else ""
    return f"{type(exc).__name__}: {first}"[:500]


def _log_to_file_too(run_dir: Path) -> None:
    # Launched by the runner, stdout already is train.log; from a terminal, copy it there.
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stdout)]
    log_path = run_dir / LOG_FILE
    try:
        same = log_path.exists() and os.path.samestat(os.fstat(1), os.stat(log_path))
    except OSError:
        same = False
    if not same:
        handlers.append(logging.FileHandler(log_path, encoding="utf-8"))
    logging.basicConfig(level=logging.INFO, handlers=handlers, force=True,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")  # fmt: skip
    logging.getLogger("transformers").setLevel(logging.WARNING)


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
    _log_to_file_too(run_dir)
    log = logging.getLogger("studio.train")
    (run_dir / STATUS_FILE).unlink(missing_ok=True)
    resume = opts.resume
    try:
        resume = resume or bool(json.loads((run_dir / "config.json").read_text()).get("resume"))
    except (OSError, ValueError):
        pass  # read_config reports a missing or broken config with a clear reason
    try:
        from studio.train.runner import run_training

        status = run_training(run_dir, resume=resume)
    except BaseException as exc:  # noqa: BLE001 - every failure must end in status.json
        if isinstance(exc, SystemExit | KeyboardInterrupt):
            status = {"status": "cancelled", "reason": "Interrupted from the terminal.",
                      "summary": {}}  # fmt: skip
        else:
            log.exception("training failed")
            status = {"status": "failed", "reason": failure_reason(exc), "summary": {}}
    write_status(run_dir, status)
    log.info("finished: %s %s", status["status"], status["reason"])
    sys.stdout.flush()
    return 1 if status["status"] == "failed" else 0
