"""Tokenisation for training: response-only labels, truncation that keeps the answer, splits."""

from __future__ import annotations

import pytest

from studio.configs.runs import RunData, TrainRun
from studio.errors import ConfigError, DataError
from studio.scoring.encode import IGNORE, encode
from studio.train.config import check_rejected_share
from studio.train.data import load_splits
from studio.vocab.examples import STYLE_PLAIN, Example
from tests.support.examples import word_sentiment, write_jsonl
from tests.support.runs import write_run


@pytest.fixture(scope="module")
def tok(tiny_causal_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_causal_dir)


TOK = {"max_length": 64, "prompt_format": "sections", "add_eos": True}
EX = Example(instruction="Classify.", input="good day", output="positive")


def test_response_only_masks_the_prompt_and_ends_with_eos(tok):
    row = encode(EX, tok, TOK)
    learned = [t for t, lab in zip(row["input_ids"], row["labels"], strict=True) if lab != IGNORE]
    assert tok.decode(learned) == " positive" + tok.eos_token
    assert row["labels"][0] == IGNORE and row["input_ids"][-1] == tok.eos_token_id
    full = encode(EX, tok, TOK, response_only=False)
    assert full["labels"] == full["input_ids"]


def test_long_prompt_is_cut_in_the_middle_and_the_target_kept(tok):
    long = Example(instruction="Classify.", input="word " * 300, output="negative")
    row = encode(long, tok, {**TOK, "max_length": 48})
    assert len(row["input_ids"]) == 48
    text = tok.decode(row["input_ids"])
    assert text.startswith("### Instruction: Classify.") and "### Assistant: negative" in text


def test_plain_text_learns_every_token_and_seq2seq_splits_source_and_target(tok):
    plain = encode(Example(output="bees make honey", style=STYLE_PLAIN), tok, TOK)
    assert IGNORE not in plain["labels"]
    s2s = encode(EX, tok, TOK, model_type="seq2seq")
    assert tok.decode(s2s["labels"]) == " positive" + tok.eos_token
    assert "### Human: good day" in tok.decode(s2s["input_ids"])


def test_resplit_uses_the_seed_and_share(tmp_path):
    train = write_jsonl(tmp_path / "train.jsonl", word_sentiment(18))
    valid = write_jsonl(tmp_path / "valid.jsonl", word_sentiment(2, seed=1))
    data = RunData(train=str(train), valid=str(valid), resplit=True)
    a, b = load_splits(data, 25, 3), load_splits(data, 25, 3)
    # 25 % of 20, rounded per label as a version split is: 5 or 6 held out; repeatable.
    assert len(a[0]) + len(a[1]) == 20 and len(a[1]) in (5, 6) and a == b
    with pytest.raises(DataError, match="no examples"):
        load_splits(RunData(train=str(tmp_path / "missing.jsonl")), 10, 42)


def test_config_problems_are_reported_together(tmp_path, settings):
    run = write_run(tmp_path / "run", {"model_type": "rnn", "method": "lora", "data": {}})
    with pytest.raises(ConfigError) as err:
        TrainRun.from_json(run / "config.json").to_dict()
    assert len(err.value.problems) == 4  # type, base model, data.train, LoRA settings


def test_rejected_share_over_tolerance(tmp_path, settings):
    data = RunData(train="train.jsonl", version_id="v1", n_rows=50, n_rejected=5)
    check_rejected_share(data, 10)  # exactly 10%: fine
    with pytest.raises(DataError, match=r"^12.0% of the rows of .* \(6 of 50\), over the 10% tol"):
        check_rejected_share(RunData(train="t", version_id="v1", n_rows=50, n_rejected=6), 10)


def test_resplit_is_stratified_like_a_version_split(tmp_path):
    from collections import Counter

    from studio.data.stats import normalise_label

    rows = [
        Example(instruction="Sentiment?", input=f"sentence {i}", output=label)
        for i, label in enumerate(["positive"] * 12 + ["negative"] * 6 + ["neutral"] * 6)
    ]
    train = write_jsonl(tmp_path / "train.jsonl", rows[:22])
    valid = write_jsonl(tmp_path / "valid.jsonl", rows[22:])  # both neutral: a skewed split
    data = RunData(train=str(train), valid=str(valid), resplit=True)
    _, held_out = load_splits(data, 25, 0)
    counts = Counter(normalise_label(e.output) for e in held_out)
    # Every label is held out in proportion (3 : 1.5 : 1.5 of 6), not whatever a shuffle gives.
    assert set(counts) == {"positive", "negative", "neutral"} and counts["positive"] >= 2
