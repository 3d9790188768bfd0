"""The one CSV writer for files the studio hands to users (rejects.csv, comparison tables).

A spreadsheet runs a cell that starts with =, +, -, @ (or a tab / carriage return in front of
one) as a formula, so text from an upload or a model could attack whoever opens the file.
Such cells get a leading apostrophe, as OWASP's CSV-injection advice and spreadsheet-safe
writers do; the apostrophe shows the text as typed. Numbers are written as numbers (a
negative score stays a number).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, TextIO

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """`value` as a spreadsheet reads it literally (text only; numbers pass through)."""
    if isinstance(value, str) and value.startswith(_TRIGGERS):
        return "'" + value
    return value


class SafeWriter:
    """csv.writer whose every text cell goes through safe_cell."""

    def __init__(self, fh: TextIO):
        self._writer = csv.writer(fh)

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([safe_cell(v) for v in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def write_csv(path: str | Path, header: Sequence[str], rows: Iterable[Iterable[Any]]) -> Path:
    """Write a UTF-8 CSV with a header row, every cell neutralised; returns the path."""
    path = Path(path)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = SafeWriter(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path
