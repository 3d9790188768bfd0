"""Read uploaded files and pasted text into raw rows, before any meaning is given to them.

Accepted: .csv, .tsv, .jsonl (.ndjson), .json, .txt, .parquet. Text encodings: UTF-8, UTF-8
with BOM, UTF-16/UTF-32 with BOM (and UTF-16 without BOM when its zero bytes hint at it
and it decodes to printable text).
Line endings may be mixed (\\r\\n, \\r, \\n). Whole-file problems (empty, binary, too large,
a zip, an unknown extension) raise DataError; problems of one row (a broken JSON line, a
ragged CSV row, bytes that are not UTF-8) become that row's `error` and are rejected later
with the row number, so the other rows still count.

Row numbers are what a user sees in an editor: the file line where the row starts for
csv/tsv/jsonl/txt (the CSV header is line 1), the 1-based item for json and parquet.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from studio.errors import DataError

ACCEPTED_EXTENSIONS = (".csv", ".tsv", ".jsonl", ".ndjson", ".json", ".txt", ".parquet")
ACCEPTED_TEXT = ", ".join(ACCEPTED_EXTENSIONS)
# Undecodable bytes survive decoding as lone surrogates (errors="surrogateescape").
UNDECODABLE = re.compile("[\udc80-\udcff]")
_MAGIC = {b"PK\x03\x04": "a zip archive (or .xlsx)", b"\x1f\x8b": "a gzip archive",
          b"%PDF": "a PDF", b"\x89PNG": "a PNG image", b"\xff\xd8\xff": "a JPEG image",
          b"PAR1": "a Parquet file", b"7z\xbc\xaf": "a 7-Zip archive",
          b"SQLite format 3": "an SQLite database"}  # fmt: skip
_RECORD_LIST_KEYS = ("data", "examples", "rows", "records", "train", "items")


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


def _too_big(name: str, size: int, max_mb: int) -> None:
    if size > max_mb * 1024 * 1024:
        raise DataError(
            f"{name} is {size / 1024 / 1024:.1f} MB; the upload limit is {max_mb} MB "
            "(STUDIO_MAX_UPLOAD_MB). Split it into smaller files or raise the limit."
        )


def _utf16_without_bom(head: bytes) -> str | None:
    """The UTF-16 byte order `head` decodes cleanly into (mostly printable text), or None."""
    # Zero bytes hint at UTF-16, but only ASCII characters have them: Japanese text has few,
    # so decode and judge the result instead of counting zeros.
    le_first = head[1::2].count(0) >= head[0::2].count(0)
    for enc in ("utf-16-le", "utf-16-be") if le_first else ("utf-16-be", "utf-16-le"):
        try:  # incremental: a surrogate pair cut at the end of `head` is not an error
            text = codecs.getincrementaldecoder(enc)().decode(head)
        except UnicodeDecodeError:
            continue
        printable = sum(1 for c in text if c.isprintable() or c in "\t\n\r")
        if text and "\x00" not in text and printable >= 0.95 * len(text):
            return enc
    return None


def decode_bytes(data: bytes, name: str) -> tuple[str, str]:
    """(text with \\n line endings, encoding name); DataError for empty or binary content."""
    if not data.strip(b" \t\r\n\x00"):
        raise DataError(f"{name} is empty; it needs at least one example.")
    for magic, what in _MAGIC.items():
        if data.startswith(magic):
            raise DataError(f"{name} is {what}, not text; upload one of: {ACCEPTED_TEXT}.")
    boms = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
            (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
            (codecs.BOM_UTF16_BE, "utf-16"))  # fmt: skip
    encoding = next((enc for bom, enc in boms if data.startswith(bom)), None)
    head = data[:4096]
    if encoding is None and head.count(b"\x00"):
        encoding = _utf16_without_bom(head)
        if encoding is None:
            raise DataError(
                f"{name} looks binary (it holds zero bytes), not text; "
                f"upload a text file saved as UTF-8 ({ACCEPTED_TEXT})."
            )
    if encoding in (None, "utf-8-sig"):
        text = data.decode(encoding or "utf-8", errors="surrogateescape")
        encoding = encoding or "utf-8"
    else:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError as exc:
            raise DataError(f"{name} is not valid {encoding.upper()} ({exc.reason} at byte "
                            f"{exc.start}); save it again as UTF-8.") from exc  # fmt: skip
    sample = text[:8192]
    controls = sum(1 for c in sample if c < " " and c not in "\t\r\n\f")
    if "\x00" in sample or controls > 0.1 * len(sample):
        raise DataError(f"{name} looks binary, not text; upload one of: {ACCEPTED_TEXT}.")
    return text.replace("\r\n", "\n").replace("\r", "\n"), encoding


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


def read_delimited(text: str, name: str, delimiter: str = ",") -> ReadResult:
    """CSV/TSV with a header row (a header is invented when the first row is data)."""
    csv.field_size_limit(1 << 30)  # the upload limit already bounds a field
    lines = text.split("\n")
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    rows: list[RawRow] = []
    columns: list[str] | None = None
    n_blank, prev_end = 0, 0
    for cells in reader:
        start, end = prev_end + 1, reader.line_num
        prev_end = end
        if not any(c.strip() for c in cells):
            n_blank += 1
            continue
        if columns is None:
            if _looks_like_data(cells):
                columns = ["text"] if len(cells) == 1 else _unique_columns([""] * len(cells))
            else:
                columns = _unique_columns(cells)
                continue
        raw = "\n".join(lines[start - 1 : end])
        error = ""
        if end > start and end >= len(lines) - 1 and raw.count('"') % 2:
            error = f"ragged row: a double quote opened on line {start} is never closed"
        elif len(cells) != len(columns):
            error = (f"ragged row: {len(cells)} fields where the header has {len(columns)}; "
                     "put text holding the delimiter in double quotes")  # fmt: skip
        rows.append(RawRow(start, dict(zip(columns, cells, strict=False)), raw, error))
    if columns is None:
        raise DataError(f"{name} has no rows; it needs a header and at least one example.")
    return ReadResult(name, "table", columns, rows, n_blank)


def _lines(text: str) -> list[str]:
    lines = text.split("\n")
    if lines and lines[-1] == "":  # the newline that ends the last line is not a blank line
        lines.pop()
    return lines


def _columns_of(records: list[Any]) -> list[str]:
    cols: dict[str, None] = {}
    for r in records[:200]:
        if isinstance(r, dict):
            cols.update(dict.fromkeys(r))
    return list(cols)


def json_kind(value: Any) -> str:
    """What a JSON value is, in words ("a number", "an array", ...), for rejection reasons."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    kinds = ((int | float, "a number"), (list, "an array"), (str, "a string"), (dict, "an object"))
    return next((k for t, k in kinds if isinstance(value, t)), type(value).__name__)


def _objects_only(rows: list[RawRow], columns: list[str]) -> list[RawRow]:
    """Rows whose JSON value is not an object (a string is one text) get a wrong JSON error."""
    keys = ", ".join(f'"{c}"' for c in columns[:5])
    want = f"an object with keys like {keys}" if keys else 'an object such as {"text": "..."}'
    return [r if r.error or isinstance(r.value, dict | str) else
            r._replace(error=f"wrong JSON: row {r.row} is {json_kind(r.value)}, expected {want}")
            for r in rows]  # fmt: skip


def read_jsonl(text: str, name: str) -> ReadResult:
    """One JSON value per line; a broken line is that row's error, the rest still count."""
    rows: list[RawRow] = []
    n_blank = 0
    loads = json.loads
    for i, line in enumerate(_lines(text), start=1):
        if not line.strip():
            n_blank += 1
            continue
        try:
            rows.append(RawRow(i, loads(line), line))
        except ValueError as exc:
            rows.append(RawRow(i, None, line, f"wrong JSON: {exc}"))
    if not rows:
        raise DataError(f"{name} has no JSON lines.")
    columns = _columns_of([r.value for r in rows])
    return ReadResult(name, "records", columns, _objects_only(rows, columns), n_blank)


def read_json(text: str, name: str) -> ReadResult:
    """A JSON array of examples (or {"data": [...]}, or one object); JSONL is accepted too."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        if text.lstrip().startswith("{") and "\n" in text.strip():
            return read_jsonl(text, name)
        raise DataError(f"{name} is not valid JSON ({exc}); fix it or save it as JSONL, "
                        "one example per line.") from exc  # fmt: skip
    if isinstance(data, dict):
        lists = [data[k] for k in _RECORD_LIST_KEYS if isinstance(data.get(k), list)]
        data = lists[0] if lists else [data]
    if not isinstance(data, list) or not data:
        raise DataError(f"{name} holds no examples: expected a JSON array of objects.")
    rows = [RawRow(i, v, json.dumps(v, ensure_ascii=False)) for i, v in enumerate(data, 1)]
    columns = _columns_of(data)
    return ReadResult(name, "records", columns, _objects_only(rows, columns))


def read_lines(text: str, name: str) -> ReadResult:
    """Plain text: one example per line."""
    rows, n_blank = [], 0
    for i, line in enumerate(_lines(text), start=1):
        if line.strip():
            rows.append(RawRow(i, line, line))
        else:
            n_blank += 1
    if not rows:
        raise DataError(f"{name} is empty; it needs at least one example.")
    return ReadResult(name, "lines", ["text"], rows, n_blank)


def read_parquet(data: bytes, name: str) -> ReadResult:
    """A Parquet table; list/struct cells (e.g. messages) are kept as Python objects."""
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(io.BytesIO(data))
    except Exception as exc:  # pyarrow raises several types for a damaged file
        raise DataError(f"{name} is not a readable Parquet file ({exc}).") from exc
    records = table.to_pylist()
    if not records:
        raise DataError(f"{name} has no rows.")
    rows = []
    for i, rec in enumerate(records, start=1):
        value = {k: "" if v is None else v if isinstance(v, list | dict) else str(v)
                 for k, v in rec.items()}  # fmt: skip
        rows.append(RawRow(i, value, json.dumps(value, ensure_ascii=False, default=str)))
    return ReadResult(name, "table", list(table.column_names), rows)


def _extension(name: str) -> str:
    ext = Path(name).suffix.lower()
    if ext in ACCEPTED_EXTENSIONS:
        return ext
    if ext in (".zip", ".gz", ".tar", ".7z", ".rar", ".tgz"):
        raise DataError(f"{name} is an archive; unpack it and upload the files inside "
                        f"({ACCEPTED_TEXT}).")  # fmt: skip
    raise DataError(f"{name}: {ext or 'files without an extension'} cannot be read; upload "
                    f"one of: {ACCEPTED_TEXT}.")  # fmt: skip


def read_bytes(name: str, data: bytes, max_upload_mb: int) -> ReadResult:
    """Read one uploaded file's content, choosing the reader by its extension."""
    ext = _extension(name)
    _too_big(name, len(data), max_upload_mb)
    if ext == ".parquet":
        if not data.startswith(b"PAR1"):
            raise DataError(f"{name} is not a Parquet file (no PAR1 header).")
        return read_parquet(data, name)
    text, encoding = decode_bytes(data, name)
    reader = {".csv": lambda: read_delimited(text, name, ","),
              ".tsv": lambda: read_delimited(text, name, "\t"),
              ".jsonl": lambda: read_jsonl(text, name), ".ndjson": lambda: read_jsonl(text, name),
              ".json": lambda: read_json(text, name), ".txt": lambda: read_lines(text, name)}  # fmt: skip
    result = reader[ext]()
    result.encoding = encoding
    return result


def read_path(path: str | Path, max_upload_mb: int) -> ReadResult:
    """Read one file from disk (size is checked before reading it)."""
    path = Path(path)
    _extension(path.name)
    if not path.is_file():
        raise DataError(f"{path.name} was not found; upload it again.")
    _too_big(path.name, path.stat().st_size, max_upload_mb)
    return read_bytes(path.name, path.read_bytes(), max_upload_mb)
