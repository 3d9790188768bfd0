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

import os

from studio.configs.runs import TrainRun
from studio.jobs.child import JobProcess, run_job
from studio.jobs.run_folder import RunFolder
from studio.store.job_states import TRAIN

OOM_ADVICE = (
    "Out of memory: lower the batch size (raise gradient accumulation to keep the same "
    "effective batch), lower the max length, turn on gradient checkpointing, or load the "
    "base in 4-bit (QLoRA)."
)


def is_main_process() -> bool:
    """False on the other ranks of an `accelerate launch` / torchrun run (they set RANK)."""
    return os.environ.get("RANK", "0").strip() in ("", "0")


def interrupted_reason(run: RunFolder) -> str:
    """A KeyboardInterrupt means the cooperative stop was cut short (Ctrl-C twice)."""
    step = run.last_checkpoint_step()
    if step is not None:
        return (
            f"Interrupted from the terminal before the stop finished; press Resume (or add "
            f"--resume) to continue from step {step}."
        )
    return "Interrupted from the terminal before any checkpoint was saved; train it again."


def train(folder: RunFolder, resume: bool) -> dict:
    """The training job's work: the status dict of one run (studio.train.training)."""
    run = TrainRun.from_json(folder.config_path)
    # Imported here: it loads transformers and torch, and a failure to import them must still
    # end in status.json.
    from transformers.utils import logging as hf_logging

    from studio.train.training import run_training

    hf_logging.disable_progress_bar()
    return run_training(run, folder, resume=resume or run.resume)


def main(argv: list[str] | None = None) -> int:
    job = JobProcess(
        kind=TRAIN,
        description=__doc__.split("\n")[0],
        work=train,
        oom_advice=OOM_ADVICE,
        config_label="run config",
        activity="training",
        cancelled_reason=interrupted_reason,
        main_process=is_main_process(),
    )
    return run_job(job, argv)
