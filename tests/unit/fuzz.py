"""Shared Hypothesis settings and strategies for the fuzz tests (tests/unit/**/test_fuzz_*.py).

The property every fuzz test checks: an input is accepted, rejected with a reason, or refused
with a StudioError whose message says why; never another exception, never a hang (each
example has a deadline), and nothing stored changes on a refusal. Example counts are sized so
the whole fuzz suite runs in well under two minutes on a CI machine.
"""

from __future__ import annotations

import json

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

FUZZ = settings(
    max_examples=120,
    deadline=3000,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.function_scoped_fixture,
    ],
)
FUZZ_SLOW = settings(FUZZ, max_examples=30, deadline=10000)

# JSON values, including what Python's json produces but JSON forbids (NaN, Infinity) and
# strings with lone surrogates; nesting is added separately (`deep`).
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True)
    | st.text(max_size=40)
    | st.sampled_from(["###", "### Assistant: x", "\x00", "\ud800"])
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.text(max_size=12)
            | st.sampled_from(["text", "prompt", "messages", "completion", "role", "content"]),
            inner,
            max_size=4,
        )
    ),
    max_leaves=12,
)


def deep(depth: int, leaf: str = "1") -> str:
    """A JSON text nested `depth` levels deep."""
    return "[" * depth + leaf + "]" * depth


def json_texts() -> st.SearchStrategy[str]:
    """JSON-looking text: valid, broken, deep, non-finite, surrogate escapes."""
    return st.one_of(
        st.tuples(json_values, st.booleans()).map(lambda t: json.dumps(t[0], ensure_ascii=t[1])),
        st.integers(10, 3000).map(deep),
        st.integers(10, 3000).map(lambda d: '{"text": ' + deep(d, '"x"') + "}"),
        st.sampled_from(
            [
                '{"text": Infinity}',
                '{"text": NaN}',
                '{"text": "\\ud800"}',
                '{"n": 1}',
                '{"text": ' + "9" * 5000 + "}",
                "{",
                "[1,",
                '"\\x"',
            ]
        ),
        st.text(max_size=60),
    )
