"""results.json -> the page's tables and charts."""

from __future__ import annotations

import math

from studio.scoring.labels import classification_metrics
from studio.ui.views.evaluate_report import (
    batch_frame,
    confusion_html,
    per_label_frame,
    roc_frame,
    summary_markdown,
)


def results() -> dict:
    cls = classification_metrics(["a", "b", "a"], [[0.9, 0.1], [0.3, 0.7], [0.4, 0.6]], ["a", "b"])
    return {
        "n_examples": 3,
        "split": "valid",
        "has_base": True,
        "perplexity": {
            "tuned": {"perplexity": 3.5, "cross_entropy": math.log(3.5)},
            "base": {"perplexity": math.inf, "cross_entropy": 900.0},
        },
        "classification": {"tuned": cls, "base": cls},
        "batch": {
            "rows": [
                {
                    "prompt": "p",
                    "expected": "a",
                    "base_output": "x",
                    "tuned_output": "a",
                    "metric": "exact_match",
                    "base_score": 0.0,
                    "tuned_score": 1.0,
                }
            ]
        },
    }


def test_summary_side_by_side():
    md = summary_markdown(results())
    assert "| metric | tuned | base |" in md
    assert "| Perplexity (answer tokens) | 3.5 | ∞ |" in md
    assert "| Accuracy | 0.6667 | 0.6667 |" in md


def test_tables_and_charts():
    r = results()
    frame = per_label_frame(r)
    assert list(frame["label"]) == ["a", "b"] and frame["support"].tolist() == [2, 1]
    html = confusion_html(r)
    assert "<th>a</th>" in html and html.count("<tr>") == 3
    roc = roc_frame(r)
    assert set(roc["curve"]) == {
        f"a (AUC {r['classification']['tuned']['roc']['a']['auc']:.3f})",
        f"b (AUC {r['classification']['tuned']['roc']['b']['auc']:.3f})",
    }
    batch = batch_frame(r)
    assert list(batch.columns) == [
        "Prompt",
        "Expected",
        "Base output",
        "Tuned output",
        "Metric",
        "Base score",
        "Tuned score",
    ]  # readable headers (the CSV keeps its snake_case columns)
    assert batch.iloc[0]["Tuned output"] == "a" and batch.iloc[0]["Metric"] == "exact match"
    assert roc_frame({}).empty and confusion_html({}) == ""
