"""Prompt files, batch comparison rows and the CSV."""

from __future__ import annotations

import csv

import pytest

from studio.errors import DataError
from studio.evaluate.batch import compare, read_prompts, write_csv
from studio.evaluate.generation import greedy, prompt_text
from studio.evaluate.pair import load_pair
from tests.support.examples import news_sentiment
from tests.support.trained import make_trained_run


def test_read_prompts_txt_csv_jsonl(tmp_path):
    (tmp_path / "p.txt").write_text("first prompt\n\nsecond prompt\n")
    assert [e.input for e in read_prompts(tmp_path / "p.txt")] == ["first prompt", "second prompt"]
    (tmp_path / "p.csv").write_text("prompt,expected\nhow are you,fine\nhi,\n")
    rows = read_prompts(tmp_path / "p.csv")
    assert [(e.input, e.output) for e in rows] == [("how are you", "fine"), ("hi", "")]
    (tmp_path / "p.jsonl").write_text('{"prompt": "a", "answer": "b"}\n"just text"\n')
    rows = read_prompts(tmp_path / "p.jsonl")
    assert [(e.input, e.output) for e in rows] == [("a", "b"), ("just text", "")]


def test_read_prompts_errors(tmp_path):
    (tmp_path / "p.csv").write_text("question_x,expected\n,fine\n")
    with pytest.raises(DataError, match="row 2 has no prompt"):
        read_prompts(tmp_path / "p.csv")
    (tmp_path / "p.pdf").write_text("x")
    with pytest.raises(DataError, match=r"\.txt, \.csv or \.jsonl"):
        read_prompts(tmp_path / "p.pdf")
    (tmp_path / "bad.jsonl").write_text("{oops\n")
    with pytest.raises(DataError, match="line 1 is not JSON"):
        read_prompts(tmp_path / "bad.jsonl")


def test_compare_rows_and_csv(store, settings, tiny_causal_dir, tmp_path):
    run = make_trained_run(store, settings, tiny_causal_dir)
    pair = load_pair(run["run_dir"] / "adapter", settings)
    examples = news_sentiment()[:2]
    done = []
    rows = compare(pair, examples, max_new_tokens=5, use_exact_match=True, on_row=done.append)
    assert done == [1, 2]
    assert rows[0]["expected"] == "positive" and rows[0]["metric"] == "exact_match"
    prompt = prompt_text(examples[0], pair.tokenizer, pair.meta)
    assert rows[0]["prompt"] == prompt
    assert rows[0]["tuned_output"] == greedy(pair.tuned, pair.tokenizer, prompt, 5)
    with pair.base() as model:
        assert rows[0]["base_output"] == greedy(model, pair.tokenizer, prompt, 5)
    assert rows[0]["tuned_score"] in (0.0, 1.0)
    path = write_csv(rows, tmp_path / "b.csv")
    read = list(csv.DictReader(path.open()))
    assert read[1]["expected"] == "negative" and read[1]["prompt"] == rows[1]["prompt"]
    assert list(read[0]) == [
        "prompt",
        "expected",
        "base_output",
        "tuned_output",
        "metric",
        "base_score",
        "tuned_score",
    ]
