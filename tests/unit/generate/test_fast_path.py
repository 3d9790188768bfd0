"""Streamed == non-streamed tokens, the fast (int4) copy of tuned models, precision choice."""

from __future__ import annotations

import os
from pathlib import Path

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


def test_fast_copy_of_a_tuned_model_is_built_once_and_rebuilt_when_it_changes(engine, tuned_job):
    _, job_id = tuned_job
    ref = f"job:{job_id}"
    fast = GenerationOptions(max_new_tokens=8, precision="fast")
    first = engine.generate(ref, PROMPT, fast)
    assert first.engine == "fast (int4)" and first.new_tokens >= 1
    engine.generate(ref, PROMPT, fast)
    assert engine._fast.builds == 1  # cached
    adapter = Path(engine.spec(ref).adapter_dir) / "adapter_model.safetensors"
    stat = adapter.stat()
    os.utime(adapter, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # "retrained"
    engine.generate(ref, PROMPT, fast)
    assert engine._fast.builds == 2
    exact = engine.generate(ref, PROMPT, GenerationOptions(max_new_tokens=8))
    assert exact.engine == "exact (fp32)"


def test_fast_copy_of_a_tuned_model_keeps_the_adapter_apart_and_exact(engine, tuned_job):
    """The fast copy quantizes only the base layers: the adapter's change to the answer is
    kept as the tuned model makes it (merging it into int4 weights would round it away)."""
    from studio.generate.fast import LoraOnTop, adapted_copy, fast_copy

    _, job_id = tuned_job
    spec = engine.spec(f"job:{job_id}")
    p = engine.prepare(spec, PROMPT, GenerationOptions())
    from studio.models.loading import load_model

    base = load_model(spec.base_ref, engine.settings).eval()
    adapted = adapted_copy(base, spec.adapter_dir)
    assert any(isinstance(m, LoraOnTop) for m in adapted.modules())
    with torch.inference_mode(), engine._using(p):
        tuned_logits = p.entry.model(p.input_ids).logits[0, -1]
    with torch.inference_mode():
        adapted_logits = adapted(p.input_ids).logits[0, -1]
        base_logits = base(p.input_ids).logits[0, -1]
        fast_tuned = fast_copy(adapted)(p.input_ids).logits[0, -1]
        fast_base = fast_copy(base)(p.input_ids).logits[0, -1]
    assert torch.allclose(adapted_logits, tuned_logits, atol=1e-4)
    change = tuned_logits - base_logits
    assert change.abs().max() > 1e-3  # the adapter matters
    # The fast copies share their quantized base: the adapter's change survives in them
    # (0.13 here; merging the adapter into the int4 weights gave 0.25).
    fast_change = fast_tuned - fast_base
    assert float((fast_change - change).norm() / change.norm()) < 0.18


def test_precision_must_be_fast_or_exact():
    with pytest.raises(OptionsError) as err:
        GenerationOptions(precision="turbo").validate()
    assert err.value.fields == ["precision"]
