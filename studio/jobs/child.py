"""What every job process (`python -m studio.train RUN_DIR`, `python -m studio.evaluate
RUN_DIR`) shares: its command line, its log, and its status.json.

    run_dir, resume = parse_run_dir("python -m studio.train", "Train a run folder.", argv)
    log_to_run(run_dir)                  # stdout, plus train.log when run from a terminal
    write_status(run_dir, status)        # atomically, for JobRunner / read_status

The other side of this contract, read by the page and the runner, is studio.jobs.files.
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

from studio.jobs.files import LOG_FILE, STATUS_FILE


def parse_run_dir(prog: str, description: str, argv: list[str] | None = None,
                  resume_help: str = "continue from the last checkpoint") -> tuple[Path, bool]:  # fmt: skip
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
    # bitsandbytes warns on import that its optional CPU 4-bit kernels ('kernels' package) are
    # missing: noise on a LoRA run, and the first thing a user would read in train.log.
    logging.getLogger("bitsandbytes").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", message=r".*deprecated and will be removed in v\d",
                            category=FutureWarning)  # fmt: skip
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")


def write_status(run_dir: Path, status: dict[str, Any]) -> None:
    """status.json written atomically (the runner reads it the moment the process exits)."""
    tmp = run_dir / (STATUS_FILE + ".tmp")
    tmp.write_text(json.dumps(status, indent=2))
    os.replace(tmp, run_dir / STATUS_FILE)
