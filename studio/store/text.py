"""The text a user types into a name or a description, checked once before it is stored.

    name = checked_name(value, "App name")             # StudioError saying what is wrong
    description = checked_text(value, "Description", MAX_DESCRIPTION)

Every store write also refuses a value SQLite could not encode (`refuse_invalid_text`), so a
lone surrogate (U+D800-U+DFFF, which JSON and the browser can send) is a message naming
the field, never an encoding error.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from studio.errors import StudioError

MAX_NAME = 80  # app, model, dataset and API-key names
MAX_DESCRIPTION = 2_000
_SURROGATE = re.compile("[\ud800-\udfff]")


def valid_text(value: str) -> bool:
    """Whether `value` can be stored (holds no lone surrogate)."""
    return _SURROGATE.search(value) is None


def printable_text(value: str) -> str:
    """`value` with any lone surrogate replaced by U+FFFD (for records that must be kept)."""
    return _SURROGATE.sub("\ufffd", value)


def refuse_invalid_text(values: dict[str, Any], what: str = "") -> None:
    """StudioError when a text value of a row to write holds a lone surrogate."""
    for column, value in values.items():
        if isinstance(value, str) and not valid_text(value):
            raise _not_text(what or column.replace("_", " "), value)


def _not_text(what: str, value: str) -> StudioError:
    at = _SURROGATE.search(value)
    code = f"U+{ord(at.group()):04X}" if at else "?"
    return StudioError(
        f"{what} holds a character that is not valid text ({code}, a lone surrogate); "
        "type it again."
    )


def checked_text(value: Any, what: str, max_len: int) -> str:
    """`value` stripped; refused when it holds a lone surrogate or is over `max_len`."""
    text = "" if value is None else str(value)
    if not valid_text(text):
        raise _not_text(what, text)
    text = text.strip()
    if len(text) > max_len:
        raise _too_long(what, len(text), max_len)
    return text


def checked_name(value: Any, what: str, max_len: int = MAX_NAME) -> str:
    """A name as it is stored (may be empty: the caller says when a name is required).

    Normalised (NFKC: a fullwidth or composed look-alike is the same name), and refused
    when it holds a character that cannot be seen or that turns the text around (zero-width
    characters, bidi overrides and isolates, controls, blank letters), so two names that
    look the same are the same name."""
    raw = "" if value is None else str(value)
    if len(raw.strip()) > max_len * 4:  # refused before normalising a huge text
        raise _too_long(what, len(raw.strip()), max_len)
    text = unicodedata.normalize("NFKC", checked_text(raw, what, max_len * 4))
    for c in text:
        if _invisible(c):
            name = unicodedata.name(c, "a control character")
            raise StudioError(
                f"{what} holds an invisible or direction-changing character "
                f"(U+{ord(c):04X}, {name.lower()}); type it again without it."
            )
    if len(text) > max_len:
        raise _too_long(what, len(text), max_len)
    return text


def _too_long(what: str, n: int, max_len: int) -> StudioError:
    return StudioError(f"{what} is {n:,} characters long; at most {max_len:,} are accepted.")


# Letters and marks that show as nothing (Unicode's default-ignorable blanks).
_BLANK_LETTERS = {"ᅟ", "ᅠ", "ㅤ", "ﾠ", "⠀", "᠎"}


def _invisible(c: str) -> bool:
    """Format (Cf: zero-width, bidi), control, private-use, unassigned and separator
    characters other than the plain space, and the blank letters."""
    if c == " ":
        return False
    return unicodedata.category(c) in ("Cf", "Cc", "Co", "Cn", "Zl", "Zp", "Zs") or (
        c in _BLANK_LETTERS
    )
