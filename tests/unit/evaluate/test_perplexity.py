"""Perplexity = exp(mean token cross-entropy on the answer tokens), tuned and base."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from studio.evaluate.pair import load_pair
from studio.evaluate.perplexity import perplexity, summarise
from studio.prompts import render
from tests.support.examples import news_sentiment
from tests.support.trained import make_trained_run


def manual_ce(model, tokenizer, examples) -> float:
    """Mean token CE over target tokens, one example at a time, with F.cross_entropy."""
    total, count = 0.0, 0
    for ex in examples:
        prompt, target = render(ex, "sections")
        p_ids = tokenizer(prompt)["input_ids"]
        t_ids = tokenizer(target, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
        ids = torch.tensor([p_ids + t_ids])
        with torch.no_grad():
            logits = model(input_ids=ids).logits[0]
        pred = logits[len(p_ids) - 1 : -1]
        total += F.cross_entropy(pred.float(), torch.tensor(t_ids), reduction="sum").item()
        count += len(t_ids)
    return total / count


@pytest.fixture
def pair(store, settings, tiny_causal_dir):
    run = make_trained_run(store, settings, tiny_causal_dir)
    return load_pair(run["run_dir"] / "adapter", settings)


def test_perplexity_matches_manual_cross_entropy(pair):
    examples = news_sentiment()
    got = perplexity(pair.tuned, pair.tokenizer, examples, pair.meta, batch_size=4)
    ce = manual_ce(pair.tuned, pair.tokenizer, examples)
    assert got["cross_entropy"] == pytest.approx(ce, rel=1e-4)
    assert got["perplexity"] == pytest.approx(math.exp(ce), rel=1e-4)
    assert got["n_examples"] == len(examples)


def test_base_is_the_adapter_disabled_and_differs(pair, tiny_causal_dir):
    from transformers import AutoModelForCausalLM

    examples = news_sentiment()
    tuned = perplexity(pair.tuned, pair.tokenizer, examples, pair.meta)
    with pair.base() as model:
        base = perplexity(model, pair.tokenizer, examples, pair.meta)
    plain = AutoModelForCausalLM.from_pretrained(tiny_causal_dir, dtype=torch.float32).eval()
    assert base["cross_entropy"] == pytest.approx(
        manual_ce(plain, pair.tokenizer, examples), rel=1e-4
    )
    assert abs(tuned["cross_entropy"] - base["cross_entropy"]) > 1e-3
    # The adapter is back on after the block.
    again = perplexity(pair.tuned, pair.tokenizer, examples, pair.meta)
    assert again["cross_entropy"] == pytest.approx(tuned["cross_entropy"], rel=1e-6)


def test_summarise_overflow_and_empty():
    assert summarise([(-1e6, 1)])["perplexity"] == math.inf
    assert math.isnan(summarise([])["cross_entropy"])
    s = summarise([(-2.0, 1), (-4.0, 3)])
    assert s["cross_entropy"] == pytest.approx(1.5)
    assert s["n_tokens"] == 4
