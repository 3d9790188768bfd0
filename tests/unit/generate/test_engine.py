"""Every strategy on the tiny model: outputs exist and respect their parameters."""

from __future__ import annotations

import pytest

from studio.errors import StudioError
from studio.generate.options import GenerationOptions, OptionsError
from studio.generate.prompting import PromptInput

PROMPT = PromptInput(mode="text", text="The quick brown fox jumps over the lazy dog and")


@pytest.fixture
def base_ref(tiny_causal_dir):
    return f"base:{tiny_causal_dir}"


def gen(engine, ref, **opts):
    return engine.generate(ref, PROMPT, GenerationOptions(**opts))


def test_greedy_respects_max_new_tokens_and_is_deterministic(engine, base_ref):
    a = gen(engine, base_ref, max_new_tokens=7, min_new_tokens=7)
    b = gen(engine, base_ref, max_new_tokens=7, min_new_tokens=7)
    assert a.new_tokens == 7 and a.text
    assert a.text == b.text
    assert a.finish_reason == "length"
    assert gen(engine, base_ref, max_new_tokens=3, min_new_tokens=3).new_tokens == 3


def test_seeded_sampling_repeats_and_differs_across_seeds(engine, base_ref):
    same = [
        gen(
            engine,
            base_ref,
            strategy="sample",
            temperature=1.5,
            seed=7,
            max_new_tokens=12,
            min_new_tokens=12,
        ).text
        for _ in range(2)
    ]
    other = gen(
        engine,
        base_ref,
        strategy="sample",
        temperature=1.5,
        seed=8,
        max_new_tokens=12,
        min_new_tokens=12,
    ).text
    assert same[0] == same[1]
    assert other != same[0]


def test_sampling_params_top_k_1_equals_greedy(engine, base_ref):
    greedy = gen(engine, base_ref, max_new_tokens=8, min_new_tokens=8).text
    topk1 = gen(
        engine,
        base_ref,
        strategy="sample",
        top_k=1,
        temperature=2.0,
        seed=3,
        max_new_tokens=8,
        min_new_tokens=8,
    ).text
    assert topk1 == greedy
    for extra in ({"top_p": 0.5}, {"typical_p": 0.5}, {"min_p": 0.1}):
        out = gen(engine, base_ref, strategy="sample", seed=1, max_new_tokens=5, **extra)
        assert 1 <= out.new_tokens <= 5


def test_num_return_sequences_sample_and_beam(engine, base_ref):
    s = gen(
        engine,
        base_ref,
        strategy="sample",
        num_return_sequences=3,
        seed=2,
        temperature=1.5,
        max_new_tokens=10,
        min_new_tokens=10,
    )
    assert len(s.texts) == 3 and len(set(s.texts)) > 1
    b = gen(
        engine, base_ref, strategy="beam", num_beams=4, num_return_sequences=2, max_new_tokens=6
    )
    assert len(b.texts) == 2 and b.texts[0] != b.texts[1]


def test_stop_sequence_trims(engine, base_ref):
    full = gen(engine, base_ref, max_new_tokens=20, min_new_tokens=20).text
    stop = full[4:7]  # a string that greedy decoding is known to produce
    assert stop.strip()
    out = gen(engine, base_ref, max_new_tokens=20, min_new_tokens=0, stop=[stop])
    assert stop not in out.text
    assert full.startswith(out.text) and len(out.text) < len(full)
    assert out.finish_reason == "stop"
    streamed = list(
        engine.generate_stream(base_ref, PROMPT, GenerationOptions(max_new_tokens=20, stop=[stop]))
    )
    assert streamed[-1].text == out.text


def test_contrastive_and_assisted_produce_output(engine, base_ref, tuned_job):
    greedy = gen(engine, base_ref, max_new_tokens=8, min_new_tokens=8).text
    c0 = gen(
        engine,
        base_ref,
        strategy="contrastive",
        penalty_alpha=0.0,
        contrastive_top_k=4,
        max_new_tokens=8,
        min_new_tokens=8,
    )
    assert c0.text == greedy  # alpha 0 is greedy: the implementation decodes correctly
    c = gen(
        engine,
        base_ref,
        strategy="contrastive",
        penalty_alpha=0.9,
        contrastive_top_k=6,
        max_new_tokens=8,
    )
    assert 1 <= c.new_tokens <= 8 and c.text
    a = gen(engine, base_ref, strategy="assisted", max_new_tokens=8, min_new_tokens=8)
    assert a.text == greedy  # speculative decoding must not change greedy output
    tuned = f"job:{tuned_job[1]}"
    t_greedy = gen(engine, tuned, max_new_tokens=8, min_new_tokens=8).text
    t_assist = gen(
        engine, tuned, strategy="assisted", assistant="base", max_new_tokens=8, min_new_tokens=8
    ).text
    assert t_assist == t_greedy


def test_streaming_yields_several_chunks_with_stats(engine, base_ref):
    updates = list(
        engine.generate_stream(
            base_ref, PROMPT, GenerationOptions(max_new_tokens=12, min_new_tokens=12)
        )
    )
    assert updates[0].status == "loading" and "Loading" in updates[0].message
    texts = [u.text for u in updates if u.status == "generating"]
    assert len(set(texts)) >= 3
    last = updates[-1]
    assert last.status == "done" and last.new_tokens == 12
    assert last.ttft is not None and last.ttft > 0 and last.tokens_per_s > 0
    assert last.text == gen(engine, base_ref, max_new_tokens=12, min_new_tokens=12).text
    # Already loaded: no loading message the second time.
    again = list(engine.generate_stream(base_ref, PROMPT, GenerationOptions(max_new_tokens=2)))
    assert again[0].status != "loading"


def test_bad_options_name_the_field(engine, base_ref):
    with pytest.raises(OptionsError) as err:
        GenerationOptions(strategy="sample", temperature=0, max_new_tokens=-1).validate()
    assert set(err.value.fields) == {"temperature", "max_new_tokens"}
    with pytest.raises(OptionsError, match="num_return_sequences"):
        GenerationOptions(strategy="beam", num_beams=2, num_return_sequences=3).validate()
    with pytest.raises(OptionsError, match="context"):
        gen(engine, base_ref, max_new_tokens=100_000)
    with pytest.raises(StudioError, match="Unknown model"):
        gen(engine, "nonsense")


def test_contrastive_streams(engine, base_ref):
    opts = GenerationOptions(strategy="contrastive", max_new_tokens=6, min_new_tokens=6)
    updates = list(engine.generate_stream(base_ref, PROMPT, opts))
    assert updates[-1].status == "done" and updates[-1].new_tokens == 6
    assert len([u for u in updates if u.status == "generating"]) >= 2
    assert updates[-1].text == engine.generate(base_ref, PROMPT, opts).text


def _record_decoding(engine, ref, monkeypatch, method: str) -> list[dict]:
    """Calls of the model class's decoding `method` (`_sample` for greedy, `_beam_search`):
    the generation config and logits processors generate() really decoded with."""
    entry, _ = engine.load(engine.spec(ref))
    cls, calls = type(entry.model), []
    original = getattr(cls, method)

    def spy(self, input_ids, logits_processor, stopping_criteria, generation_config, **kw):
        out = original(
            self, input_ids, logits_processor, stopping_criteria, generation_config, **kw
        )
        calls.append(
            {
                "config": generation_config,
                "out": out,
                "prompt": input_ids.shape[1],
                "processors": {type(p).__name__ for p in logits_processor},
            }
        )
        return out

    monkeypatch.setattr(cls, method, spy)
    return calls


def _bigrams(ids: list[int]) -> list[tuple[int, int]]:
    return list(zip(ids, ids[1:], strict=False))


def _record_batched(monkeypatch) -> list[dict]:
    """Requests the batch scheduler served (greedy and sample go through it): the ids it
    decoded after and the logits processors it applied."""
    from studio.generate.batcher import BatchScheduler

    original, calls = BatchScheduler.submit, []

    def spy(self, prompt, max_new_tokens, eos_ids=(), processors=None):
        request = original(self, prompt, max_new_tokens, eos_ids, processors)
        calls.append(
            {
                "request": request,
                "prompt": len(prompt),
                "processors": {type(p).__name__ for p in processors or []},
            }
        )
        return request

    monkeypatch.setattr(BatchScheduler, "submit", spy)
    return calls


def _ids(call: dict) -> list[int]:
    return call["request"].prompt + call["request"].generated


def test_repetition_options_reach_generation(engine, base_ref, monkeypatch):
    calls = _record_batched(monkeypatch)
    opts = dict(max_new_tokens=24, min_new_tokens=24)
    plain = gen(engine, base_ref, **opts)
    assert "MinNewTokensLengthLogitsProcessor" in calls[-1]["processors"]
    ids = _ids(calls[-1])
    new = ids[calls[-1]["prompt"] :]
    assert len(new) == 24
    # The random tiny model repeats itself, so the checks below can fail.
    assert len(set(_bigrams(ids))) < len(_bigrams(ids))
    assert len(set(new)) < len(new) or set(new) & set(ids[: calls[-1]["prompt"]])

    no_repeat = gen(engine, base_ref, no_repeat_ngram_size=2, **opts)
    assert "NoRepeatNGramLogitsProcessor" in calls[-1]["processors"]
    ids = _ids(calls[-1])
    assert len(set(_bigrams(ids))) == len(_bigrams(ids))  # no bigram twice, prompt included
    assert no_repeat.text != plain.text

    gen(engine, base_ref, repetition_penalty=10.0, **opts)
    assert "RepetitionPenaltyLogitsProcessor" in calls[-1]["processors"]
    ids = _ids(calls[-1])
    n = calls[-1]["prompt"]
    new = ids[n:]
    # Every seen token's logit is divided by 10: nothing from the prompt or earlier output.
    assert len(set(new)) == len(new) and not set(new) & set(ids[:n])

    # The same options reach seeded sampling too.
    gen(engine, base_ref, strategy="sample", seed=1, no_repeat_ngram_size=2, **opts)
    ids = _ids(calls[-1])
    assert len(set(_bigrams(ids))) == len(_bigrams(ids))


def test_beam_length_penalty_and_early_stopping_reach_beam_search(engine, base_ref, monkeypatch):
    calls = _record_decoding(engine, base_ref, monkeypatch, "_beam_search")
    for penalty, early in ((0.5, False), (2.0, True)):
        out = gen(
            engine,
            base_ref,
            strategy="beam",
            num_beams=3,
            length_penalty=penalty,
            early_stopping=early,
            max_new_tokens=6,
        )
        config = calls[-1]["config"]
        assert (config.num_beams, config.length_penalty, config.early_stopping) == (
            3,
            penalty,
            early,
        )
        assert out.text and 1 <= out.new_tokens <= 6
    assert len(calls) == 2
