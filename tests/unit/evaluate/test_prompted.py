"""Label scoring with each prompt run once, and perplexity rows with their shared prefix run
once per batch, give the plain path's numbers (one full row per example and label)."""

from __future__ import annotations

import pytest
import torch

from studio.scoring import grouped, labels, prompted
from studio.scoring.encode import encode
from studio.scoring.grouped import grouped_target_logprobs, shared_unlabelled_prefix
from studio.scoring.kvcache import common_prefix, continues_from_cache
from studio.scoring.labels import label_probabilities
from studio.scoring.logprobs import target_logprobs
from studio.vocab.examples import Example

INSTRUCTION = "Read the sentence and answer with its label: one of negative, neutral, positive."
SENTENCES = [
    "Profit rose 5% on strong sales",
    "The company cut 200 jobs",
    "The board meets on Tuesday to discuss the agenda for the next quarter and the year",
    "Net sales were flat",
    "Operating loss widened sharply",
    "Shares were unchanged",
    "A",
]
ANSWERS = ["positive", "negative", "neutral", "neutral", "negative", "neutral", "positive"]
LABELS = ["negative", "neutral", "positive"]


def _model(path, adapter: bool):
    from transformers import AutoModelForCausalLM

    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = AutoModelForCausalLM.from_pretrained(path)
        if adapter:
            from peft import LoraConfig, get_peft_model

            model = get_peft_model(model, LoraConfig(r=4, target_modules="all-linear"))
            for name, p in model.named_parameters():  # a trained-looking adapter, not B = 0
                if "lora_B" in name:
                    torch.nn.init.normal_(p, std=0.5)
    return model


def _examples() -> list[Example]:
    return [
        Example(instruction=INSTRUCTION, input=s, output=a)
        for s, a in zip(SENTENCES, ANSWERS, strict=True)
    ]


def _close(a, b, tol=1e-5):
    for row_a, row_b in zip(a, b, strict=True):
        assert row_a == pytest.approx(row_b, abs=tol)


@pytest.mark.parametrize("adapter", [False, True])
@pytest.mark.parametrize(
    "forms",
    [None, [" bad news", "neutral.", " good, quite clearly"]],  # one and several tokens
)
def test_prompt_once_gives_the_plain_probabilities(tiny_causal_dir, monkeypatch, adapter, forms):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_causal_dir)
    model = _model(tiny_causal_dir, adapter)
    assert continues_from_cache(model)
    calls = []
    real = prompted._score_batch
    monkeypatch.setattr(prompted, "_score_batch", lambda *a: calls.append(a[1]) or real(*a))
    meta = {"max_length": 128}
    ticks: list[int] = []
    once = label_probabilities(
        model, tok, _examples(), LABELS, meta, batch_size=3, forms=forms, on_batch=ticks.append
    )
    assert len(calls) == 3  # 7 prompts in batches of 3, each prompt once for all labels
    assert ticks[-1] == len(SENTENCES) * len(LABELS)  # progress counts (example, label) rows
    plain = label_probabilities(
        model, tok, _examples(), LABELS, meta, batch_size=3, forms=forms, prompt_once=False
    )
    assert len(calls) == 3  # the plain path ran every row whole
    _close(once, plain)
    assert all(sum(row) == pytest.approx(1.0) for row in once)


def test_a_prompt_cut_per_label_is_scored_whole(tiny_causal_dir):
    """max_length so short that the prompt is cut to make room for each label's tokens,
    differently per label: that example takes the plain path, the others the fast one."""
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_causal_dir)
    model = _model(tiny_causal_dir, False)
    forms = ["no", "maybe so, in a way, if you like", "yes"]
    examples = _examples()
    meta = {"max_length": 40}
    rows = [
        [
            encode(Example(**{**ex.__dict__, "output": f}), tok, {**meta, "add_eos": False})
            for f in forms
        ]
        for ex in examples
    ]
    split = [labels._prompt_and_targets(r) for r in rows]
    assert None in split and any(s is not None for s in split)
    once = label_probabilities(model, tok, examples, LABELS, meta, forms=forms, batch_size=4)
    plain = label_probabilities(
        model, tok, examples, LABELS, meta, forms=forms, batch_size=4, prompt_once=False
    )
    _close(once, plain)


@pytest.mark.parametrize("adapter", [False, True])
def test_grouped_rows_give_the_plain_sums_in_their_own_order(tiny_causal_dir, adapter):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_causal_dir)
    model = _model(tiny_causal_dir, adapter)
    rows = [encode(ex, tok, {"max_length": 128}) for ex in _examples()]
    rows.append(encode(Example(output="plain text learns every token"), tok, {"max_length": 64}))
    pad = tok.pad_token_id or 0
    plain = target_logprobs(model, rows, pad, "causal", batch_size=3)
    fast = grouped_target_logprobs(model, rows, pad, "causal", batch_size=3)
    assert [c for _, c in fast] == [c for _, c in plain]
    for (a, _), (b, _) in zip(fast, plain, strict=True):
        assert a == pytest.approx(b, rel=1e-5, abs=1e-4)


def test_the_shared_prefix_stops_before_the_first_predicted_label():
    rows = [
        {"input_ids": [1, 2, 3, 4, 5, 6, 7, 8], "labels": [-100] * 6 + [7, 8]},
        {"input_ids": [1, 2, 3, 4, 5, 6, 9], "labels": [-100] * 6 + [9]},
    ]
    # Tokens 1-6 are common; position 5 predicts the first label, so 5 tokens are shared.
    assert common_prefix([r["input_ids"] for r in rows]) == 6
    assert shared_unlabelled_prefix(rows) == 5
    assert shared_unlabelled_prefix(rows[:1]) == 0  # one row shares nothing
    early = [{"input_ids": r["input_ids"], "labels": [-100] * 3 + r["input_ids"][3:]} for r in rows]
    assert shared_unlabelled_prefix(early) == 0  # 2 tokens before a label: under MIN_PREFIX


def test_models_that_cannot_continue_from_a_cache_take_the_plain_path(
    tiny_causal_dir, tiny_seq2seq_dir, monkeypatch
):
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_causal_dir)
    model = _model(tiny_causal_dir, False)
    model.config._attn_implementation = "flex_attention"  # not a checked kernel

    def refuse(*args):
        raise AssertionError("the cached path was taken")

    monkeypatch.setattr(prompted, "_score_batch", refuse)
    monkeypatch.setattr(grouped, "_score_batch", refuse)
    assert not continues_from_cache(model)
    model.config._attn_implementation = "sdpa"
    model.activation_checkpointing_enable()
    assert not continues_from_cache(model)  # checkpointed layers drop the cache
    probs = label_probabilities(model, tok, _examples()[:2], LABELS, {"max_length": 64})
    assert len(probs) == 2
    s2s_tok = AutoTokenizer.from_pretrained(tiny_seq2seq_dir)
    s2s = AutoModelForSeq2SeqLM.from_pretrained(tiny_seq2seq_dir)
    meta = {"max_length": 32, "model_type": "seq2seq"}
    probs = label_probabilities(s2s, s2s_tok, _examples()[:2], LABELS, meta)
    assert len(probs) == 2 and all(sum(r) == pytest.approx(1.0) for r in probs)
