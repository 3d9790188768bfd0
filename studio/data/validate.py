"""Row validation: every row is accepted as an Example or rejected with one reason.

Reasons (the first words name the kind, see REASON_KINDS): empty text, no target section,
unknown section, duplicated section, mixed sections, sections out of order, undecodable
bytes, over the maximum length, duplicate example, wrong JSON, ragged row. Nothing is
dropped silently: blank lines are counted (n_blank) and every other row is either in
`examples` or in `rejects`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import NamedTuple

from studio.data.readers import UNDECODABLE, ReadResult
from studio.data.records import Example
from studio.data.sections import SectionError
from studio.data.shapes import ColumnMapping, row_to_example

REASON_KINDS = (
    ("empty text", "empty"),
    ("no target section", "no_target"),
    ("unknown section", "unknown_section"),
    ("duplicated section", "duplicated_section"),
    ("mixed sections", "mixed_sections"),
    ("sections out of order", "out_of_order"),
    ("undecodable bytes", "undecodable"),
    ("over the maximum length", "too_long"),
    ("duplicate example", "duplicate"),
    ("wrong JSON", "wrong_json"),
    ("ragged row", "ragged"),
)


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
    examples: list[Example] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    n_rows: int = 0  # rows read (blank lines excluded)
    n_blank: int = 0

    @property
    def n_accepted(self) -> int:
        return len(self.examples)

    @property
    def n_rejected(self) -> int:
        return len(self.rejects)

    @property
    def n_duplicates(self) -> int:
        return sum(1 for r in self.rejects if r.reason.startswith("duplicate example"))

    def reason_counts(self) -> dict[str, int]:
        return dict(Counter(reason_kind(r.reason) for r in self.rejects).most_common())

    def counts(self) -> dict[str, int]:
        return {"n_rows": self.n_rows, "n_accepted": self.n_accepted,
                "n_rejected": self.n_rejected, "n_duplicates": self.n_duplicates,
                "n_blank": self.n_blank}  # fmt: skip


def printable(text: str) -> str:
    """Text with undecodable bytes shown as U+FFFD, so it can be written and displayed."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


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
    examples, rejects = out.examples, out.rejects
    for r in result.rows:
        if r.error:
            rejects.append(Reject(r.row, r.error, r.raw, src))
            continue
        if UNDECODABLE.search(r.raw):
            rejects.append(Reject(r.row, "undecodable bytes: this row is not valid UTF-8; "
                                  "save the file as UTF-8", printable(r.raw), src))  # fmt: skip
            continue
        if len(r.raw) > 4 * max_chars:  # cheap guard before parsing something huge
            rejects.append(Reject(r.row, f"over the maximum length: {len(r.raw)} characters; "
                                  f"the limit is {max_chars}", r.raw[:2000], src))  # fmt: skip
            continue
        try:
            ex = row_to_example(r.value, r.raw, mapping)
        except SectionError as exc:
            rejects.append(Reject(r.row, str(exc), r.raw, src))
            continue
        size = len(ex.preamble) + len(ex.instruction) + len(ex.input) + len(ex.output)
        if size > max_chars:
            rejects.append(Reject(r.row, f"over the maximum length: {size} characters; the "
                                  f"limit is {max_chars} (STUDIO_MAX_EXAMPLE_CHARS)",
                                  r.raw, src))  # fmt: skip
            continue
        key = example_key(ex)
        first = seen.get(key)
        if first is not None:
            rejects.append(Reject(r.row, f"duplicate example: same as {first}", r.raw, src))
            continue
        seen[key] = f"row {r.row} of {src}"
        examples.append(ex)
    return out


def validate_sources(
    sources: list[tuple[ReadResult, ColumnMapping]], max_chars: int
) -> ValidationResult:
    """Validate several sources as one dataset."""
    out, seen = ValidationResult(), {}
    for result, mapping in sources:
        validate_source(result, mapping, max_chars, out, seen)
    return out
