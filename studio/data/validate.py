"""Row validation: every row is accepted as an Example or rejected with one reason.

Reasons (the first words name the kind, see REASON_KINDS): empty text, no target section,
unknown section, duplicated section, mixed sections, sections out of order, undecodable
bytes, control characters, non-text cell, over the maximum length, duplicate example,
wrong JSON, ragged row, unreadable row. Nothing is dropped silently: blank lines are counted
(n_blank) and every other row is either in `examples` or rejected. Anything unexpected while
turning one row into an example is that row's rejection ("unreadable row"), never the
upload's failure. Past `max_listed` rejects only counts are kept (n_rejected and
reason_counts stay exact), so a file of a million bad rows costs no more than a few thousand.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import NamedTuple

from studio.data.decoding import UNDECODABLE, control_reason
from studio.data.readers import ReadResult
from studio.data.sections import SectionError
from studio.data.shapes import ColumnMapping, row_to_example
from studio.vocab.examples import Example

REASON_KINDS = (
    ("empty text", "empty"),
    ("no target section", "no_target"),
    ("unknown section", "unknown_section"),
    ("duplicated section", "duplicated_section"),
    ("mixed sections", "mixed_sections"),
    ("sections out of order", "out_of_order"),
    ("undecodable bytes", "undecodable"),
    ("control characters", "control"),
    ("non-text cell", "non_text"),
    ("over the maximum length", "too_long"),
    ("duplicate example", "duplicate"),
    ("wrong JSON", "wrong_json"),
    ("ragged row", "ragged"),
    ("unreadable row", "unreadable"),
)
log = logging.getLogger(__name__)
MAX_LISTED = 10_000  # rejects kept with their text; studio.settings.Settings.max_rejects_listed
REJECT_TEXT_CHARS = 2000  # a rejected row's text is kept up to this length


def reason_kind(reason: str) -> str:
    """A short code for a rejection reason ("no_target", "duplicate", ...), for counting."""
    for prefix, kind in REASON_KINDS:
        if reason.startswith(prefix):
            return kind
    return "other"


class Reject(NamedTuple):
    """A rejected row: where it was, why, and its text."""

    row: int
    reason: str
    text: str
    source: str = ""


@dataclass
class ValidationResult:
    """Accepted examples, the first `max_listed` rejects, and exact counts of all of them."""

    examples: list[Example] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)  # at most max_listed
    n_rows: int = 0  # rows read (blank lines excluded)
    n_blank: int = 0
    max_listed: int = MAX_LISTED
    kinds: Counter = field(default_factory=Counter)  # every reject's kind, listed or not

    def reject(self, row: int, reason: str, text: str, source: str) -> None:
        """Count a rejected row; keep it (its text cut to a bounded length) under the cap."""
        self.kinds[reason_kind(reason)] += 1
        if len(self.rejects) < self.max_listed:
            if len(text) > REJECT_TEXT_CHARS:
                text = text[: REJECT_TEXT_CHARS - 1] + "…"
            self.rejects.append(Reject(row, reason, text, source))

    @property
    def n_accepted(self) -> int:
        return len(self.examples)

    @property
    def n_rejected(self) -> int:
        return sum(self.kinds.values())

    @property
    def n_unlisted(self) -> int:
        """Rejected rows counted but not listed (past the cap)."""
        return self.n_rejected - len(self.rejects)

    @property
    def n_duplicates(self) -> int:
        return self.kinds.get("duplicate", 0)

    def reason_counts(self) -> dict[str, int]:
        return dict(self.kinds.most_common())

    def counts(self) -> dict[str, int]:
        return {
            "n_rows": self.n_rows,
            "n_accepted": self.n_accepted,
            "n_rejected": self.n_rejected,
            "n_duplicates": self.n_duplicates,
            "n_blank": self.n_blank,
        }


def printable(text: str) -> str:
    """Text with undecodable bytes (and lone surrogates) shown as U+FFFD, so it can be
    written as UTF-8 and displayed."""
    try:
        data = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a surrogate that is not an escaped byte
        data = text.encode("utf-8", "surrogatepass")
    return data.decode("utf-8", "replace")


def _example_problem(ex: Example) -> str | None:
    for part in (ex.preamble, ex.instruction, ex.input, ex.output):
        reason = control_reason(part)
        if reason:
            return reason
    return None


def example_key(ex: Example) -> tuple[str, ...]:
    """What makes two examples the same (the original text's spacing does not)."""
    return (ex.style, ex.preamble, ex.instruction, ex.input, ex.output)


def validate_source(
    result: ReadResult,
    mapping: ColumnMapping,
    max_chars: int,
    out: ValidationResult | None = None,
    seen: dict[tuple, str] | None = None,
) -> ValidationResult:
    """Validate one source's rows into `out` (shared across sources so duplicates are found
    between files too)."""
    out = out if out is not None else ValidationResult()
    seen = seen if seen is not None else {}
    src = result.name
    out.n_blank += result.n_blank
    out.n_rows += len(result.rows)
    for r in result.rows:
        try:
            reason, text = _check_row(r, mapping, max_chars, out, seen, src)
        except Exception:  # one bad row never sinks the upload; the bug goes to the log
            log.exception("row %s of %s could not be validated", r.row, src)
            reason = (
                "unreadable row: the studio could not read this row; check its "
                "format, or map its columns in Column mapping"
            )
            text = r.raw if isinstance(r.raw, str) else ""
        if reason:
            out.reject(r.row, reason, printable(text), src)
    return out


def _check_row(r, mapping, max_chars, out: ValidationResult, seen, src) -> tuple[str, str]:
    """(rejection reason, text) of one row; ("", "") once it is accepted into `out`."""
    if r.error:
        return r.error, r.raw
    if UNDECODABLE.search(r.raw):
        return "undecodable bytes: this row is not valid UTF-8; save the file as UTF-8", r.raw
    if len(r.raw) > 4 * max_chars:  # cheap guard before parsing something huge
        return (
            f"over the maximum length: {len(r.raw)} characters; the limit is {max_chars}",
            r.raw,
        )
    try:
        ex = row_to_example(r.value, r.raw, mapping)
    except SectionError as exc:
        return str(exc), r.raw
    problem = _example_problem(ex)
    if problem:
        return problem, r.raw
    size = len(ex.preamble) + len(ex.instruction) + len(ex.input) + len(ex.output)
    if size > max_chars:
        return (
            f"over the maximum length: {size} characters; the limit is {max_chars} "
            "(STUDIO_MAX_EXAMPLE_CHARS)",
            r.raw,
        )
    key = example_key(ex)
    first = seen.get(key)
    if first is not None:
        return f"duplicate example: same as {first}", r.raw
    seen[key] = f"row {r.row} of {src}"
    out.examples.append(ex)
    return "", ""


def validate_sources(
    sources: list[tuple[ReadResult, ColumnMapping]], max_chars: int, max_listed: int = MAX_LISTED
) -> ValidationResult:
    """Validate several sources as one dataset."""
    out, seen = ValidationResult(max_listed=max_listed), {}
    for result, mapping in sources:
        validate_source(result, mapping, max_chars, out, seen)
    return out
