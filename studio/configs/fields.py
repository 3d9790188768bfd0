"""FieldSpec: what one config key accepts (type, range, choices, help), and the check of a value.

The UI can build a widget from a FieldSpec; `check_value` returns the Problem under the key
it is given, or None when the value is fine.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from studio.errors import Problem

# Names of modules / tokens that end up in module lookups: keep them to plain identifiers.
_NAME = re.compile(r"^[A-Za-z0-9_.\-\[\]<>|]{1,120}$")

MAX_LIST = 256  # entries of any list setting (module names, layer numbers...)
KINDS = ("int", "float", "bool", "str", "choice", "str_list", "int_list", "dict", "name_list")


@dataclass(frozen=True)
class FieldSpec:
    """One allowed key: its kind, an optional range or choices, and a help line."""

    kind: str  # one of KINDS; "name_list": identifiers as a list (or one of `choices` as str)
    help: str = ""
    min: float | None = None
    max: float | None = None
    min_exclusive: bool = False  # "> min" instead of ">= min"
    max_exclusive: bool = False
    choices: tuple = ()
    nullable: bool = False  # JSON null allowed (means "library default")
    max_len: int = 200  # longest string accepted

    def describe(self) -> str:
        """A short human description of what is accepted, for messages and tooltips."""
        if self.kind == "choice":
            return "one of " + ", ".join(repr(c) for c in self.choices)
        words = {
            "int": "a whole number",
            "float": "a number",
            "bool": "true or false",
            "str": "a text",
            "str_list": "a list of texts",
            "int_list": "a list of whole numbers",
            "dict": "an object {...}",
            "name_list": "a list of module names",
        }
        return words[self.kind]


def is_int(v: Any) -> bool:
    """An int that is not a bool."""
    return isinstance(v, int) and not isinstance(v, bool)


def is_number(v: Any) -> bool:
    """An int or float that is not a bool."""
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _type_ok(spec: FieldSpec, v: Any) -> bool:
    if spec.kind == "int":
        return is_int(v) or (isinstance(v, float) and v.is_integer())
    if spec.kind == "float":
        return is_number(v)
    if spec.kind == "bool":
        return isinstance(v, bool)
    if spec.kind in ("str", "choice"):
        return isinstance(v, str)
    if spec.kind == "str_list":
        return isinstance(v, list) and all(isinstance(x, str) for x in v)
    if spec.kind == "int_list":
        return isinstance(v, list) and all(is_int(x) for x in v)
    if spec.kind == "name_list":
        if isinstance(v, str):
            return v in spec.choices
        return isinstance(v, list) and all(isinstance(x, str) for x in v)
    if spec.kind == "dict":
        return isinstance(v, dict)
    raise ValueError(f"unknown FieldSpec kind {spec.kind!r}")


def _fmt(v: Any) -> str:
    return repr(v) if isinstance(v, str) else str(v).lower() if isinstance(v, bool) else str(v)


def check_value(name: str, spec: FieldSpec, value: Any) -> Problem | None:
    """The problem, under key `name`, when `value` does not fit `spec`; else None."""
    message = value_problem(spec, value)
    return Problem(name, message) if message else None


def value_problem(spec: FieldSpec, value: Any) -> str | None:
    """What is wrong with `value` for `spec`, in words (None when it fits)."""
    if value is None:
        return None if spec.nullable else f"must be {spec.describe()}, not null"
    if not _type_ok(spec, value):
        extra = f" or {' / '.join(map(repr, spec.choices))}" if spec.kind == "name_list" else ""
        return f"must be {spec.describe()}{extra} (got {_fmt(value)}, a {type(value).__name__})"
    if spec.kind == "choice" and value not in spec.choices:
        return f"must be {spec.describe()} (got {_fmt(value)})"
    if spec.kind in ("int", "float"):
        # NaN compares false with every bound, so the range checks below cannot see it.
        if not math.isfinite(value):
            return f"must be a finite number (got {_fmt(value)})"
        if spec.min is not None:
            if spec.min_exclusive and not value > spec.min:
                return f"must be > {_fmt(spec.min)} (got {_fmt(value)})"
            if not spec.min_exclusive and value < spec.min:
                return f"must be at least {_fmt(spec.min)} (got {_fmt(value)})"
        if spec.max is not None:
            if spec.max_exclusive and not value < spec.max:
                return f"must be < {_fmt(spec.max)} (got {_fmt(value)})"
            if not spec.max_exclusive and value > spec.max:
                return f"must be at most {_fmt(spec.max)} (got {_fmt(value)})"
    if isinstance(value, str) and len(value) > spec.max_len:
        return f"at most {spec.max_len} characters (got {len(value)})"
    if isinstance(value, list) and len(value) > MAX_LIST:
        return f"at most {MAX_LIST} entries (got {len(value):,})"
    if spec.kind == "name_list" and isinstance(value, list):
        if not value:
            return 'list at least one module name, e.g. ["q_proj", "v_proj"]'
        bad = [x for x in value if not _NAME.match(x)]
        if bad:
            return f"{bad[0]!r} is not a module name (letters, digits, _ . - only)"
        twice = next((x for i, x in enumerate(value) if x in value[:i]), None)
        if twice is not None:
            return f"lists {twice!r} twice; name each module once"
    if spec.kind == "str_list" and isinstance(value, list):
        long = [x for x in value if len(x) > spec.max_len]
        if long:
            return f"entries are at most {spec.max_len} characters"
    return None
