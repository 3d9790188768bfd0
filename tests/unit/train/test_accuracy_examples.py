"""studio.accuracy_examples: how many validation examples the accuracy during training scores
(0: none); a hand-written run config or the page's studio section sets it."""

from __future__ import annotations

from studio.configs.runs import TrainRun
from studio.train.accuracy import LabelAccuracy
from tests.support.examples import news_sentiment


def _run(tmp_path, **studio) -> TrainRun:
    train = tmp_path / "train.jsonl"
    train.write_text("{}\n")
    config = {"model_type": "causal", "method": "full", "base_model": "m", "studio": studio}
    return TrainRun.from_dict({**config, "data": {"train": str(train)}})


def test_the_accuracy_scores_at_most_the_examples_the_setting_allows(tmp_path):
    rows = news_sentiment()
    assert _run(tmp_path).studio.accuracy_examples == 100  # the table's default
    scorer = LabelAccuracy.for_run(rows, rows, None, _run(tmp_path))
    assert len(scorer.examples) == 6 and len(scorer.labels) == 3
    assert (
        len(LabelAccuracy.for_run(rows, rows, None, _run(tmp_path, accuracy_examples=2)).examples)
        == 2
    )
    assert LabelAccuracy.for_run(rows, rows, None, _run(tmp_path, accuracy_examples=0)) is None
