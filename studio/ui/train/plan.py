"""What a model configuration will do when trained: how much of an epoch its settings cover
and, from this app's earlier runs on this machine, roughly how long it will take."""

from __future__ import annotations

import math

from studio.configs.saving import split_config
from studio.errors import StudioError
from studio.store.job_states import SUCCEEDED


def _duration(seconds: float) -> str:
    seconds = int(max(0, seconds))
    h, rest = divmod(seconds, 3600)
    return f"{h} h {rest // 60:02d} min" if h else f"{max(1, round(rest / 60))} min"


def examples_per_second(train_jobs: list[dict]) -> float | None:
    """Measured speed of the newest succeeded run (examples seen / its run time), or None."""
    for job in train_jobs:  # newest first
        s = job.get("summary") or {}
        seen = float(s.get("epochs") or 0) * int(s.get("n_train") or 0)
        seconds = float(s.get("runtime_s") or 0)
        if job["status"] == SUCCEEDED and seen > 0 and seconds > 0:
            return seen / seconds
    return None


def plan_markdown(store, model_id: str | None, train_jobs: list[dict]) -> str:
    """'20 steps × 8 examples = 0.4 of an epoch of 405 examples; about 3 min here.'"""
    if not model_id:
        return ""
    try:
        model = store.get_model(model_id)
        version = store.get_dataset_version(model["dataset_version_id"])
    except (StudioError, KeyError, TypeError):
        return ""
    _, hyper = split_config(model["config"], model["template"])
    n_train = (version.get("stats") or {}).get("n_train") or version.get("n_train") or 0
    batch = int(hyper.get("batch_size") or 1) * int(hyper.get("grad_accum") or 1)
    if not n_train or batch < 1:
        return ""
    per_epoch = math.ceil(n_train / batch)
    max_steps = int(hyper.get("max_steps") or 0)
    steps = max_steps if max_steps > 0 else math.ceil(float(hyper.get("epochs") or 1) * per_epoch)
    epochs = steps / per_epoch
    cover = f"**{epochs:.2f} of an epoch**" if epochs < 1 else f"**{epochs:.1f} epochs**"
    text = (
        f"**Plan:** {steps} steps of {batch} examples ({steps * batch} examples seen) = "
        f"{cover} of the {n_train} training examples."
    )
    if epochs < 1:
        text += (
            " Some examples will never be seen: raise Max steps (or set it to 0) for a full pass."
        )
    speed = examples_per_second(train_jobs)
    if speed:
        text += (
            f" About **{_duration(steps * batch / speed)}** on this machine, judging by "
            f"an earlier run here ({speed:.1f} examples/s)."
        )
    else:
        text += " The progress bar shows the time left once the first steps are done."
    return text
