"""One rule for the rejected-rows share: the check before queueing and the training child agree."""

from __future__ import annotations

import math

import pytest

from studio.actions.start_training import build_train_config, check_trainable
from studio.configs import CPU_ONLY
from studio.configs.runs import TrainRun
from studio.configs.tolerance import rejected_share, rejected_share_problem
from studio.errors import DataError
from studio.train.config import check_rejected_share
from tests.unit.actions.test_start_training import _save, make_version

TAIL = "over the 10% tolerance; fix the rejected rows in the Inputs tab or raise the"


def _verdicts(store, settings, app, n_rows: int, n_rejected: int, **hyper) -> list[str | None]:
    """(pre-queue message, child message) for one version; None where the rows pass."""
    version = make_version(store, app["id"], name="noisy", n_rows=n_rows, n_rejected=n_rejected)
    saved = _save(store, app, version=version, **hyper)
    out: list[str | None] = []
    try:
        check_trainable(store, settings, saved["id"], CPU_ONLY)
        out.append(None)
    except DataError as err:
        out.append(str(err))
    try:
        run = TrainRun.from_dict(build_train_config(store, settings, saved["id"]))
        check_rejected_share(run.data, run.studio.invalid_tolerance_pct)
        out.append(None)
    except DataError as err:
        out.append(str(err))
    return out


@pytest.fixture
def app(store):
    return store.create_app("Demo")


@pytest.mark.parametrize(
    ("n_rows", "n_rejected", "refused"),
    [(50, 5, False), (50, 6, True), (20, 2, False), (21, 3, True), (1000, 100, False)],
)
def test_both_callers_agree_at_the_boundary(store, settings, app, n_rows, n_rejected, refused):
    before, child = _verdicts(store, settings, app, n_rows, n_rejected)
    if not refused:
        assert before is None and child is None  # exactly the tolerance passes in both
        return
    share = f"{100.0 * n_rejected / n_rows:.1f}%"
    counts = f"were rejected ({n_rejected} of {n_rows}), {TAIL}"
    for message in (before, child):
        assert message is not None and message.startswith(f"{share} of the rows of ")
        assert counts in message
    assert before.startswith(f"{share} of the rows of dataset noisy v1 ")


def test_a_raised_tolerance_opens_both_gates(store, settings, app):
    assert _verdicts(store, settings, app, 20, 5, invalid_tolerance_pct=25.0) == [None, None]
    assert all(_verdicts(store, settings, app, 20, 5, invalid_tolerance_pct=24.9))


def test_the_rule_itself():
    assert rejected_share(110, 10, 100) == (100.0 * 10 / 110, 110)
    assert rejected_share(0, 0) == (0.0, 0)
    assert rejected_share(5, 4, 4) == (50.0, 8)  # counts written before blanks were told apart
    assert rejected_share_problem(50, 5, 10.0) is None
    assert rejected_share_problem(0, 0, 10.0) is None  # empty: its own check says so
    assert rejected_share_problem(10, 0, math.nan)  # a NaN tolerance never opens the gate
    assert rejected_share_problem(50, 6, 10.0, what="dataset x v2").startswith(
        "12.0% of the rows of dataset x v2 were rejected (6 of 50), over the 10% tolerance"
    )
