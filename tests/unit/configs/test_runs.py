"""TrainRun / EvalRun: the settings table's defaults, every problem listed in one ConfigError,
and run configs written before the studio section read as they meant."""

from __future__ import annotations

import pytest

from studio.configs.eval_run import EvalRun, eval_settings_problems
from studio.configs.runs import RunConfig, RunData, TrainRun
from studio.configs.table import StudioSettings, run_defaults
from studio.errors import ConfigError, Problem


@pytest.fixture
def train_file(tmp_path):
    path = tmp_path / "train.jsonl"
    path.write_text('{"instruction": "q", "output": "a"}\n')
    return str(path)


def test_both_run_configs_share_one_base():
    assert issubclass(TrainRun, RunConfig) and issubclass(EvalRun, RunConfig)


def test_train_run_lists_every_problem_at_once(tmp_path):
    bad = {
        "model_type": "rnn",
        "method": "magic",
        "base_model": "",
        "data": {"train": str(tmp_path / "missing.jsonl")},
        "model": [],
        "trainer": {"output_dir": "/elsewhere"},
        "tokenizer": {"trust_remote_code": True},
        "studio": {"packing": "yes", "time_budget": 3},
    }
    with pytest.raises(ConfigError) as err:
        TrainRun.from_dict(bad)
    problems = err.value.problems
    assert [p.key for p in problems] == [
        "model_type",
        "method",
        "base_model",
        "data.train",
        "model",
        "tokenizer.trust_remote_code",
        "trainer.output_dir",
        "studio.packing",
        "studio.time_budget",
    ]
    assert "does not exist" in problems[3].message
    assert str(err.value).startswith(f"{len(problems)} problem(s) in the settings:")


def test_lora_needs_peft_and_data_needs_train():
    with pytest.raises(ConfigError) as err:
        TrainRun.from_dict({"model_type": "causal", "method": "lora", "base_model": "m"})
    assert err.value.problems == [
        Problem("data.train", "(the path of train.jsonl) is missing"),
        Problem("peft", "method lora needs LoRA settings in the peft dict"),
    ]


def test_train_run_defaults_come_from_the_table_and_round_trip(train_file):
    data = {
        "model_type": "causal",
        "method": "full",
        "base_model": "m",
        "data": {"train": train_file},
        "trainer": {"seed": 7},
        "tokenizer": {"max_length": 64},
        "studio": {"time_budget_min": 5, "packing": None},
        "future_key": {"kept": True},
    }
    run = TrainRun.from_dict(data)
    assert run.trainer == {**run_defaults("trainer"), "seed": 7}
    assert run.tokenizer == {**run_defaults("tokenizer"), "max_length": 64}
    assert run.data == RunData(train=train_file)
    assert run.studio == StudioSettings.from_dict({"time_budget_min": 5.0})
    assert run.studio.time_budget_min == 5.0 and run.studio.packing is False  # null: default
    assert run.studio.invalid_tolerance_pct == 10.0 and run.model == {} and run.debug == {}
    out = run.to_dict()
    assert out["future_key"] == {"kept": True} and "extra" not in out
    assert TrainRun.from_dict(out) == run  # reading what it wrote changes nothing


def test_a_run_config_from_before_the_studio_section_reads_as_it_meant(train_file):
    old = {
        "model_type": "causal",
        "method": "full",
        "base_model": "m",
        "data": {
            "train": train_file,
            "valid_pct": 20.0,
            "seed": 3,
            "response_only": False,
            "resplit": True,
        },
        "trainer": {"packing": True, "processes": 2, "learning_rate": 1e-3},
        "invalid_tolerance_pct": 5.0,
        "time_budget_min": 7.0,
        "head_only": False,
    }
    run = TrainRun.from_dict(old)
    assert (run.studio.packing, run.studio.processes, run.studio.head_only) == (True, 2, False)
    assert (run.studio.invalid_tolerance_pct, run.studio.time_budget_min) == (5.0, 7.0)
    assert (run.studio.response_only, run.studio.valid_pct) == (False, 20.0)
    assert run.data.resplit and "packing" not in run.trainer and run.extra == {}
    assert run.trainer["learning_rate"] == 1e-3


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
    keys = [p.key for p in err.value.problems]
    assert sorted(keys) == sorted(
        ["adapter_dir", "metrics", "max_examples", "max_new_tokens", "batch_size", "labels"]
    )
    assert "unknown metric 'vibes'" in str(err.value)


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
    limits = {"max_examples": 200, "max_new_tokens": 32, "batch_size": 8}
    assert eval_settings_problems(["perplexity"], limits) == []
    assert eval_settings_problems([], {**limits, "max_examples": "10"}) == [
        Problem("metrics", "choose at least one metric")
    ]
    bad = eval_settings_problems(["x"], {**limits, "max_examples": 0, "max_new_tokens": 0})
    assert [p.key for p in bad] == ["metrics", "max_examples", "max_new_tokens"]


def test_an_old_key_beside_a_studio_section_is_moved_in_not_dropped(train_file):
    mixed = {
        "model_type": "causal",
        "method": "full",
        "base_model": "m",
        "data": {"train": train_file},
        "trainer": {"packing": True},
        "time_budget_min": 1.0,
        "head_only": False,
        "studio": {"valid_pct": 10.0, "head_only": True},
    }
    run = TrainRun.from_dict(mixed)
    assert run.studio.time_budget_min == 1.0 and run.studio.packing is True
    assert run.studio.head_only is True  # the studio section's own value wins
    assert "packing" not in run.trainer and run.extra == {}
