"""TrainRun / EvalRun: one set of defaults, every problem listed in one ConfigError."""

from __future__ import annotations

import pytest

from studio.configs.runs import (
    DATA_DEFAULTS,
    TOKENIZER_DEFAULTS,
    EvalRun,
    TrainRun,
    eval_settings_problems,
)
from studio.configs.training_args import TRAINER_DEFAULTS
from studio.errors import ConfigError


@pytest.fixture
def train_file(tmp_path):
    path = tmp_path / "train.jsonl"
    path.write_text('{"instruction": "q", "output": "a"}\n')
    return str(path)


def test_train_run_lists_every_problem_at_once(tmp_path):
    bad = {
        "model_type": "rnn",
        "method": "magic",
        "base_model": "",
        "data": {"train": str(tmp_path / "missing.jsonl")},
        "model": [],
        "trainer": {"output_dir": "/elsewhere"},
        "tokenizer": {"trust_remote_code": True},
    }
    with pytest.raises(ConfigError) as err:
        TrainRun.from_dict(bad)
    problems = err.value.problems
    assert len(problems) == 7, problems
    for needle in (
        "model_type must be one of",
        "method must be one of",
        "base_model is empty",
        "does not exist",
        "model must be a JSON object",
        "trainer.output_dir",
        "tokenizer.trust_remote_code",
    ):
        assert sum(needle in p for p in problems) >= 1, needle
    assert str(err.value).startswith(f"{len(problems)} problem(s) in the settings:")


def test_lora_needs_peft_and_data_needs_train():
    with pytest.raises(ConfigError) as err:
        TrainRun.from_dict({"model_type": "causal", "method": "lora", "base_model": "m"})
    assert err.value.problems == [
        "data.train (the path of train.jsonl) is missing",
        "method lora needs LoRA settings in the peft dict",
    ]


def test_train_run_defaults_and_round_trip(train_file):
    data = {
        "model_type": "causal",
        "method": "full",
        "base_model": "m",
        "data": {"train": train_file},
        "trainer": {"seed": 7},
        "tokenizer": {"max_length": 64},
        "future_key": {"kept": True},
    }
    run = TrainRun.from_dict(data)
    assert run.trainer == {**TRAINER_DEFAULTS, "seed": 7}
    assert run.tokenizer == {**TOKENIZER_DEFAULTS, "max_length": 64}
    assert run.data == {**DATA_DEFAULTS, "train": train_file}
    assert run.invalid_tolerance_pct == 10.0 and run.model == {} and run.debug == {}
    out = run.to_dict()
    assert out["future_key"] == {"kept": True} and "extra" not in out
    assert TrainRun.from_dict(out) == run  # reading what it wrote changes nothing


def test_from_json_refuses_a_missing_or_broken_file(tmp_path, train_file):
    with pytest.raises(ConfigError, match="is missing"):
        TrainRun.from_json(tmp_path / "config.json")
    (tmp_path / "config.json").write_text("{oops")
    with pytest.raises(ConfigError, match="not valid JSON"):
        TrainRun.from_json(tmp_path / "config.json")
    (tmp_path / "config.json").write_text("[]")
    with pytest.raises(ConfigError, match="JSON object"):
        EvalRun.from_json(tmp_path / "config.json")


def test_eval_run_lists_every_problem_at_once():
    bad = {
        "metrics": ["perplexity", "vibes"],
        "max_examples": 0.5,
        "max_new_tokens": 9999,
        "batch_size": -1,
        "labels": "pos,neg",
    }
    with pytest.raises(ConfigError) as err:
        EvalRun.from_dict(bad)
    problems = err.value.problems
    assert len(problems) == 6, problems
    for needle in (
        "no adapter_dir",
        "unknown metric 'vibes'",
        "max_examples must be",
        "max_new_tokens must be",
        "batch_size must be",
        "labels must be a list",
    ):
        assert sum(needle in p for p in problems) == 1, needle


def test_eval_run_defaults_and_round_trip():
    run = EvalRun.from_dict(
        {
            "adapter_dir": "/a",
            "metrics": ["text", "text"],
            "labels": None,
            "max_examples": 0,
            "db_path": "/old/studio.db",
        }
    )
    assert run.metrics == ["text"] and run.labels == []
    assert (run.max_examples, run.max_new_tokens, run.batch_size) == (200, 32, 8)
    assert run.kind == "evaluate" and run.model_id is None
    assert run.extra == {"db_path": "/old/studio.db"}
    assert EvalRun.from_dict(run.to_dict()) == run


def test_eval_settings_problems_name_each_setting():
    assert eval_settings_problems(["perplexity"], 200, 32) == []
    assert eval_settings_problems([], "10", 32) == ["choose at least one metric"]
    assert len(eval_settings_problems(["x"], 0, 0)) == 3
