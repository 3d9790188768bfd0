"""Options validation, form conversion and the OpenAI parameter mapping (no model needed)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from studio.api.request import APIError, options_from_request
from studio.generate.options import GenerationOptions, OptionsError
from studio.generate.stream import trim_at_stop
from studio.ui.generate.form import options_from_form, prompt_from_form


def _kwargs(options: GenerationOptions) -> dict:
    """What the engine passes to model.generate() for `options` (a stand-in prepared prompt)."""
    import torch

    from studio.generate.decoding import generate_kwargs

    prepared = SimpleNamespace(
        spec=SimpleNamespace(model_type="causal", is_tuned=False),
        input_ids=torch.tensor([[1, 2, 3]]),
        tokenizer=SimpleNamespace(pad_token_id=0),
    )
    return generate_kwargs(prepared, options, lambda: None)


def test_kwargs_per_strategy():
    greedy = _kwargs(GenerationOptions())
    assert greedy["do_sample"] is False and greedy["num_beams"] == 1
    assert "logits_processor" not in greedy
    beam = _kwargs(GenerationOptions(strategy="beam", num_beams=3, length_penalty=0.5))
    assert beam["num_beams"] == 3 and beam["length_penalty"] == 0.5
    sample = GenerationOptions(
        strategy="sample", min_p=0.1, typical_p=0.9, stop=["\n"], num_return_sequences=2
    )
    kw = _kwargs(sample)
    # Sampling draws with the seeded sampler over greedy decoding, one prompt row per answer.
    assert kw["do_sample"] is False and len(kw["logits_processor"]) == 1
    assert "min_p" not in kw and "typical_p" not in kw
    assert kw["input_ids"].shape == (2, 3) and kw["num_return_sequences"] == 1
    assert kw["stop_strings"] == ["\n"]
    assisted = GenerationOptions(strategy="assisted", prompt_lookup_num_tokens=5)
    assert _kwargs(assisted)["prompt_lookup_num_tokens"] == 5


def test_unknown_option_and_every_problem_reported():
    with pytest.raises(OptionsError, match="temprature"):
        GenerationOptions.from_dict({"temprature": 1})
    with pytest.raises(OptionsError) as err:
        GenerationOptions(strategy="sample", top_p=0, seed=-1, stop=[""]).validate()
    assert set(err.value.fields) == {"top_p", "seed", "stop"}


def test_the_seed_box_is_empty_for_a_random_draw_and_names_a_bad_seed():
    from studio.ui.generate.tab import _param_widgets

    box = _param_widgets()["seed"]
    assert box.value in ("", None)  # a number box would show (and send) 0: a fixed seed
    assert options_from_form({"strategy": "sample", "seed": ""}).seed is None
    assert options_from_form({"strategy": "sample", "seed": "  "}).seed is None
    assert options_from_form({"strategy": "sample", "seed": " 42 "}).seed == 42
    assert options_from_form({"strategy": "sample", "seed": "0"}).seed == 0
    with pytest.raises(OptionsError) as err:
        options_from_form({"strategy": "sample", "seed": "abc"})
    assert err.value.fields == ["seed"] and "whole number" in str(err.value)


def test_form_values_convert():
    opts = options_from_form(
        {
            "strategy": "sample",
            "max_new_tokens": 12.0,
            "seed": 3.0,
            "stop": "###\n\\n\\n",
            "top_k": 5.0,
        }
    )
    assert opts.max_new_tokens == 12 and opts.seed == 3 and opts.top_k == 5
    assert opts.stop == ["###", "\n\n"]
    chat = prompt_from_form(
        "Chat",
        history=[
            {"role": "user", "content": [{"type": "text", "text": "hi"}]},
            {"role": "assistant", "content": "yo"},
        ],
        message="again",
    )
    assert [m["content"] for m in chat.messages] == ["hi", "yo", "again"]


def test_openai_mapping():
    assert options_from_request({"temperature": 0}, 16).strategy == "greedy"
    sampled = options_from_request(
        {"temperature": 0.5, "top_p": 0.9, "n": 2, "seed": 4, "stop": "\n", "presence_penalty": 1},
        16,
    )
    assert (sampled.strategy, sampled.temperature, sampled.top_p) == ("sample", 0.5, 0.9)
    assert sampled.num_return_sequences == 2 and sampled.stop == ["\n"] and sampled.seed == 4
    assert options_from_request({}, 16).max_new_tokens == 16
    for body, param in (
        ({"max_tokens": 0}, "max_tokens"),
        ({"temperature": -1}, "temperature"),
        ({"top_p": 0}, "top_p"),
        ({"stop": 3}, "stop"),
        ({"n": "x"}, "n"),
    ):
        with pytest.raises(APIError) as err:
            options_from_request(body, 16)
        assert err.value.param == param and err.value.status == 400


def test_openai_zero_token_limits_are_refused_not_ignored():
    for body, name in (
        ({"max_completion_tokens": 0, "max_tokens": 5}, "max_completion_tokens"),
        ({"max_tokens": 0}, "max_tokens"),
    ):
        with pytest.raises(APIError) as err:
            options_from_request(body, 16)
        assert (err.value.status, err.value.param) == (400, name)
        assert "at least 1" in err.value.message
    assert (
        options_from_request({"max_completion_tokens": 7, "max_tokens": 3}, 16).max_new_tokens == 7
    )
    with pytest.raises(APIError) as err:
        options_from_request({"n": 0}, 16)
    assert (err.value.status, err.value.param) == (400, "n")


def test_openai_each_choice_has_its_own_finish_reason():
    import json

    from studio.api.responses import full_response, sse_stream
    from studio.generate.prompting import PromptInput
    from studio.generate.stream import StreamUpdate

    done = StreamUpdate(
        status="done",
        text="a",
        texts=["a", "bb"],
        finish_reason="stop",
        finish_reasons=["stop", "length"],
    )
    for chat in (False, True):
        body = full_response(done, "m", chat)
        assert [c["finish_reason"] for c in body["choices"]] == ["stop", "length"]

    class FakeEngine:
        def generate_stream(self, model, prompt, opts):
            yield done

    opts = options_from_request({"n": 2, "seed": 1}, 16)
    events = [
        json.loads(e[6:])
        for e in sse_stream(FakeEngine(), "m", PromptInput(mode="text", text="x"), opts, False)
        if "[DONE]" not in e
    ]
    finals = {
        c["index"]: c["finish_reason"] for e in events for c in e["choices"] if c["finish_reason"]
    }
    assert finals == {0: "stop", 1: "length"}


def test_trim_at_stop_takes_the_earliest():
    assert trim_at_stop("a###b\n\nc", ["\n\n", "###"]) == ("a", True)
    assert trim_at_stop("abc", ["x"]) == ("abc", False)
