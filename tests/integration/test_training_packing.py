"""Studio setting `packing` through the real entry point on a tiny model: the same steps,
epochs, examples and tokens counted as unpacked training, and the same loss curve."""

from __future__ import annotations

import pytest

from tests.support.runs import run_config, train_entry_point, train_losses, write_run


@pytest.mark.parametrize("response_only", [True, False])
def test_packed_run_matches_the_unpacked_one(tmp_path, settings, tiny_causal_dir, response_only):
    runs = {}
    for packing in (False, True):
        cfg = run_config(
            tiny_causal_dir,
            tmp_path / f"data{packing}",
            settings,
            peft={"lora_dropout": 0.0},  # dropout draws depend on the batch's shape
            trainer={"logging_steps": 1, "save_strategy": "no"},
            studio={"packing": packing, "response_only": response_only},
        )
        runs[packing] = train_entry_point(write_run(tmp_path / f"run{packing}", cfg))
    (plain, plain_metrics), (packed, packed_metrics) = runs[False], runs[True]
    assert plain["status"] == packed["status"] == "succeeded", packed
    assert packed["summary"]["packing"] is True and plain["summary"]["packing"] is False
    for key in ("steps", "total_steps", "epochs", "n_train", "tokens_seen"):
        assert packed["summary"][key] == plain["summary"][key], key

    want, got = train_losses(plain_metrics), train_losses(packed_metrics)
    assert len(want) == len(got) >= 6
    assert got == pytest.approx(want, abs=1e-4, rel=1e-4)
    assert packed["summary"]["eval_loss"] == pytest.approx(plain["summary"]["eval_loss"], rel=1e-4)
