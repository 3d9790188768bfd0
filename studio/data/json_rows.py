"""JSON and JSON Lines sources: each value parsed with bounds (studio.jsonsafe), so one deep,
non-finite or broken value is that row's rejection, never the whole file's failure."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from studio import jsonsafe
from studio.data.decoding import UNDECODABLE
from studio.data.raw import DEFAULT_MAX_ROWS, RawRow, ReadResult, RowCounter, check_columns
from studio.errors import DataError

RECORD_LIST_KEYS = ("data", "examples", "rows", "records", "train", "items")
UNDECODABLE_REASON = "undecodable bytes: this row is not valid UTF-8; save the file as UTF-8"


def iter_lines(text: str) -> Iterator[str]:
    """The lines of `text`, each with its newline, one at a time: no list of them all, and
    no copy of the text (io.StringIO would hold it again, 4 bytes per character)."""
    start, n = 0, len(text)
    while start < n:
        end = text.find("\n", start)
        if end < 0:
            yield text[start:]
            return
        yield text[start : end + 1]
        start = end + 1


def lines(text: str) -> Iterator[tuple[int, str]]:
    """(line number, line without its newline), one at a time."""
    for i, line in enumerate(iter_lines(text), start=1):
        yield i, line[:-1] if line.endswith("\n") else line


def _columns_of(records: Iterable[Any], name: str = "") -> list[str]:
    cols: dict[str, None] = {}
    for i, r in enumerate(records):
        if i >= 200:
            break
        if isinstance(r, dict):
            cols.update(dict.fromkeys(r))
    check_columns(name, len(cols))
    return list(cols)


def _cells(value: Any) -> int:
    """The cells a record holds: an object's keys, else one."""
    return len(value) if isinstance(value, dict) else 1


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
    return [
        r
        if r.error or isinstance(r.value, dict | str)
        else r._replace(error=f"wrong JSON: row {r.row} is {json_kind(r.value)}, expected {want}")
        for r in rows
    ]


def json_row(row: int, raw: str) -> RawRow:
    """One JSON value as a row; anything refused becomes that row's error, never the file's."""
    if UNDECODABLE.search(raw):
        return RawRow(row, None, raw, UNDECODABLE_REASON)
    try:
        return RawRow(row, jsonsafe.loads(raw), raw)
    except ValueError as exc:
        return RawRow(row, None, raw, f"wrong JSON: {exc}")


def read_jsonl(text: str, name: str, max_rows: int = DEFAULT_MAX_ROWS) -> ReadResult:
    """One JSON value per line; a broken line is that row's error, the rest still count."""
    rows: list[RawRow] = []
    n_blank = 0
    counter = RowCounter(name, max_rows)
    for i, line in lines(text):
        if not line.strip():
            n_blank += 1
            continue
        row = json_row(i, line)
        counter.add(cells=_cells(row.value))
        rows.append(row)
    if not rows:
        raise DataError(f"{name} has no JSON lines.")
    columns = _columns_of((r.value for r in rows), name)
    return ReadResult(name, "records", columns, _objects_only(rows, columns), n_blank)


def _item_spans(text: str) -> Iterator[str]:
    """The items of a top-level JSON array as text, found by bracket depth (not parsed)."""
    level, start = 0, None
    for m in jsonsafe._TOKENS.finditer(text):
        c = m.group()
        if c in "[{":
            level += 1
            if level == 2 and start is None:
                start = m.start()
        elif c in "]}":
            level -= 1
            if level == 1 and start is not None:
                yield text[start : m.end()]
                start = None
        elif level == 1:
            yield c  # a string item


def _rows_of(data: list, counter: RowCounter) -> list[RawRow]:
    counter.add(len(data), cells=sum(_cells(v) for v in data))
    rows = []
    for i, v in enumerate(data, 1):
        why = jsonsafe.problem(v, jsonsafe.MAX_DEPTH - 1)
        raw = printable_json(v) if why is None else json.dumps(v, default=lambda o: None)
        rows.append(RawRow(i, None if why else v, raw, f"wrong JSON: {why}" if why else ""))
    return rows


def printable_json(value: Any) -> str:
    """A parsed JSON value back as text (the row's raw text)."""
    return json.dumps(value, ensure_ascii=False)


def read_json(text: str, name: str, max_rows: int = DEFAULT_MAX_ROWS) -> ReadResult:
    """A JSON array of examples (or {"data": [...]}, or one object); JSONL is accepted too."""
    counter = RowCounter(name, max_rows)
    try:
        data = jsonsafe.parse(text, jsonsafe.MAX_DEPTH + 1)
    except ValueError as exc:
        if text.lstrip().startswith("{") and "\n" in text.strip():
            return read_jsonl(text, name, max_rows)
        if text.lstrip().startswith("[") and "nested deeper" in str(exc):
            # One deep item must not sink the file: read the items one by one.
            spans = _item_spans(text)
            rows = []
            for i, span in enumerate(spans, 1):
                row = json_row(i, span)
                counter.add(cells=_cells(row.value))
                rows.append(row)
            columns = _columns_of((r.value for r in rows), name)
            return ReadResult(name, "records", columns, _objects_only(rows, columns))
        raise DataError(
            f"{name} is not valid JSON ({exc}); fix it or save it as JSONL, one example per line."
        ) from None
    if isinstance(data, dict):
        lists = [data[k] for k in RECORD_LIST_KEYS if isinstance(data.get(k), list)]
        data = lists[0] if lists else [data]
    if not isinstance(data, list) or not data:
        raise DataError(f"{name} holds no examples: expected a JSON array of objects.")
    rows = _rows_of(data, counter)
    columns = _columns_of(data, name)
    return ReadResult(name, "records", columns, _objects_only(rows, columns))
