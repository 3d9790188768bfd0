"""results.json -> the page's tables and charts."""

from __future__ import annotations

import math

from studio.scoring.labels import classification_metrics
from studio.ui.evaluate.report import (
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


def test_a_tiny_set_and_a_label_never_answered_are_called_out():
    from studio.ui.evaluate.report import classification_warnings, wilson_interval

    labels = ["negative", "neutral", "positive"]
    truth = ["neutral", "positive", "negative", "neutral", "positive", "negative"]
    perfect = classification_metrics(
        truth, [[float(t == lb) for lb in labels] for t in truth], labels
    )
    [tiny] = classification_warnings(perfect)
    assert perfect["accuracy"] == 1.0
    assert "Only 6 examples" in tiny and "from 0.61 to 1.00" in tiny
    low, high = wilson_interval(0.5, 100)
    assert 0.40 < low < 0.41 and 0.59 < high < 0.60
    # "positive" ranks first among its examples (AUC 1) but never wins the argmax.
    probs = [
        [0.1, 0.8, 0.1],  # neutral
        [0.1, 0.5, 0.4],  # positive: answered "neutral"
        [0.8, 0.1, 0.1],  # negative
        [0.1, 0.8, 0.1],  # neutral
        [0.45, 0.2, 0.35],  # positive: answered "negative"
        [0.8, 0.1, 0.1],  # negative
    ] * 6
    leaning = classification_metrics(truth * 6, probs, labels)
    warnings = classification_warnings(leaning)
    never = [w for w in warnings if "never answers “positive”" in w]
    assert len(never) == 1 and "recall 0 on its 12 examples" in never[0]
    assert "AUC 1.00" in never[0]
    assert not any("Only" in w for w in warnings)  # 36 examples
    assert "never answers" in summary_markdown(
        {"n_examples": 36, "classification": {"tuned": leaning}}
    )
