"""Read uploaded files and pasted text into raw rows, before any meaning is given to them.

Accepted: .csv, .tsv, .jsonl (.ndjson), .json, .txt, .parquet. Text encodings: UTF-8, UTF-8
with BOM, UTF-16/UTF-32 with BOM (and UTF-16 without BOM only when its zero bytes really say
so: studio.data.decoding). Line endings may be mixed (\\r\\n, \\r, \\n). Whole-file problems
(empty, binary, too large, a zip, an unknown extension, more than `max_rows` rows) raise
DataError; problems of one row (a broken, too deep or non-finite JSON value, a ragged CSV
row, bytes that are not UTF-8) become that row's `error` and are rejected later with the row
number, so the other rows still count. Lines are read one at a time without copying the
text, Parquet a batch at a time after its row count and decoded size are checked.

Row numbers are what a user sees in an editor: the file line where the row starts for
csv/tsv/jsonl/txt (the CSV header is line 1), the 1-based item for json and parquet.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from studio.data.decoding import ACCEPTED_EXTENSIONS, ACCEPTED_TEXT, UNDECODABLE, decode_bytes
from studio.data.json_rows import iter_lines, json_kind, lines, read_json, read_jsonl
from studio.data.raw import (
    DEFAULT_MAX_ROWS,
    RawRow,
    ReadResult,
    RowCounter,
    check_columns,
    too_big,
)
from studio.errors import DataError, first_line

__all__ = [
    "ACCEPTED_EXTENSIONS",
    "ACCEPTED_TEXT",
    "DEFAULT_MAX_ROWS",
    "UNDECODABLE",
    "RawRow",
    "ReadResult",
    "decode_bytes",
    "json_kind",
    "read_bytes",
    "read_path",
]
# A Parquet file may decode to at most this many times the upload limit (it compresses well).
PARQUET_DECODED_FACTOR = 4


def _unique_columns(header: list[str]) -> list[str]:
    cols: list[str] = []
    for i, h in enumerate(header):
        h = h.strip() or f"column_{i + 1}"
        base, n = h, 2
        while h in cols:
            h, n = f"{base}_{n}", n + 1
        cols.append(h)
    return cols


def _looks_like_data(first: list[str]) -> bool:
    # A header is short labels; a first row holding ### text or long prose is data.
    return any("###" in c or len(c) > 120 for c in first)


def _line_iter(text: str, taken: list[str]) -> Iterator[str]:
    """The lines of `text` one at a time (no list of them all), each also kept in `taken`."""
    for line in iter_lines(text):
        taken.append(line)
        yield line


def read_delimited(
    text: str, name: str, delimiter: str = ",", max_rows: int = DEFAULT_MAX_ROWS
) -> ReadResult:
    """CSV/TSV with a header row (a header is invented when the first row is data)."""
    csv.field_size_limit(1 << 30)  # the upload limit already bounds a field
    taken: list[str] = []  # the file lines of the current record, for its raw text
    consumed = [0]  # characters of `text` before the current record
    reader = csv.reader(_line_iter(text, taken), delimiter=delimiter)
    rows: list[RawRow] = []
    columns: list[str] | None = None
    counter = RowCounter(name, max_rows)
    n_blank, prev_end = 0, 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:  # e.g. a NUL inside a quoted field: the row, not the file
            start = prev_end + 1
            prev_end = reader.line_num
            counter.add()
            consumed[0] += sum(len(t) for t in taken)
            kind = "TSV" if delimiter == "\t" else "CSV"
            rows.append(
                RawRow(
                    start,
                    {},
                    "".join(taken).rstrip("\n"),
                    f"ragged row: not readable as {kind} ({exc})",
                )
            )
            taken.clear()
            continue
        start, end = prev_end + 1, reader.line_num
        prev_end = end
        raw = "".join(taken).rstrip("\n")
        at_end = sum(len(t) for t in taken) + consumed[0] >= len(text)
        consumed[0] += sum(len(t) for t in taken)
        taken.clear()
        if not any(c.strip() for c in cells):
            n_blank += 1
            continue
        if columns is None:
            check_columns(name, len(cells))  # before a wide file's rows are held
            if _looks_like_data(cells):
                columns = ["text"] if len(cells) == 1 else _unique_columns([""] * len(cells))
            else:
                columns = _unique_columns(cells)
                continue
        error = ""
        if end > start and at_end and raw.count('"') % 2:
            error = f"ragged row: a double quote opened on line {start} is never closed"
        elif len(cells) != len(columns):
            error = (
                f"ragged row: {len(cells)} fields where the header has {len(columns)}; "
                "put text holding the delimiter in double quotes"
            )
        counter.add(cells=min(len(cells), len(columns)))
        rows.append(RawRow(start, dict(zip(columns, cells, strict=False)), raw, error))
    if columns is None:
        raise DataError(f"{name} has no rows; it needs a header and at least one example.")
    return ReadResult(name, "table", columns, rows, n_blank)


def read_lines(text: str, name: str, max_rows: int = DEFAULT_MAX_ROWS) -> ReadResult:
    """Plain text: one example per line."""
    rows, n_blank = [], 0
    counter = RowCounter(name, max_rows)
    for i, line in lines(text):
        if line.strip():
            counter.add()
            rows.append(RawRow(i, line, line))
        else:
            n_blank += 1
    if not rows:
        raise DataError(f"{name} is empty; it needs at least one example.")
    return ReadResult(name, "lines", ["text"], rows, n_blank)


def _parquet_cell(v: Any) -> Any:
    # Lists / structs stay objects (a messages column); shapes rejects them where text is due.
    return "" if v is None else v if isinstance(v, list | dict) else str(v)


def read_parquet(
    data: bytes, name: str, max_rows: int = DEFAULT_MAX_ROWS, max_upload_mb: int = 50
) -> ReadResult:
    """A Parquet table, read a batch at a time after its row count and size are checked."""
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(io.BytesIO(data))
        meta = pf.metadata
        decoded = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    except Exception as exc:  # pyarrow raises several types for a damaged file
        raise DataError(
            f"{name} is not a readable Parquet file ({first_line(exc, 200)})."
        ) from None
    # Refused before any row is decoded: too many rows, columns or cells.
    check_columns(name, meta.num_columns)
    RowCounter(name, max_rows).add(meta.num_rows, cells=meta.num_rows * meta.num_columns)
    limit = max_upload_mb * PARQUET_DECODED_FACTOR
    if decoded > limit * 1024 * 1024:
        raise DataError(
            f"{name} decodes to {decoded / 2**20:.0f} MB, over the {limit} MB a "
            f"Parquet upload may expand to ({PARQUET_DECODED_FACTOR}x "
            "STUDIO_MAX_UPLOAD_MB). Split it into smaller files."
        )
    if not meta.num_rows:
        raise DataError(f"{name} has no rows.")
    rows: list[RawRow] = []
    try:
        for batch in pf.iter_batches(batch_size=4096):
            for rec in batch.to_pylist():
                value = {k: _parquet_cell(v) for k, v in rec.items()}
                raw = json.dumps(value, ensure_ascii=False, default=str)
                rows.append(RawRow(len(rows) + 1, value, raw))
    except DataError:
        raise
    except Exception as exc:
        raise DataError(
            f"{name} is not a readable Parquet file ({first_line(exc, 200)})."
        ) from None
    return ReadResult(name, "table", list(pf.schema_arrow.names), rows)


def _extension(name: str) -> str:
    ext = Path(name).suffix.lower()
    if ext in ACCEPTED_EXTENSIONS:
        return ext
    if ext in (".zip", ".gz", ".tar", ".7z", ".rar", ".tgz"):
        raise DataError(
            f"{name} is an archive; unpack it and upload the files inside ({ACCEPTED_TEXT})."
        )
    raise DataError(
        f"{name}: {ext or 'files without an extension'} cannot be read; upload "
        f"one of: {ACCEPTED_TEXT}."
    )


def read_bytes(
    name: str, data: bytes, max_upload_mb: int, max_rows: int = DEFAULT_MAX_ROWS
) -> ReadResult:
    """Read one uploaded file's content, choosing the reader by its extension."""
    ext = _extension(name)
    too_big(name, len(data), max_upload_mb)
    if ext == ".parquet":
        if not data.startswith(b"PAR1"):
            raise DataError(f"{name} is not a Parquet file (no PAR1 header).")
        return read_parquet(data, name, max_rows, max_upload_mb)
    text, encoding = decode_bytes(data, name)
    readers = {
        ".csv": lambda: read_delimited(text, name, ",", max_rows),
        ".tsv": lambda: read_delimited(text, name, "\t", max_rows),
        ".jsonl": lambda: read_jsonl(text, name, max_rows),
        ".ndjson": lambda: read_jsonl(text, name, max_rows),
        ".json": lambda: read_json(text, name, max_rows),
        ".txt": lambda: read_lines(text, name, max_rows),
    }
    result = readers[ext]()
    result.encoding = encoding
    return result


def read_path(
    path: str | Path, max_upload_mb: int, max_rows: int = DEFAULT_MAX_ROWS, name: str | None = None
) -> ReadResult:
    """Read one file from disk (size is checked before reading it); `name` is shown instead
    of the file's own name (an upload stored under a generated name)."""
    path = Path(path)
    name = name or path.name
    _extension(name)
    if not path.is_file():
        raise DataError(f"{name} was not found; upload it again.")
    too_big(name, path.stat().st_size, max_upload_mb)
    return read_bytes(name, path.read_bytes(), max_upload_mb, max_rows)
