"""Validation: each rejection reason, counts, and duplicates across files."""

from __future__ import annotations

import json

from studio.data.readers import read_bytes
from studio.data.shapes import detect_mapping
from studio.data.validate import reason_kind, validate_source, validate_sources

OK = "### Instruction: Sentiment? ### Human: {} ### Assistant: positive."


def check(name: str, data: bytes | str, max_chars: int = 20000):
    result = read_bytes(name, data.encode() if isinstance(data, str) else data, 5)
    return validate_source(result, detect_mapping(result), max_chars)


def kinds(out) -> dict[int, str]:
    return {r.row: reason_kind(r.reason) for r in out.rejects}


def test_every_reason_in_one_text_file():
    lines = [
        OK.format("fine"),  # 1 accepted
        "### Instruction: x ### Human: y",  # 2 no target
        "### Instruction: x ### Topic: y ### Assistant: z",  # 3 unknown section
        "### Human: a ### Human: b ### Assistant: c",  # 4 duplicated section
        OK.format("fine"),  # 5 duplicate example
        OK.format("x" * 300),  # 6 too long (limit 200)
        "### Instruction: x ### Assistant:",  # 7 no target (empty answer)
        "plain text line",  # 8 accepted
    ]
    out = check("all.txt", "\n".join(lines), max_chars=200)
    assert kinds(out) == {
        2: "no_target",
        3: "unknown_section",
        4: "duplicated_section",
        5: "duplicate",
        6: "too_long",
        7: "no_target",
    }
    assert out.counts() == {
        "n_rows": 8,
        "n_accepted": 2,
        "n_rejected": 6,
        "n_duplicates": 1,
        "n_blank": 0,
    }
    dup = next(r for r in out.rejects if r.row == 5)
    assert dup.reason == "duplicate example: same as row 1 of all.txt"
    assert "limit is 200" in next(r.reason for r in out.rejects if r.row == 6)


def test_empty_text_cell():
    out = check("e.csv", 'text,other\n"   ",x\nhello,y\n')
    assert kinds(out) == {2: "empty"} and out.n_accepted == 1


def test_undecodable_bytes_row():
    out = check("u.txt", b"good line\nbad \xff line\nanother good line\n")
    assert kinds(out) == {2: "undecodable"}
    assert "\ufffd" in out.rejects[0].text  # shown with a replacement character


def test_wrong_json_line_and_non_object():
    data = "\n".join([json.dumps({"text": "a"}), '{"text": ', json.dumps({"text": "b"})])
    out = check("w.jsonl", data)
    assert kinds(out) == {2: "wrong_json"} and out.n_accepted == 2


def test_ragged_csv_row():
    out = check("r.csv", "prompt,completion\na,b\nc,d,e\n")
    assert kinds(out) == {3: "ragged"} and out.n_accepted == 1


def test_alpaca_without_output():
    out = check("a.jsonl", json.dumps({"instruction": "Say hi", "input": "", "output": ""}))
    assert kinds(out) == {1: "no_target"}


def test_duplicates_across_files_are_found():
    a = read_bytes("a.txt", OK.format("same").encode(), 5)
    b = read_bytes("b.txt", ("other\n" + OK.format("same")).encode(), 5)
    out = validate_sources([(a, detect_mapping(a)), (b, detect_mapping(b))], 20000)
    assert out.n_accepted == 2 and out.n_duplicates == 1
    assert out.rejects[0].source == "b.txt" and "row 1 of a.txt" in out.rejects[0].reason


def test_blank_lines_are_counted_not_rejected():
    out = check("b.txt", "one\n\n\ntwo\n")
    assert out.n_blank == 2 and out.n_rejected == 0 and out.n_accepted == 2


def test_json_rows_that_are_not_objects_are_rejected_not_a_crash():
    for name, data in (
        ("n.jsonl", '{"text": "a"}\n5\n{"text": "b"}\n[1]\nnull'),
        ("n.json", '[{"text": "a"}, 5, {"text": "b"}, [1], null]'),
    ):
        out = check(name, data)
        assert kinds(out) == {2: "wrong_json", 4: "wrong_json", 5: "wrong_json"}
        assert out.n_accepted == 2 and out.n_rows == 5
        reasons = [r.reason for r in out.rejects]
        assert reasons[0].startswith("wrong JSON: row 2 is a number, expected an object")
        assert "row 4 is an array" in reasons[1] and "row 5 is null" in reasons[2]


def test_clarifai_concepts_are_learned_not_dropped():
    out = check(
        "c.csv",
        "input.data.text.raw,input.data.concepts[*].id\n"
        "Sales fell.,negative\nSales rose.,positive\nSales rose.,positive\n",
    )
    assert [ex.output for ex in out.examples] == ["negative", "positive"]
    assert kinds(out) == {4: "duplicate"}
