"""What the Generate tab tells the user beside the output: the instruction a trained model
learned (to pre-fill the form), and whether a training job is using the CPU right now."""

from __future__ import annotations

from studio.errors import StudioError
from studio.generate.refs import JOB_PREFIX
from studio.jobs.trained import most_common_instruction
from studio.settings import available_cores, training_threads
from studio.store.job_states import RUNNING, TRAIN


def trained_instruction(store, model_ref: str | None, get_job=None) -> str:
    """The instruction a trained model saw most often in training ("" for base models).

    `get_job` reads the job row for the caller (the page passes its ownership check)."""
    if not model_ref or not model_ref.startswith(JOB_PREFIX):
        return ""
    try:
        job = (get_job or store.get_job)(model_ref[len(JOB_PREFIX) :])
    except StudioError:
        return ""
    return most_common_instruction(store, job)


def cpu_note(store) -> str:
    """A line for the Generate tab while a training job runs on this machine's CPU."""
    running = [j for j in store.list_jobs(status=(RUNNING,)) if j.get("kind") == TRAIN]
    if not running:
        return ""
    cores = available_cores()
    used = training_threads(cores)
    return (
        f"⏳ A training job is running on this machine and uses {used} of its {cores} CPU "
        "cores: answers come slower until it finishes (or cancel it in the Train tab)."
    )
