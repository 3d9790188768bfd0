"""Scoring projects only the labelled positions onto the vocabulary, with the same sums as
the full logits (a causal model that takes a position mask; seq2seq keeps the full path)."""

from __future__ import annotations

import pytest
import torch

from studio.scoring import logprobs
from studio.scoring.encode import encode
from studio.vocab.examples import Example


def _rows(tokenizer):
    examples = [
        Example(instruction="Answer with a label.", input="The profit rose 5%", output="positive"),
        Example(input="Sales fell", output="negative outcome here"),
        Example(input="A much longer sentence about the quarter and its flat result", output="x"),
        Example(output="plain text learns every token"),
    ]
    cfg = {"max_length": 64}
    return [encode(ex, tokenizer, cfg) for ex in examples]


def _full(model, rows, pad, monkeypatch):
    with monkeypatch.context() as m:
        m.setattr(logprobs, "keeps_positions", lambda model: False)
        return logprobs.target_logprobs(model, rows, pad, "causal", batch_size=3)


@pytest.mark.parametrize("adapter", [False, True])
def test_kept_positions_give_the_full_sums(tiny_causal_dir, monkeypatch, adapter):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_causal_dir)
    # The test's own random numbers stay its own: later tests train with the global ones.
    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = AutoModelForCausalLM.from_pretrained(tiny_causal_dir)
        if adapter:
            from peft import LoraConfig, get_peft_model

            model = get_peft_model(model, LoraConfig(r=4, target_modules="all-linear"))
            for name, p in model.named_parameters():  # a trained-looking adapter, not B = 0
                if "lora_B" in name:
                    torch.nn.init.normal_(p, std=0.5)
    rows = _rows(tok)
    pad = tok.pad_token_id or 0
    assert logprobs.keeps_positions(model)
    calls = []
    kept = logprobs._kept_logprobs
    monkeypatch.setattr(logprobs, "_kept_logprobs", lambda *a: calls.append(1) or kept(*a))
    fast = logprobs.target_logprobs(model, rows, pad, "causal", batch_size=3)
    assert calls, "the kept-position path was not taken"
    full = _full(model, rows, pad, monkeypatch)
    assert (
        [c for _, c in fast]
        == [c for _, c in full]
        == [sum(1 for x in r["labels"][1:] if x != -100) for r in rows]
    )
    for (a, _), (b, _) in zip(fast, full, strict=True):
        assert a == pytest.approx(b, rel=1e-5, abs=1e-4)


def test_models_without_a_position_mask_and_seq2seq_take_the_full_path(
    tiny_causal_dir, tiny_seq2seq_dir, monkeypatch
):
    from transformers import AutoModelForCausalLM, AutoModelForSeq2SeqLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_causal_dir)
    inner = AutoModelForCausalLM.from_pretrained(tiny_causal_dir)

    class NoMask(torch.nn.Module):  # a causal model whose forward takes no logits_to_keep
        def __init__(self):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids=None, attention_mask=None):
            return self.inner(input_ids=input_ids, attention_mask=attention_mask)

    def refuse(*args):
        raise AssertionError("the kept-position path was taken")

    rows, pad = _rows(tok), tok.pad_token_id or 0
    want = logprobs.target_logprobs(inner, rows, pad, "causal", batch_size=3)
    monkeypatch.setattr(logprobs, "_kept_logprobs", refuse)
    assert not logprobs.keeps_positions(NoMask())
    got = logprobs.target_logprobs(NoMask(), rows, pad, "causal", batch_size=3)
    assert [c for _, c in got] == [c for _, c in want]
    for (a, _), (b, _) in zip(got, want, strict=True):
        assert a == pytest.approx(b, rel=1e-5, abs=1e-4)
    s2s_tok = AutoTokenizer.from_pretrained(tiny_seq2seq_dir)
    s2s = AutoModelForSeq2SeqLM.from_pretrained(tiny_seq2seq_dir)
    s2s_rows = [encode(Example(input="in", output="out"), s2s_tok, {"max_length": 16}, "seq2seq")]
    ((total, count),) = logprobs.target_logprobs(s2s, s2s_rows, s2s_tok.pad_token_id, "seq2seq")
    assert count == len(s2s_rows[0]["labels"]) and total < 0
