"""What a reader produces: raw rows and the result of reading one source, plus the row bound."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

from studio.errors import DataError

DEFAULT_MAX_ROWS = 200_000  # studio.settings.Settings.max_rows (STUDIO_MAX_ROWS)


class RawRow(NamedTuple):
    """One row as read: `value` is a dict (tables, JSON objects) or a str (text lines)."""

    row: int
    value: Any
    raw: str
    error: str = ""


@dataclass
class ReadResult:
    """Everything read from one source."""

    name: str
    kind: str  # "table" (csv/tsv/parquet), "records" (json/jsonl), "lines" (txt)
    columns: list[str]
    rows: list[RawRow]
    n_blank: int = 0  # blank lines skipped (not examples, not errors)
    encoding: str = "utf-8"
    notes: list[str] = field(default_factory=list)


def too_big(name: str, size: int, max_mb: int) -> None:
    """DataError when `size` bytes are over the upload limit."""
    if size > max_mb * 1024 * 1024:
        raise DataError(
            f"{name} is {size / 1024 / 1024:.1f} MB; the upload limit is {max_mb} MB "
            "(STUDIO_MAX_UPLOAD_MB). Split it into smaller files or raise the limit."
        )


class RowCounter:
    """Stops reading past `max_rows` rows, so the work is bounded, not just the bytes."""

    def __init__(self, name: str, max_rows: int):
        self.name, self.max_rows, self.n = name, max_rows, 0

    def add(self, n: int = 1) -> None:
        self.n += n
        if self.n > self.max_rows:
            raise DataError(
                f"{self.name} has more than {self.max_rows:,} rows, the most one upload may hold "
                "(STUDIO_MAX_ROWS). Split it into smaller files or raise the limit."
            )
