"""What a reader produces: raw rows and the result of reading one source, plus the row bound."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

from studio.errors import DataError

DEFAULT_MAX_ROWS = 200_000  # studio.settings.Settings.max_rows (STUDIO_MAX_ROWS)
# Wide files: each cell held is a Python string in a row's dict (about 80 bytes with its
# slot), whatever its size on disk, so a file is bounded in columns and in cells (rows x
# columns) as well as in rows; see bench/README.md, "Upload memory".
MAX_COLUMNS = 1_000
MAX_CELLS = 2_000_000


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


def check_columns(name: str, n: int) -> None:
    """DataError when a table (or JSON records) has more than MAX_COLUMNS columns."""
    if n > MAX_COLUMNS:
        raise DataError(
            f"{name} has {n:,} columns; at most {MAX_COLUMNS:,} are read. Keep the columns "
            "that hold your examples (text, instruction, input, output or messages) and "
            "upload it again."
        )


class RowCounter:
    """Stops reading past `max_rows` rows, or past `max_cells` cells (the fields of all
    rows read so far), so the work is bounded, not just the bytes."""

    def __init__(self, name: str, max_rows: int, max_cells: int = MAX_CELLS):
        self.name, self.max_rows, self.max_cells = name, max_rows, max_cells
        self.n = self.cells = 0

    def add(self, n: int = 1, cells: int = 0) -> None:
        self.n += n
        self.cells += cells
        if self.n > self.max_rows:
            raise DataError(
                f"{self.name} has more than {self.max_rows:,} rows, the most one upload may hold "
                "(STUDIO_MAX_ROWS). Split it into smaller files or raise the limit."
            )
        if self.cells > self.max_cells:
            raise DataError(
                f"{self.name} holds more than {self.max_cells:,} cells (rows x columns), the "
                "most one upload may hold. Keep only the columns that hold your examples, or "
                "split the file."
            )
