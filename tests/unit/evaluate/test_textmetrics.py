"""ROUGE / BLEU / exact match through the libraries."""

from __future__ import annotations

import pytest

from studio.evaluate.textmetrics import exact_match, text_metrics


def test_exact_match_normalises_case_and_space():
    assert exact_match("  Positive ", "positive") == 1.0
    assert exact_match("positive!", "positive") == 0.0


def test_text_metrics_perfect_and_partial():
    refs = ["the cat sat on the mat", "hello world"]
    perfect = text_metrics(refs, refs)
    assert perfect["rougeL"] == pytest.approx(1.0)
    assert perfect["bleu"] == pytest.approx(100.0)
    assert perfect["exact_match"] == 1.0
    partial = text_metrics(["the cat sat", "goodbye"], refs)
    assert 0 < partial["rouge1"] < 1
    assert partial["exact_match"] == 0.0
    assert partial["bleu"] < 100
    # ROUGE-L of "the cat sat" vs 6-token ref: LCS 3, P=1, R=0.5 -> F=2/3
    assert partial["per_row"][0]["rougeL"] == pytest.approx(2 / 3)


def test_empty():
    assert text_metrics([], [])["n"] == 0
