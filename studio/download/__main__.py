"""The download entry point: `python -m studio.download RUN_DIR`.

RUN_DIR/config.json names the model ({"repo_id", "studio_home", "models_dir"}); the token,
when there is one, comes in HF_TOKEN. Writes progress lines to RUN_DIR/metrics.jsonl
({"type": "progress", "files", "files_total", "bytes", "bytes_total", "step", "total"}) and,
always, status.json. Stop with `touch RUN_DIR/STOP`, SIGTERM or Ctrl-C: the partial files
stay, and the next download of the model continues from them.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from studio.errors import ConfigError
from studio.jobs.child import JobProcess, StopRequest, run_job
from studio.jobs.run_folder import RunFolder
from studio.models.hub import DownloadStopped, download, user_token
from studio.settings import Settings
from studio.store.job_states import CANCELLED, DOWNLOAD, SUCCEEDED

STOP_NOTICE = "stopping the download; what is on disk stays for the next one."


def _gb(n: int) -> str:
    return f"{n / 1e9:.2f} GB"


def download_run(run: RunFolder, resume: bool) -> dict:  # noqa: ARG001 - always continues
    """The download job's work: snapshot_download with its progress, then the status dict."""
    cfg = run.config()
    repo_id = cfg.get("repo_id")
    if not isinstance(repo_id, str) or not repo_id:
        raise ConfigError(["repo_id: the model to download is missing from the config"])
    settings = Settings.from_env(home=Path(cfg["studio_home"]), models_root=Path(cfg["models_dir"]))
    stop = StopRequest(run.path, notice=STOP_NOTICE)
    stop.install()
    seen: dict = {}

    def report(progress: dict) -> None:
        seen.update(progress)
        run.append_metric(
            {
                "type": "progress",
                **progress,
                "step": progress["bytes"],
                "total": progress["bytes_total"],
                "phase": "downloading",
                "time": time.time(),
            }
        )

    try:
        folder = download(repo_id, settings, user_token(), report, stop.requested)
    except DownloadStopped:
        done = _gb(seen.get("bytes", 0))
        return {
            "status": CANCELLED,
            "reason": f"Download of {repo_id} stopped ({done} on disk); download it again "
            "to continue from there.",
            "summary": {"repo_id": repo_id, **seen},
        }
    return {
        "status": SUCCEEDED,
        "reason": f"{repo_id} is in the models folder.",
        "summary": {"repo_id": repo_id, "path": folder, **seen},
    }


def main(argv: list[str] | None = None) -> int:
    job = JobProcess(
        kind=DOWNLOAD,
        description=__doc__.split("\n")[0],
        work=download_run,
        oom_advice="Out of memory while downloading; free some memory and download again.",
        config_label="download config",
        activity="download",
        resume_help="accepted; a download always continues from the files on disk",
        cancelled_reason=lambda run: "Download stopped; download it again to continue.",
        uses_torch=False,
    )
    return run_job(job, argv)


if __name__ == "__main__":
    sys.exit(main())
