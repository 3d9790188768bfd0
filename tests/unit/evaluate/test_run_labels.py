"""Classification evaluation on answers written as real data writes them ("neutral.")."""

from __future__ import annotations

import pytest

from studio.actions.start_evaluation import build_eval_config
from studio.evaluate.pair import load_pair
from studio.evaluate.run import evaluate
from studio.jobs.trained import trained_model
from studio.scoring.labels import (
    classification_metrics,
    infer_labels,
    label_probabilities,
    written_forms,
)
from tests.support.examples import LABELS, news_sentiment
from tests.support.trained import make_trained_run


def test_raw_answers_do_not_match_normalised_labels():
    """The failure the normalisation prevents: sklearn refuses the stats' label set."""
    with pytest.raises(ValueError, match="At least one label"):
        classification_metrics(
            ["neutral.", "Positive."], [[0.5, 0.5], [0.5, 0.5]], ["neutral", "positive"]
        )


def test_infer_labels_and_written_forms_normalise():
    examples = news_sentiment(written=True)
    assert infer_labels(examples) == list(LABELS)
    assert written_forms(examples, list(LABELS)) == ["negative.", "neutral.", "Positive."]
    assert written_forms(examples[:1], ["positive", "unseen"]) == ["Positive.", "unseen"]


def test_evaluate_classification_on_written_answers(store, settings, tiny_causal_dir, tmp_path):
    run = make_trained_run(store, settings, tiny_causal_dir, news_sentiment(written=True))
    cfg = build_eval_config(
        store, settings, trained_model(store, run["job_id"]), metrics=["classification"]
    )
    assert cfg["labels"] == list(LABELS)  # normalised, as the dataset stats list them
    run_dir = tmp_path / "eval"
    run_dir.mkdir()
    results = evaluate(run_dir, cfg)
    cls = results["classification"]
    for name in ("tuned", "base"):
        assert cls[name]["labels"] == list(LABELS) and cls[name]["n"] == 6
        assert 0 <= cls[name]["accuracy"] <= 1
        assert sum(row["support"] for row in cls[name]["per_label"]) == 6
        assert set(cls[name]["roc"]) == set(LABELS)  # every label occurs: AUC for each


def test_label_scores_use_the_written_form(store, settings, tiny_causal_dir):
    """Scoring "Positive." (as trained) differs from scoring the bare label "positive"."""
    examples = news_sentiment(written=True)[:2]
    run = make_trained_run(store, settings, tiny_causal_dir, examples)
    pair = load_pair(run["run_dir"] / "adapter", settings)
    labels = ["negative", "positive"]
    args = (pair.tuned, pair.tokenizer, examples, labels, pair.meta)
    default = label_probabilities(*args)
    assert default == label_probabilities(*args, forms=["negative.", "Positive."])
    assert default != label_probabilities(*args, forms=labels)
