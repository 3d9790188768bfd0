"""Studio setting `share_prefix` through the real entry point on a tiny model: every example
starts with the same instruction, and the run that computes it once per batch has the loss
curve of the run where every row computes its own."""

from __future__ import annotations

import pytest

from tests.support.runs import run_config, train_entry_point, train_losses, write_run


def test_shared_prefix_run_matches_the_per_row_one(tmp_path, settings, tiny_causal_dir):
    runs = {}
    for share in (False, True):
        cfg = run_config(
            tiny_causal_dir,
            tmp_path / f"data{share}",
            settings,
            n_train=32,
            peft={"lora_dropout": 0.0},  # shared, the prefix draws one dropout mask per batch
            studio={"share_prefix": share},
            trainer={
                "logging_steps": 1,
                "save_strategy": "no",
                "eval_strategy": "no",
            },
        )
        runs[share] = train_entry_point(write_run(tmp_path / f"run{share}", cfg))
    (plain, plain_metrics), (shared, shared_metrics) = runs[False], runs[True]
    assert plain["status"] == shared["status"] == "succeeded", shared
    assert shared["summary"]["share_prefix"] is True and plain["summary"]["share_prefix"] is False
    assert plain["summary"]["shared_prefix_batches"] == 0
    assert shared["summary"]["shared_prefix_batches"] == shared["summary"]["steps"]  # each batch
    for key in ("steps", "epochs", "tokens_seen"):
        assert shared["summary"][key] == plain["summary"][key], key

    want, got = train_losses(plain_metrics), train_losses(shared_metrics)
    assert len(want) == len(got) >= 6
    assert got == pytest.approx(want, abs=1e-4, rel=1e-4)
