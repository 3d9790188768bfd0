"""The fast (int4 weights, int8 head) path answers like fp32: greedy output of SmolLM2 on a fixed prompt set."""

from __future__ import annotations

import pytest

from bench.generate_parts import PROMPTS, agreement


@pytest.fixture
def engine(settings, store, packaged_model_dir):
    from studio.generate.engine import Engine

    return Engine(settings, store)


def test_fast_greedy_matches_fp32_for_16_tokens_on_most_prompts(engine):
    same, total = agreement(engine, "base:packaged:SmolLM2-135M-Instruct", 16)
    assert total == len(PROMPTS) == 12
    assert same > total // 2, f"only {same}/{total} prompts agree for 16 tokens"
