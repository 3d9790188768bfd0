"""Trainer option `packing` through the real entry point on a tiny model: the same steps,
epochs, examples and tokens counted as unpacked training, and the same loss curve."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from studio.settings import PROJECT_ROOT
from tests.unit.train.runs import run_config, write_run


def _train(run_dir: Path) -> tuple[dict, list[dict]]:
    with (run_dir / "train.log").open("ab") as log:
        subprocess.run(
            [sys.executable, "-m", "studio.train", str(run_dir)],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=PROJECT_ROOT,
            timeout=240,
            check=False,
        )
    status = run_dir / "status.json"
    assert status.is_file(), (run_dir / "train.log").read_text()[-3000:]
    metrics = [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines()]
    return json.loads(status.read_text()), metrics


@pytest.mark.parametrize("response_only", [True, False])
def test_packed_run_matches_the_unpacked_one(tmp_path, settings, tiny_causal_dir, response_only):
    runs = {}
    for packing in (False, True):
        cfg = run_config(
            tiny_causal_dir,
            tmp_path / f"data{packing}",
            settings,
            peft={"lora_dropout": 0.0},  # dropout draws depend on the batch's shape
            trainer={"packing": packing, "logging_steps": 1, "save_strategy": "no"},
            data={"response_only": response_only},
        )
        runs[packing] = _train(write_run(tmp_path / f"run{packing}", cfg))
    (plain, plain_metrics), (packed, packed_metrics) = runs[False], runs[True]
    assert plain["status"] == packed["status"] == "succeeded", packed
    assert packed["summary"]["packing"] is True and plain["summary"]["packing"] is False
    for key in ("steps", "total_steps", "epochs", "n_train", "tokens_seen"):
        assert packed["summary"][key] == plain["summary"][key], key

    def losses(metrics):
        return [m["loss"] for m in metrics if "loss" in m and "eval_loss" not in m]

    want, got = losses(plain_metrics), losses(packed_metrics)
    assert len(want) == len(got) >= 6
    assert got == pytest.approx(want, abs=1e-4, rel=1e-4)
    assert packed["summary"]["eval_loss"] == pytest.approx(plain["summary"]["eval_loss"], rel=1e-4)
