"""Readers: encodings, line endings, and every whole-file and per-row problem."""

from __future__ import annotations

import io
import json

import pytest

from studio.data.readers import decode_bytes, read_bytes, read_path
from studio.data.versions import pasted_source
from studio.errors import DataError


def read_pasted(text: str, max_upload_mb: int):
    """Pasted text read as the Inputs tab reads it: its format guessed from its content."""
    return read_bytes(*pasted_source(text), max_upload_mb)


LINE = "### Instruction: Sentiment? ### Human: Sales fell. ### Assistant: negative."
CSV = f'input.data.text.raw,input.data.concepts[*].id\n"{LINE}",\nplain text row,\n'


def read(name: str, data: bytes | str, max_mb: int = 5):
    return read_bytes(name, data.encode() if isinstance(data, str) else data, max_mb)


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32"])
def test_bom_and_utf16_files_just_work(encoding):
    result = read("data.csv", CSV.encode(encoding))
    assert result.columns == ["input.data.text.raw", "input.data.concepts[*].id"]
    assert [r.value["input.data.text.raw"] for r in result.rows] == [LINE, "plain text row"]


def test_mixed_line_endings_are_one_row_per_line():
    result = read("lines.txt", "one\r\ntwo\rthree\nfour")
    assert [r.value for r in result.rows] == ["one", "two", "three", "four"]
    assert [r.row for r in result.rows] == [1, 2, 3, 4]


def test_blank_lines_are_counted_not_rows():
    result = read("lines.txt", "one\n\n  \ntwo\n")
    assert len(result.rows) == 2 and result.n_blank == 2


@pytest.mark.parametrize("data", [b"", b"  \n\r\n"])
def test_empty_file(data):
    with pytest.raises(DataError, match="empty.csv is empty"):
        read("empty.csv", data)


def test_binary_file_named_csv():
    blob = bytes(range(256)) * 20
    with pytest.raises(DataError, match="looks binary"):
        read("photo.csv", blob)


def test_png_named_csv_says_what_it_is():
    with pytest.raises(DataError, match="a PNG image"):
        read("photo.csv", b"\x89PNG\r\n\x1a\n" + b"\x00" * 100)


def test_file_over_the_upload_limit(tmp_path):
    big = tmp_path / "big.txt"
    big.write_bytes(b"x" * (1024 * 1024 + 10))
    with pytest.raises(DataError, match=r"big.txt is 1.0 MB; the upload limit is 1 MB"):
        read_path(big, max_upload_mb=1)


def test_zip_is_refused_with_the_accepted_extensions():
    with pytest.raises(DataError, match=r"archive; unpack it .*\.csv, \.tsv"):
        read("data.zip", b"PK\x03\x04rest")


def test_zip_content_named_csv_is_refused():
    with pytest.raises(DataError, match="zip archive"):
        read("data.csv", b"PK\x03\x04rest")


def test_unknown_extension():
    with pytest.raises(DataError, match=r"\.docx cannot be read; upload one of: \.csv"):
        read("notes.docx", b"hello")


def test_ragged_csv_row_is_that_rows_error():
    result = read("r.csv", "prompt,completion\na,b\nc,d,e\nf,g\n")
    errors = [(r.row, r.error) for r in result.rows if r.error]
    assert errors == [
        (
            3,
            "ragged row: 3 fields where the header has 2; put text holding the "
            "delimiter in double quotes",
        )
    ]
    assert len(result.rows) == 3


def test_unclosed_quote_is_reported_on_its_line():
    result = read("q.csv", 'text\nok\n"never closed\nmore\n')
    assert result.rows[-1].row == 3 and "never closed" in result.rows[-1].error


def test_multiline_quoted_cell_keeps_its_newline_and_start_line():
    result = read("m.csv", 'prompt,completion\n"two\nlines",x\ny,z\n')
    assert result.rows[0].value["prompt"] == "two\nlines"
    assert [r.row for r in result.rows] == [2, 4]


def test_headerless_csv_of_section_text_gets_a_text_column():
    result = read("h.csv", f'"{LINE}"\n"{LINE.replace("fell", "rose")}"\n')
    assert result.columns == ["text"] and len(result.rows) == 2


def test_tsv():
    result = read("d.tsv", "sentence\tlabel\nGood day\tpositive\n")
    assert result.rows[0].value == {"sentence": "Good day", "label": "positive"}


def test_jsonl_with_one_broken_line():
    text = '{"text": "a"}\n{"text": "b"\n{"text": "c"}\n'
    result = read("d.jsonl", text)
    assert [r.row for r in result.rows] == [1, 2, 3]
    assert result.rows[1].error.startswith("wrong JSON: ")
    assert not result.rows[0].error and not result.rows[2].error


def test_json_array_and_data_wrapper():
    items = [{"prompt": "p", "completion": "c"}, {"prompt": "q", "completion": "d"}]
    assert len(read("a.json", json.dumps(items)).rows) == 2
    wrapped = read("w.json", json.dumps({"data": items}))
    assert wrapped.columns == ["prompt", "completion"] and wrapped.rows[1].row == 2


def test_invalid_json_file():
    with pytest.raises(DataError, match="not valid JSON"):
        read("a.json", '[{"text": ')


def test_parquet_with_messages(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table(
        {
            "messages": [
                [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]
            ]
        }
    )
    buf = io.BytesIO()
    pq.write_table(table, buf)
    result = read("chat.parquet", buf.getvalue())
    assert result.columns == ["messages"]
    assert result.rows[0].value["messages"][1] == {"role": "assistant", "content": "hello"}


def test_parquet_extension_on_text_is_refused():
    with pytest.raises(DataError, match="not a Parquet file"):
        read("x.parquet", "a,b\n")


def test_undecodable_bytes_survive_for_the_row_check():
    text, encoding = decode_bytes(b"good line\nbad \xff\xfe line\n", "x.txt")
    assert encoding == "utf-8" and "\udcff" in text


@pytest.mark.parametrize(
    "text,kind,n",
    [
        ('{"text": "a"}\n{"text": "b"}', "records", 2),
        ('[{"text": "a"}]', "records", 1),
        ("input.data.text.raw,input.data.concepts[*].id\nhello,\n", "table", 1),
        ("sentence\tlabel\nhi\tpos\n", "table", 1),
        (f"{LINE}\nplain\n", "lines", 2),
    ],
)
def test_pasted_text_format_is_guessed(text, kind, n):
    result = read_pasted(text, 5)
    assert (result.kind, len(result.rows)) == (kind, n)


@pytest.mark.parametrize(
    "text,columns,n",
    [
        ("prompt,completion\nhi,there\nyo,man", ["prompt", "completion"], 2),
        (
            'sentence,label\n"Sales fell, sadly",negative\nUp 5%,positive\n',
            ["sentence", "label"],
            2,
        ),
        ("文章,ラベル\n良い日,肯定\n", ["文章", "ラベル"], 1),
    ],
)
def test_pasted_csv_with_a_header_is_a_table(text, columns, n):
    result = read_pasted(text, 5)
    assert (result.kind, result.columns, len(result.rows)) == ("table", columns, n)
    assert result.rows[0].row == 2  # the header is line 1, not an example


@pytest.mark.parametrize(
    "text",
    [
        "Hello, world. I am here.\nAnother, sentence here.\n",
        "Sales rose, profits fell\nCosts rose, margins fell\n",
        "We met Anna, Bob and Carl.\nThen we left.\n",
        "Prices fell.,Shares rose.\nCosts rose.,Margins fell.\n",
    ],
)
def test_pasted_sentences_with_commas_stay_lines(text):
    result = read_pasted(text, 5)
    assert (result.kind, len(result.rows)) == ("lines", 2)


def test_pasted_multiline_json_object_and_array_are_json():
    obj = read_pasted(json.dumps({"prompt": "p", "completion": "c"}, indent=2), 5)
    assert (obj.kind, len(obj.rows), obj.rows[0].error) == ("records", 1, "")
    assert obj.rows[0].value == {"prompt": "p", "completion": "c"}
    wrapped = read_pasted(json.dumps({"data": [{"text": "a"}, {"text": "b"}]}, indent=2), 5)
    assert [r.value for r in wrapped.rows] == [{"text": "a"}, {"text": "b"}]
    array = read_pasted(json.dumps([{"text": "a"}, {"text": "b"}], indent=4), 5)
    assert [r.value for r in array.rows] == [{"text": "a"}, {"text": "b"}]
    assert not any(r.error for r in array.rows)


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_bom_of_non_ascii_text(encoding):
    text = "文章,ラベル\n" + "".join(
        f"今日は良い天気ですね、散歩に行きましょう{i},肯定\n" for i in range(40)
    )
    result = read("ja.csv", text.encode(encoding))
    assert result.encoding == encoding and result.columns == ["文章", "ラベル"]
    assert len(result.rows) == 40 and not any(r.error for r in result.rows)
    assert result.rows[0].value == {
        "文章": "今日は良い天気ですね、散歩に行きましょう0",
        "ラベル": "肯定",
    }


def test_zero_bytes_that_are_not_utf16_are_still_binary():
    with pytest.raises(DataError, match="looks binary"):
        read("zeros.txt", b"abc\x00\x00\x00\x00def\x00\x01\x02\x03" * 50)


@pytest.mark.parametrize(
    "name,data",
    [
        ("r.jsonl", '{"text": "a"}\n5\n{"text": "b"}'),
        ("r.json", '[{"text": "a"}, 5, {"text": "b"}]'),
    ],
)
def test_json_row_that_is_not_an_object_is_that_rows_error(name, data):
    result = read(name, data)
    assert [bool(r.error) for r in result.rows] == [False, True, False]
    assert (
        result.rows[1].error
        == 'wrong JSON: row 2 is a number, expected an object with keys like "text"'
    )
