"""Streamed == non-streamed tokens, seeded sampling streamed or not, the precision choice."""

from __future__ import annotations

import pytest

from studio.generate.options import GenerationOptions, OptionsError
from studio.generate.prompting import PromptInput

torch = pytest.importorskip("torch")
PROMPT = PromptInput(mode="text", text="The quick brown fox jumps over the lazy dog and")


@pytest.fixture
def base_ref(tiny_causal_dir):
    return f"base:{tiny_causal_dir}"


def test_streamed_tokens_equal_the_non_streamed_and_plain_generate(engine, base_ref):
    opts = GenerationOptions(max_new_tokens=20, min_new_tokens=20)
    updates = list(engine.generate_stream(base_ref, PROMPT, opts))
    whole = engine.generate(base_ref, PROMPT, opts)
    assert len([u for u in updates if u.status == "generating"]) >= 10  # really streamed
    assert updates[-1].text == whole.text and updates[-1].new_tokens == whole.new_tokens == 20
    assert updates[-1].engine == whole.engine == "exact (fp32)"

    p = engine.prepare(engine.spec(base_ref), PROMPT, opts)
    ids = p.input_ids
    plain = p.entry.model.generate(
        input_ids=ids,
        attention_mask=torch.ones_like(ids),
        max_new_tokens=20,
        min_new_tokens=20,
        do_sample=False,
        pad_token_id=0,
        temperature=None,
        top_p=None,
        top_k=None,
    )
    expected = p.tokenizer.decode(plain[0, ids.shape[1] :], skip_special_tokens=True)
    assert whole.text == expected


def test_seeded_sampling_is_the_same_streamed_or_not(engine, base_ref):
    opts = GenerationOptions(strategy="sample", seed=7, max_new_tokens=16, temperature=1.0)
    streamed = list(engine.generate_stream(base_ref, PROMPT, opts))[-1]
    assert streamed.text == engine.generate(base_ref, PROMPT, opts).text


def test_precision_must_be_fast_or_exact():
    with pytest.raises(OptionsError) as err:
        GenerationOptions(precision="turbo").validate()
    assert err.value.fields == ["precision"]
