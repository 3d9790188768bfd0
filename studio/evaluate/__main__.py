"""The evaluation entry point: `python -m studio.evaluate RUN_DIR`.

RUN_DIR/config.json is built by studio.evaluate.build.build_eval_config (the job runner adds
job_id / run_dir / kind). Writes metrics.jsonl (progress), train.log, results.json,
batch.csv and, always, status.json = {"status", "reason", "summary"}. Stop with
`touch RUN_DIR/STOP` or SIGTERM. Exit code 0 for succeeded/cancelled, 1 for failed.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

from studio.errors import ConfigError, StudioError
from studio.evaluate.run import Cancelled, evaluate, install_sigterm, store_results, summary_of
from studio.jobs.child import log_to_run, parse_run_dir, write_status
from studio.jobs.files import STATUS_FILE


def failure_reason(exc: BaseException) -> str:
    """One line saying what went wrong and what to change."""
    text = " ".join(str(exc).split())
    if isinstance(exc, MemoryError) or "out of memory" in text.lower():
        return ("Out of memory: lower the batch size or the number of examples, or evaluate "
                "on a machine with more memory.")  # fmt: skip
    if isinstance(exc, ConfigError):
        return "Invalid evaluation config: " + "; ".join(exc.problems)
    if isinstance(exc, StudioError):
        return text
    return f"{type(exc).__name__}: {text}"[:500]


def _status(run_dir: Path) -> dict:
    log = logging.getLogger("studio.evaluate")
    try:
        cfg = json.loads((run_dir / "config.json").read_text())
    except (OSError, ValueError) as exc:
        return {"status": "failed", "summary": {},
                "reason": f"RUN_DIR/config.json is missing or not JSON ({exc}); build it with "
                          "build_eval_config."}  # fmt: skip
    cfg.setdefault("run_dir", str(run_dir))
    try:
        results = evaluate(run_dir, cfg, on_sigterm=install_sigterm)
    except (Cancelled, KeyboardInterrupt):
        return {"status": "cancelled", "reason": "Stopped on request; no results saved.",
                "summary": {}}  # fmt: skip
    except Exception as exc:  # noqa: BLE001 - every failure must end in status.json
        log.exception("evaluation failed")
        return {"status": "failed", "reason": failure_reason(exc), "summary": {}}
    summary = summary_of(results)
    try:
        store_results(cfg, results)
    except Exception as exc:  # noqa: BLE001 - results.json is still there for the page
        log.exception("could not record the evaluation in the store")
        summary["store_error"] = str(exc)[:200]
    return {"status": "succeeded", "reason": f"Evaluated {results['n_examples']} examples.",
            "summary": summary}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    run_dir, _ = parse_run_dir("python -m studio.evaluate", __doc__.split("\n")[0], argv,
                               resume_help="accepted; evaluations restart")  # fmt: skip
    log_to_run(run_dir)
    (run_dir / STATUS_FILE).unlink(missing_ok=True)
    status = _status(run_dir)
    write_status(run_dir, status)
    logging.getLogger("studio.evaluate").info("finished: %s %s", status["status"], status["reason"])
    sys.stdout.flush()
    return 1 if status["status"] == "failed" else 0


if __name__ == "__main__":
    sys.exit(main())
