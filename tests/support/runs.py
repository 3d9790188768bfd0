"""A RUN_DIR written by hand (config.json + small jsonl splits) as a headless user writes it,
and the entry point run on it.

    cfg = run_config(tiny_causal_dir, tmp_path / "data", settings, trainer={"max_steps": 4})
    status, metrics = train_entry_point(write_run(tmp_path / "run", cfg))

Builds nothing heavy: the data is a small sentiment task (tests.support.examples) the tiny
model makes progress on in a few steps.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.support.examples import word_sentiment, write_jsonl


def deep_update(base: dict, extra: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_update(out[key], value)
        else:
            out[key] = value
    return out


def run_config(
    base_model: Path | str,
    data_dir: Path,
    settings: Any,
    n_train: int = 48,
    n_valid: int = 8,
    **overrides: Any,
) -> dict[str, Any]:
    """A LoRA run config on `base_model` with its data files written under data_dir."""
    data_dir.mkdir(parents=True, exist_ok=True)
    examples = word_sentiment(n_train + n_valid)
    train = write_jsonl(data_dir / "train.jsonl", examples[:n_train])
    valid = write_jsonl(data_dir / "valid.jsonl", examples[n_train:])
    cfg = {
        "model_type": "causal",
        "method": "lora",
        "template": "test",
        "base_model": str(base_model),
        "model": {"dtype": "float32"},
        "quantization": {},
        "peft": {
            "r": 8,
            "lora_alpha": 16,
            "lora_dropout": 0.1,
            "bias": "none",
            "target_modules": ["q_proj", "v_proj"],
            "task_type": "CAUSAL_LM",
        },
        "tokenizer": {
            "max_length": 64,
            "padding_side": "right",
            "prompt_format": "sections",
            "add_eos": True,
        },
        "trainer": {
            "num_train_epochs": 2,
            "learning_rate": 5e-3,
            "per_device_train_batch_size": 8,
            "logging_steps": 2,
            "eval_strategy": "epoch",
            "save_strategy": "steps",
            "save_steps": 4,
            "seed": 1,
            "lr_scheduler_type": "linear",
        },
        "data": {
            "version_id": "v1",
            "train": str(train),
            "valid": str(valid),
            "n_rows": n_train + n_valid,
            "n_rejected": 0,
            "valid_pct": 10.0,
            "seed": 42,
        },
        "studio": {"valid_pct": 10.0, "invalid_tolerance_pct": 10.0, "response_only": True},
        "studio_home": str(settings.home),
        "models_dir": str(settings.models_dir),
    }
    return deep_update(cfg, overrides)


def write_run(run_dir: Path, config: dict[str, Any]) -> Path:
    """RUN_DIR/config.json as the job runner would write it."""
    run_dir.mkdir(parents=True, exist_ok=True)
    full = {**config, "job_id": run_dir.name, "run_dir": str(run_dir), "kind": "train"}
    (run_dir / "config.json").write_text(json.dumps(full, indent=2))
    return run_dir


def train_entry_point(run_dir: Path) -> tuple[dict, list[dict]]:
    """Run `python -m studio.train RUN_DIR` to the end: (status.json, metrics.jsonl lines)."""
    from studio.settings import PROJECT_ROOT

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


def train_losses(metrics: list[dict]) -> list[float]:
    """The per-step training losses of a run's metrics."""
    return [m["loss"] for m in metrics if "loss" in m and "eval_loss" not in m]
