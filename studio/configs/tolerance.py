"""The invalid-data tolerance: one rule for the share of rejected rows, one message.

Both the check before a job is queued (studio.actions.start_training) and the training child
(studio.train.config, for a headless run) ask this module, so they agree on every boundary.

    share, total = rejected_share(n_rows=110, n_rejected=10, n_accepted=100)   # (9.09..., 110)
    problem = rejected_share_problem(50, 6, 10.0, what="dataset reviews v2")   # a message
"""

from __future__ import annotations


def rejected_share(n_rows: int, n_rejected: int, n_accepted: int = 0) -> tuple[float, int]:
    """(percent of rows rejected, rows counted).

    The rows counted are the rows read, or accepted + rejected when that is more (a version
    whose counts were written before blank rows were told apart); 0 rows give 0%.
    """
    total = max(int(n_rows), int(n_accepted) + int(n_rejected))
    return (100.0 * int(n_rejected) / total if total > 0 else 0.0), total


def rejected_share_problem(
    n_rows: int, n_rejected: int, tolerance: float, n_accepted: int = 0, what: str = "the dataset"
) -> str | None:
    """The message when more than `tolerance` % of the rows were rejected, else None.

    Exactly the tolerance passes; a NaN tolerance refuses (it never opens the gate); a
    dataset with no rows has nothing rejected and passes here (its own check says it is empty).
    """
    share, total = rejected_share(n_rows, n_rejected, n_accepted)
    if total <= 0:
        return None
    tolerance = float(tolerance)
    if share <= tolerance:
        return None
    return (
        f"{share:.1f}% of the rows of {what} were rejected ({int(n_rejected)} of "
        f"{total}), over the {tolerance:g}% tolerance; fix the rejected rows in the Inputs tab "
        "or raise the invalid-data tolerance in the Models tab."
    )
