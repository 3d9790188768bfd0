"""Classification metrics against hand-computed values, and label probabilities."""

from __future__ import annotations

import pytest

from studio.evaluate.pair import load_pair
from studio.scoring.labels import (
    classification_metrics,
    infer_labels,
    label_probabilities,
)
from studio.vocab.examples import Example
from tests.support.examples import LABELS, news_sentiment
from tests.support.trained import make_trained_run

LABELS2 = ["neg", "pos"]


def test_binary_metrics_by_hand():
    y_true = ["pos", "pos", "neg", "neg", "pos"]
    # P(pos) = 0.9, 0.4, 0.35, 0.8, 0.7 -> predicted pos, neg, neg, pos, pos
    probs = [[0.1, 0.9], [0.6, 0.4], [0.65, 0.35], [0.2, 0.8], [0.3, 0.7]]
    m = classification_metrics(y_true, probs, LABELS2)
    assert m["predictions"] == ["pos", "neg", "neg", "pos", "pos"]
    assert m["accuracy"] == pytest.approx(3 / 5)
    # confusion rows = true (neg, pos), cols = predicted
    assert m["confusion"] == [[1, 1], [1, 2]]
    pos = next(r for r in m["per_label"] if r["label"] == "pos")
    neg = next(r for r in m["per_label"] if r["label"] == "neg")
    assert pos["precision"] == pytest.approx(2 / 3)
    assert pos["recall"] == pytest.approx(2 / 3)
    assert pos["f1"] == pytest.approx(2 / 3)
    assert neg["precision"] == pytest.approx(1 / 2)
    assert neg["recall"] == pytest.approx(1 / 2)
    assert neg["support"] == 2 and pos["support"] == 3
    # AUC(pos): pairs (pos score, neg score): pos {0.9,0.4,0.7}, neg {0.35,0.8}
    # 0.9>0.35 ✓ 0.9>0.8 ✓ 0.4>0.35 ✓ 0.4<0.8 ✗ 0.7>0.35 ✓ 0.7<0.8 ✗ -> 4/6
    assert pos["auc"] == pytest.approx(4 / 6)
    assert m["roc"]["pos"]["auc"] == pytest.approx(4 / 6)
    assert m["roc"]["pos"]["fpr"][0] == 0.0 and m["roc"]["pos"]["tpr"][-1] == 1.0
    assert m["macro_f1"] == pytest.approx((2 / 3 + 1 / 2) / 2)


def test_auc_is_none_when_a_label_never_occurs():
    m = classification_metrics(["a", "a"], [[0.9, 0.1], [0.2, 0.8]], ["a", "b"])
    assert m["per_label"][1]["auc"] is None and "b" not in m["roc"]
    assert m["per_label"][0]["auc"] is None  # 'a' has no negatives either


def test_infer_labels():
    ex = [Example(output=o) for o in ["pos", "neg", "pos", "neg", "pos"]]
    assert infer_labels(ex) == ["neg", "pos"]
    free = [Example(output=f"answer number {i}") for i in range(10)]
    assert infer_labels(free) == []


def test_label_probabilities_sum_to_one_and_follow_the_adapter(store, settings, tiny_causal_dir):
    run = make_trained_run(store, settings, tiny_causal_dir)
    pair = load_pair(run["run_dir"] / "adapter", settings)
    examples = news_sentiment()[:3]
    probs = label_probabilities(pair.tuned, pair.tokenizer, examples, list(LABELS), pair.meta)
    assert len(probs) == 3 and all(len(p) == 3 for p in probs)
    assert all(sum(p) == pytest.approx(1.0) for p in probs)
    with pair.base() as model:
        base = label_probabilities(model, pair.tokenizer, examples, list(LABELS), pair.meta)
    assert any(
        abs(a - b) > 1e-4
        for pa, pb in zip(probs, base, strict=True)
        for a, b in zip(pa, pb, strict=True)
    )
