"""Bytes -> text for uploads: which encoding, and whether it is text at all.

UTF-8 (with or without BOM) and UTF-16/UTF-32 with a BOM are read as such. UTF-16 without a
BOM is chosen only when the zero bytes really say so: nearly all on one side of each byte
pair AND either many of them or a head that is not UTF-8. So a UTF-8 file holding a few NUL
bytes stays UTF-8 (each NUL then rejects its own row, see CONTROL), instead of being decoded
as UTF-16 mojibake. Undecodable UTF-8 bytes survive as lone surrogates (surrogateescape) so
that only their rows are rejected.
"""

from __future__ import annotations

import codecs
import re

from studio.errors import DataError

ACCEPTED_EXTENSIONS = (".csv", ".tsv", ".jsonl", ".ndjson", ".json", ".txt", ".parquet")
ACCEPTED_TEXT = ", ".join(ACCEPTED_EXTENSIONS)
# Undecodable bytes survive decoding as lone surrogates (errors="surrogateescape").
UNDECODABLE = re.compile("[\udc80-\udcff]")
# Control characters no example should hold (tab, newlines and form feed are text).
CONTROL = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")
_MAGIC = {
    b"PK\x03\x04": "a zip archive (or .xlsx)",
    b"\x1f\x8b": "a gzip archive",
    b"%PDF": "a PDF",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"PAR1": "a Parquet file",
    b"7z\xbc\xaf": "a 7-Zip archive",
    b"SQLite format 3": "an SQLite database",
}
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def control_reason(text: str) -> str | None:
    """A rejection reason naming the first control character in `text`, or None."""
    m = CONTROL.search(text)
    if m is None:
        return None
    code = f"U+{ord(m.group()):04X}"
    name = " (NUL)" if m.group() == "\x00" else ""
    return (
        f"control characters: the row holds {code}{name}, which is not text; remove it "
        "or save the file again as plain UTF-8 text"
    )


def _valid_utf8(head: bytes) -> bool:
    try:  # incremental: a character cut at the end of `head` is not an error
        codecs.getincrementaldecoder("utf-8")().decode(head)
    except UnicodeDecodeError:
        return False
    return True


def _utf16_without_bom(head: bytes) -> str | None:
    """The UTF-16 byte order the zero bytes of `head` point to, if they really say UTF-16."""
    even, odd = head[0::2].count(0), head[1::2].count(0)
    zeros = even + odd
    # ASCII in UTF-16 puts a zero beside every character, always on the same side; a few
    # stray NULs in UTF-8 fall anywhere and are rare. Text with few ASCII characters
    # (Japanese) has few zeros, but then it is not valid UTF-8 either.
    if max(even, odd) < 0.9 * zeros:
        return None
    if zeros < 0.1 * len(head) and _valid_utf8(head):
        return None
    for enc in ("utf-16-le", "utf-16-be") if odd >= even else ("utf-16-be", "utf-16-le"):
        try:
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
    encoding = next((enc for bom, enc in _BOMS if data.startswith(bom)), None)
    head = data[:4096]
    if encoding is None and head.count(b"\x00"):
        encoding = _utf16_without_bom(head)
    if encoding in (None, "utf-8-sig"):
        text = data.decode(encoding or "utf-8", errors="surrogateescape")
        encoding = encoding or "utf-8"
    else:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError as exc:
            raise DataError(
                f"{name} is not valid {encoding.upper()} ({exc.reason} at byte "
                f"{exc.start}); save it again as UTF-8."
            ) from None
    sample = text[:8192]
    controls = sum(1 for c in sample if c < " " and c not in "\t\r\n\f")
    if controls > 0.1 * len(sample):
        raise DataError(f"{name} looks binary, not text; upload one of: {ACCEPTED_TEXT}.")
    if "\r" in text:  # one copy only when there is something to change
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text, encoding
