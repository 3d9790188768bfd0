"""TrainRun refuses what the page refuses; TrainingArguments honour the user's settings."""

from __future__ import annotations

import pytest

from studio.configs.runs import TrainRun
from studio.errors import ConfigError
from tests.support.runs import run_config, write_run


def test_a_hand_written_config_gets_the_same_refusals(tmp_path, settings):
    cfg = run_config(
        "some/model",
        tmp_path / "data",
        settings,
        model={"trust_remote_code": True},
        tokenizer={"trust_remote_code": True},
        trainer={"output_dir": "/tmp/elsewhere", "callbacks": ["os.system"], "push_to_hub": True},
        peft={"base_model_name_or_path": "/etc"},
    )
    run = write_run(tmp_path / "run", cfg)
    with pytest.raises(ConfigError) as err:
        TrainRun.from_json(run / "config.json").to_dict()
    keys = sorted(p.key for p in err.value.problems)
    assert keys == [
        "model.trust_remote_code",
        "peft.base_model_name_or_path",
        "tokenizer.trust_remote_code",
        "trainer.callbacks",
        "trainer.output_dir",
        "trainer.push_to_hub",
    ]
    assert all("not allowed" in p.message and "Remove it" in p.message for p in err.value.problems)


def test_a_clean_config_is_read_with_defaults(tmp_path, settings):
    run = write_run(tmp_path / "run", run_config("some/model", tmp_path / "data", settings))
    cfg = TrainRun.from_json(run / "config.json").to_dict()
    assert cfg["trainer"]["logging_steps"] == 2 and cfg["tokenizer"]["add_eos"] is True


def test_save_total_limit_is_the_users_value(tmp_path, settings):
    from studio.configs.training_args import training_arguments

    trainer = run_config("some/model", tmp_path / "data", settings)["trainer"]

    def limit(**extra):
        args = training_arguments({**trainer, **extra}, "lora", tmp_path, has_eval=True)
        return args.save_total_limit

    assert limit() == 2  # default
    assert limit(save_total_limit=5) == 5
    assert limit(save_total_limit=None) is None  # null: keep every checkpoint
