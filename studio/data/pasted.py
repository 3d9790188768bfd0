"""Pasted text: guess its format from its content, then read it like an upload of that kind.

    guess_pasted_extension("prompt,completion\nhi,there\n")   # ".csv"
    read_bytes(*pasted_source(text), max_upload_mb)            # (studio.data.versions)

JSON (one value, even pretty-printed over several lines), JSONL, CSV with a header row, TSV,
or plain lines, one example each. Prose with commas stays plain lines.
"""

from __future__ import annotations

import csv
import io
import itertools
import re

from studio import jsonsafe

# A column name in a pasted header: one or two words, no sentence punctuation at the end.
_LABEL = re.compile(r"[^\W\d][\w.\[\]*()-]*(?: [\w.\[\]*()-]+)?(?<!\.)")


def _is_one_json_value(body: str) -> bool:
    try:
        jsonsafe.parse(body)
    except ValueError:
        return False
    return True


def _is_comma_table(body: str) -> bool:
    """A header row of short labels, then rows (mostly) with as many comma-separated fields."""
    try:
        records = [
            r
            for r in itertools.islice(csv.reader(io.StringIO(body)), 30)
            if any(c.strip() for c in r)
        ]
    except csv.Error:
        return False
    if len(records) < 2 or len(records[0]) < 2:
        return False
    header = records[0]
    # Prose puts a space after its commas and ends with punctuation; a header does neither.
    if len({h.lower() for h in header}) < len(header) or not all(
        len(h) <= 40 and _LABEL.fullmatch(h) for h in header
    ):
        return False
    same = sum(len(r) == len(header) for r in records[1:])
    return len(records[1]) == len(header) and same >= 0.8 * (len(records) - 1)


def guess_pasted_extension(text: str) -> str:
    """The reader pasted text needs: JSON, JSONL, CSV (a header row), TSV, or lines."""
    body = text.strip()
    first = body.split("\n", 1)[0]
    if body.startswith("["):
        return ".json"
    if body.startswith("{"):
        # A pretty-printed object spans several lines but is one JSON value, not JSON lines.
        return ".json" if _is_one_json_value(body) else ".jsonl"
    if "input.data.text.raw" in first:
        return ".csv"
    if "\t" in first and "###" not in first:
        return ".tsv"
    if "," in first and "###" not in first and _is_comma_table(body):
        return ".csv"
    return ".txt"


def pasted_bytes(text: str) -> bytes:
    """Pasted text as UTF-8. A lone surrogate (which a browser or a JSON client can send)
    becomes bytes that are not valid UTF-8, so its line is rejected as undecodable, one row,
    while the rest of the paste is read."""
    return text.encode("utf-8", "surrogatepass")
