"""The text a user types into a name or a description, checked once before it is stored.

    name = checked_name(value, "App name")             # StudioError saying what is wrong
    description = checked_text(value, "Description", MAX_DESCRIPTION)

Every store write also refuses a value SQLite could not encode (`refuse_invalid_text`), so a
lone surrogate (U+D800-U+DFFF, which JSON and the browser can send) is a message naming
the field, never an encoding error.
"""

from __future__ import annotations

import re
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
        raise StudioError(
            f"{what} is {len(text):,} characters long; at most {max_len:,} are accepted."
        )
    return text


def checked_name(value: Any, what: str, max_len: int = MAX_NAME) -> str:
    """A name as it is stored (may be empty: the caller says when a name is required)."""
    return checked_text(value, what, max_len)
