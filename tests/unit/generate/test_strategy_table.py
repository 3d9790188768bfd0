"""The strategy table is the one place a decoding strategy is declared: validation, the form,
/v1 and the engine read it. Eta sampling was added as one row (and this test)."""

from __future__ import annotations

import pytest

from studio.api.request import APIError, options_from_request
from studio.generate.options import OPTION_TABLE, GenerationOptions, OptionsError
from studio.generate.prompting import PromptInput
from studio.generate.strategies import STRATEGY_TABLE
from studio.ui.generate.form import OPTION_FIELDS, STRATEGY_FIELDS, options_from_form


def test_every_default_is_valid_and_every_option_has_a_form_field():
    for f in OPTION_TABLE.values():
        assert f.problem(f.default) is None, f.name
        assert f.label, f"{f.name} has no label for the form"
        low, high = f.slider
        assert low <= high
    assert set(OPTION_FIELDS) == {"strategy", *OPTION_TABLE}
    assert {s.name: s.field_names() for s in STRATEGY_TABLE} == STRATEGY_FIELDS
    for row in STRATEGY_TABLE:
        GenerationOptions(strategy=row.name).validate()


def test_eta_sampling_is_checked_offered_and_parsed_from_its_row():
    assert "eta_cutoff" in STRATEGY_FIELDS["eta"]
    with pytest.raises(OptionsError) as err:
        GenerationOptions(strategy="eta", eta_cutoff=0).validate()
    assert err.value.fields == ["eta_cutoff"]
    form = options_from_form({"strategy": "eta", "eta_cutoff": 0.002, "seed": 5.0})
    assert (form.strategy, form.eta_cutoff, form.seed) == ("eta", 0.002, 5)
    api = options_from_request({"strategy": "eta", "eta_cutoff": 0.001, "temperature": 0.8}, 16)
    assert (api.strategy, api.eta_cutoff) == ("eta", 0.001)
    with pytest.raises(APIError) as bad:
        options_from_request({"strategy": "eta", "eta_cutoff": 5}, 16)
    assert bad.value.param == "eta_cutoff"


def test_eta_sampling_generates_repeatably_and_falls_back_from_fast(engine, tiny_causal_dir):
    pytest.importorskip("torch")
    ref = f"base:{tiny_causal_dir}"
    prompt = PromptInput(mode="text", text="Once upon a time")
    opts = GenerationOptions(strategy="eta", seed=3, max_new_tokens=6, num_return_sequences=2)
    first, again = engine.generate(ref, prompt, opts), engine.generate(ref, prompt, opts)
    assert first.texts == again.texts and len(first.texts) == 2
    opts.precision = "fast"
    fast = engine.generate(ref, prompt, opts)
    assert fast.engine == "exact (fp32)" and "no eta decoding" in fast.note
