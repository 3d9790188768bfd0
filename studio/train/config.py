"""The training process's data gate: refuse a run whose data had too many rows rejected.

The run config itself is read and checked by studio.configs.runs.TrainRun (every problem in one
ConfigError, the same refusals as the page).
"""

from __future__ import annotations

from studio.configs.runs import RunData
from studio.configs.tolerance import rejected_share_problem
from studio.errors import DataError


def check_rejected_share(data: RunData, tolerance_pct: float) -> None:
    """Raise a DataError when more rows were rejected than the tolerance allows."""
    what = "the dataset version" if data.version_id else "the dataset"
    problem = rejected_share_problem(
        int(data.n_rows or 0), int(data.n_rejected or 0), float(tolerance_pct), what=what
    )
    if problem:
        raise DataError(problem)
