"""Fuzz: any bytes under any extension are read, validated and stored, or refused with a
DataError; one bad row never sinks the others, and a refused upload leaves nothing behind."""

from __future__ import annotations

import json
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from studio.data.readers import ACCEPTED_EXTENSIONS, read_bytes
from studio.data.shapes import detect_mapping
from studio.data.validate import validate_sources
from studio.data.versions import create_version
from studio.errors import DataError, StudioError
from tests.unit.fuzz import FUZZ, FUZZ_SLOW, json_texts

EXTENSIONS = st.sampled_from([*ACCEPTED_EXTENSIONS, ".xlsx", "", ".JSONL", ".txt.gz"])


def _lines_of(texts: list[str], sep: str) -> bytes:
    return sep.join(texts).encode("utf-8", "surrogatepass")


uploads = st.one_of(
    st.binary(max_size=600),
    st.lists(json_texts(), min_size=1, max_size=6).map(lambda t: _lines_of(t, "\n")),
    st.lists(st.text(max_size=40), min_size=1, max_size=6).map(lambda t: _lines_of(t, "\r\n")),
    st.tuples(st.text(max_size=30), st.binary(max_size=8)).map(
        lambda t: b"text,label\n" + t[0].encode("utf-8", "surrogatepass") + b"," + t[1]
    ),
)


def _read_and_validate(name: str, data: bytes):
    """The reading half of an upload: (result, validation) or a StudioError."""
    result = read_bytes(name, data, max_upload_mb=1, max_rows=1000)
    mapping = detect_mapping(result)
    mapping.check(result.columns if result.kind != "lines" else ["text"], result.name)
    return result, validate_sources([(result, mapping)], max_chars=2000)


@FUZZ
@given(data=uploads, ext=EXTENSIONS)
def test_any_bytes_are_read_or_refused_with_a_reason(data, ext):
    try:
        result, checked = _read_and_validate("upload" + ext, data)
    except StudioError as exc:
        assert str(exc).strip()
        return
    assert checked.n_accepted + checked.n_rejected == checked.n_rows == len(result.rows)
    for r in checked.rejects:
        assert r.reason.strip() and not r.reason.startswith("unreadable row"), r
        r.text.encode("utf-8")  # the reason and text can be written and shown
    for ex in checked.examples:
        line = json.dumps(ex.to_dict(), ensure_ascii=False)
        line.encode("utf-8")  # what train.jsonl gets is valid UTF-8
        assert "\x00" not in ex.output + ex.input + ex.instruction + ex.preamble


@FUZZ_SLOW
@given(data=uploads, ext=st.sampled_from([".jsonl", ".csv", ".txt", ".json", ".parquet"]))
def test_a_refused_upload_stores_nothing(store, settings, data, ext):
    app = store.create_app(f"fuzz {uuid.uuid4().hex[:8]}")["id"]
    before = store.counts()
    try:
        create_version(store, settings, app, "fuzz", [("upload" + ext, data)])
    except StudioError as exc:
        assert str(exc).strip()
        assert store.counts() == before
        assert not list(settings.tmp_dir.iterdir())
        assert not (store.app_dir(app) / "datasets").exists() or not any(
            (store.app_dir(app) / "datasets").iterdir()
        )


def test_a_deep_jsonl_row_is_rejected_and_the_rest_accepted():
    rows = [
        '{"text": "fine one"}',
        '{"text": ' + "[" * 5000 + "]" * 5000 + "}",
        '{"text": "\\ud800 lone"}',
        '{"text": Infinity}',
        '{"text": "fine two"}',
    ]
    result, checked = _read_and_validate("d.jsonl", "\n".join(rows).encode())
    assert [e.output for e in checked.examples] == ["fine one", "fine two"]
    reasons = {r.row: r.reason for r in checked.rejects}
    assert "nested deeper than" in reasons[2]
    assert "lone surrogate" in reasons[3]
    assert "Infinity is not a JSON number" in reasons[4]


def test_a_deep_item_of_a_json_array_is_rejected_and_the_rest_accepted():
    text = '[{"text": "a"}, {"text": ' + "[" * 3000 + "]" * 3000 + '}, {"text": "b"}]'
    result, checked = _read_and_validate("d.json", text.encode())
    assert [e.output for e in checked.examples] == ["a", "b"]
    assert "nested deeper" in checked.rejects[0].reason and checked.rejects[0].row == 2


def test_a_few_nul_bytes_do_not_make_utf8_read_as_utf16():
    data = b"first example line\nsecond \x00 line\nthird example\x00\n"
    result, checked = _read_and_validate("n.txt", data)
    assert result.encoding == "utf-8"
    assert [e.output for e in checked.examples] == ["first example line"]
    assert all(
        r.reason.startswith("control characters") and "NUL" in r.reason for r in checked.rejects
    )


def test_real_utf16_without_bom_is_still_read():
    data = "text\nhello there\nsecond row\n".encode("utf-16-le")
    result, checked = _read_and_validate("u.csv", data)
    assert result.encoding == "utf-16-le" and checked.n_accepted == 2


def test_nul_is_never_stored(store, settings):
    app = store.create_app("nul")["id"]
    data = b'{"text": "ok"}\n{"text": "bad \\u0000 escape"}\n{"text": "bad \x01 raw"}\n'
    row, report = create_version(store, settings, app, "nul", [("n.jsonl", data)])
    from studio.data.versions import version_folder

    stored = (version_folder(store, row) / "train.jsonl").read_text() + (
        version_folder(store, row) / "valid.jsonl"
    ).read_text()
    assert "\\u0000" not in stored and "\x00" not in stored and "\\u0001" not in stored
    assert report["n_rejected"] == 2


def test_an_object_of_no_known_shape_asks_for_the_mapping():
    with pytest.raises(DataError, match="Column mapping"):
        _read_and_validate("n.jsonl", b'{"n": 1}\n{"n": 2}\n')


def test_a_nested_cell_is_a_row_rejection_not_a_repr():
    data = b'{"text": "fine"}\n{"text": {"a": [1, 2]}}\n{"text": [1]}\n'
    result, checked = _read_and_validate("c.jsonl", data)
    assert [e.output for e in checked.examples] == ["fine"]
    assert all(r.reason.startswith("non-text cell") for r in checked.rejects)
    assert not any("{'a'" in e.output for e in checked.examples)


def test_a_nested_parquet_cell_is_a_row_rejection():
    pa = pytest.importorskip("pyarrow")
    import io

    import pyarrow.parquet as pq

    table = pa.table({"text": ["fine", "also fine"], "label": [{"a": 1}, {"a": 2}]})
    buf = io.BytesIO()
    pq.write_table(table, buf)
    result = read_bytes("p.parquet", buf.getvalue(), 1)
    from studio.data.shapes import ColumnMapping

    checked = validate_sources(
        [(result, ColumnMapping("sentence_label", input="text", output="label"))], 2000
    )
    assert checked.n_accepted == 0
    assert all(
        r.reason.startswith("non-text cell: column 'label' holds an object")
        for r in checked.rejects
    )
