"""Fuzz: the ### section parser and the shape detector give an Example or a SectionError
with a reason, for any text and any row value."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from studio.data.raw import RawRow, ReadResult
from studio.data.sections import SectionError, parse_sections, text_to_example
from studio.data.shapes import SHAPES, ColumnMapping, detect_mapping, row_to_example
from studio.errors import DataError
from studio.vocab.examples import STYLES, Example
from tests.unit.fuzz import FUZZ, json_values

HEADERS = st.sampled_from(
    [
        "### Instruction:",
        "### Human:",
        "### Assistant:",
        "### Input:",
        "### Response:",
        "###",
        "### 3 things:",
        "###Assistant :",
        "### INSTRUCTION:",
        "#",
    ]
)
sectioned = st.lists(st.one_of(HEADERS, st.text(max_size=20)), max_size=8).map(" ".join)
COLUMNS = ["text", "prompt", "completion", "instruction", "input", "output", "messages", "x"]


def _is_example(ex: Example) -> None:
    assert isinstance(ex, Example) and ex.style in STYLES and ex.output.strip()


@FUZZ
@given(text=st.one_of(sectioned, st.text(max_size=200)))
def test_section_parser_gives_an_example_or_a_reason(text):
    try:
        parsed = parse_sections(text)
        assert all(name == name.lower() for name, _ in parsed.sections)
        ex = text_to_example(text)
    except SectionError as exc:
        assert str(exc).strip()
        return
    _is_example(ex)


mappings = st.builds(
    ColumnMapping,
    shape=st.sampled_from(list(SHAPES)),
    text=st.sampled_from(COLUMNS),
    instruction=st.sampled_from(["", *COLUMNS]),
    input=st.sampled_from(["", *COLUMNS]),
    output=st.sampled_from(["", *COLUMNS]),
    messages=st.sampled_from(COLUMNS),
)
rows = st.one_of(json_values, st.dictionaries(st.sampled_from(COLUMNS), json_values, max_size=5))


@FUZZ
@given(values=st.lists(rows, min_size=1, max_size=5), mapping=mappings)
def test_shape_detector_and_row_mapping_give_an_example_or_a_reason(values, mapping):
    raw_rows = [RawRow(i, v, repr(v)[:100]) for i, v in enumerate(values, 1)]
    cols = sorted({k for v in values if isinstance(v, dict) for k in v})
    result = ReadResult("f.jsonl", "records", cols, raw_rows)
    guess = detect_mapping(result)
    try:
        guess.check(cols, "f.jsonl")
    except DataError as exc:
        assert "Column mapping" in str(exc) or "missing" in str(exc)
    for r in raw_rows:
        for m in (guess, mapping):
            try:
                ex = row_to_example(r.value, r.raw, m)
            except SectionError as exc:
                assert str(exc).strip() and "Traceback" not in str(exc)
                continue
            _is_example(ex)
            cell = r.value.get(m.text) if isinstance(r.value, dict) else None
            if m.shape == "text" and isinstance(cell, dict | list):
                raise AssertionError(f"a nested cell became text: {ex.output!r}")
