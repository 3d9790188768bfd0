"""JSON from users and clients, parsed with bounds: one parser for uploads, config editors and
the HTTP API.

    value = loads(text)          # JSONInputError (a ValueError) with a plain-words message

Python's json module accepts what JSON itself does not and fails in ways a user cannot read:
nesting a few thousand levels deep raises RecursionError, `Infinity` / `NaN` are accepted as
numbers, a 5,000-digit integer fails with an interpreter message, and a lone surrogate escape
("\\ud800") becomes a string that cannot be written as UTF-8. Here nesting is bounded before
parsing, and every one of those is a JSONInputError whose message says what was wrong.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

MAX_DEPTH = 64  # objects / arrays inside each other; real examples and configs use < 10
MAX_DIGITS = 100  # longest integer literal accepted
_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.S)
_SURROGATE = re.compile("[\ud800-\udfff]")


class JSONInputError(ValueError):
    """JSON that is refused; the message says why in words a user can act on."""


class _Refused:
    """A value parsed but refused (Infinity, a huge integer); reported after parsing."""

    def __init__(self, why: str):
        self.why = why


def depth(text: str) -> int:
    """How deeply objects and arrays nest in `text` (brackets inside strings do not count)."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return text.count("[") + text.count("{")  # an upper bound, cheap
    level = deepest = 0
    for m in _TOKENS.finditer(text):
        c = m.group()
        if c in "[{":
            level += 1
            deepest = max(deepest, level)
        elif c in "]}":
            level -= 1
    return deepest


def _constant(name: str) -> _Refused:
    return _Refused(f"{name} is not a JSON number; use a finite number")


def _float(text: str) -> float | _Refused:
    value = float(text)
    return value if math.isfinite(value) else _Refused(f"{text} is too large for a number")


def _int(text: str) -> int | _Refused:
    digits = len(text.lstrip("-"))
    if digits > MAX_DIGITS:
        return _Refused(f"a whole number of {digits} digits is too long (at most {MAX_DIGITS})")
    return int(text)


def problem(value: Any, max_depth: int = MAX_DEPTH) -> str | None:
    """Why a parsed value is refused (Infinity, huge number, lone surrogate), or None."""
    stack = [(value, 0)]
    while stack:
        v, level = stack.pop()
        if isinstance(v, _Refused):
            return v.why
        if isinstance(v, str):
            if _SURROGATE.search(v):
                return "a text holds a lone surrogate escape (\\ud800-\\udfff), not a character"
        elif isinstance(v, dict | list):
            if level >= max_depth:
                return f"nested deeper than {max_depth} levels"
            items = v.items() if isinstance(v, dict) else enumerate(v)
            for k, item in items:
                if isinstance(k, str) and _SURROGATE.search(k):
                    return "a key holds a lone surrogate escape (\\ud800-\\udfff)"
                stack.append((item, level + 1))
    return None


def parse(text: str, max_depth: int = MAX_DEPTH) -> Any:
    """Parse with bounded nesting; refused numbers are kept as markers for `problem`.

    JSONInputError for syntax errors and nesting deeper than `max_depth`.
    """
    if depth(text) > max_depth:
        raise JSONInputError(f"nested deeper than {max_depth} levels")
    try:
        return json.loads(text, parse_constant=_constant, parse_float=_float, parse_int=_int)
    except json.JSONDecodeError as exc:
        raise JSONInputError(f"{exc.msg} at line {exc.lineno}, column {exc.colno}") from None
    except (RecursionError, ValueError, TypeError) as exc:  # bytes, or a bound not caught above
        raise JSONInputError(f"not readable as JSON ({type(exc).__name__})") from None


def loads(text: str | bytes, max_depth: int = MAX_DEPTH) -> Any:
    """Parse JSON a user or client sent; JSONInputError (a ValueError) says why it is refused."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise JSONInputError("not UTF-8 text") from None
    value = parse(text, max_depth)
    why = problem(value, max_depth)
    if why:
        raise JSONInputError(why)
    return value
