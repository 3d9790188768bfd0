"""A run folder: every file of one job, named and read in one place.

    run = RunFolder(job["run_dir"])
    run.config()            # config.json as written by the runner ({} when missing)
    run.adapter_dir         # the trained model: adapter (or full weights) + tokenizer + studio.json
    run.meta()              # adapter/studio.json: base model, prompt format, layout...
    run.status()            # status.json written by the child at exit, or None
    run.metrics()           # metrics.jsonl records (progress, loss, eval loss...)
    run.results()           # results.json of an evaluation, or None
    run.last_checkpoint()   # checkpoints/checkpoint-N with trainer_state.json, or None

The page polls the readers every second or two while a child process writes the same files,
so each tolerates a half-written last line and reads only what it needs. Never imports torch.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from studio.models.loading import STUDIO_META

CONFIG_FILE, METRICS_FILE, LOG_FILE, STATUS_FILE = (
    "config.json",
    "metrics.jsonl",
    "train.log",
    "status.json",
)
STOP_FILE, RESULTS_FILE, BATCH_CSV = "STOP", "results.json", "batch.csv"
CHECKPOINTS_DIR, ADAPTER_DIR, META_FILE = "checkpoints", "adapter", STUDIO_META
ADAPTER_CONFIG = "adapter_config.json"  # peft's file: the model folder holds an adapter
CHECKPOINT_PREFIX, TRAINER_STATE = "checkpoint-", "trainer_state.json"
BUDGET_FILE = "budget.json"  # a time-budgeted run's plan, kept across a resume


def _number(x: Any) -> Any:
    # The child writes non-finite floats as strings ("inf", "nan").
    if isinstance(x, str) and x in ("inf", "-inf", "nan"):
        return float(x)
    return x


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _write_atomic(path: Path, data: Any) -> None:
    # Readers (the runner, the page) may read the file the moment it appears: never half.
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, default=float), encoding="utf-8")
    os.replace(tmp, path)


@dataclass(frozen=True)
class RunFolder:
    """The folder of one job (RUN_DIR): its config, log, metrics, status and outputs."""

    path: Path

    def __init__(self, path: str | Path):
        object.__setattr__(self, "path", Path(path))

    # -- paths ---------------------------------------------------------------------------
    @property
    def config_path(self) -> Path:
        return self.path / CONFIG_FILE

    @property
    def log_path(self) -> Path:
        return self.path / LOG_FILE

    @property
    def metrics_path(self) -> Path:
        return self.path / METRICS_FILE

    @property
    def status_path(self) -> Path:
        return self.path / STATUS_FILE

    @property
    def stop_path(self) -> Path:
        return self.path / STOP_FILE

    @property
    def results_path(self) -> Path:
        return self.path / RESULTS_FILE

    @property
    def batch_csv(self) -> Path:
        return self.path / BATCH_CSV

    @property
    def budget_path(self) -> Path:
        return self.path / BUDGET_FILE

    @property
    def checkpoints_dir(self) -> Path:
        return self.path / CHECKPOINTS_DIR

    @property
    def adapter_dir(self) -> Path:
        """The trained model's folder (a LoRA adapter, or full weights for full runs)."""
        return self.path / ADAPTER_DIR

    @property
    def meta_path(self) -> Path:
        return self.adapter_dir / META_FILE

    # -- config ----------------------------------------------------------------------------
    def config(self) -> dict[str, Any]:
        """config.json as a dict; {} when it is missing or not a JSON object."""
        data = _read_json(self.config_path)
        return data if isinstance(data, dict) else {}

    def has_config(self) -> bool:
        return self.config_path.is_file()

    def write_config(self, config: dict[str, Any]) -> None:
        """Write config.json (creating the folder)."""
        self.path.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(json.dumps(config, indent=2), encoding="utf-8")

    # -- the trained model -------------------------------------------------------------------
    def has_model(self) -> bool:
        """Whether the run left a model: adapter/studio.json is written last by training."""
        return self.meta_path.is_file()

    def holds_adapter(self) -> bool:
        """True for a LoRA adapter folder, False for full weights (or no model)."""
        return (self.adapter_dir / ADAPTER_CONFIG).is_file()

    def meta(self) -> dict[str, Any]:
        """adapter/studio.json (base model, model type, prompt format, layout...); {} if none."""
        data = _read_json(self.meta_path)
        return data if isinstance(data, dict) else {}

    def write_meta(self, meta: dict[str, Any], folder: Path | None = None) -> None:
        """Write studio.json into the model folder (or `folder`, a copy being staged)."""
        target = (folder or self.adapter_dir) / META_FILE
        target.write_text(json.dumps(meta, indent=2), encoding="utf-8")

    def adapter_config(self) -> dict[str, Any]:
        """peft's adapter_config.json; {} for a full model."""
        data = _read_json(self.adapter_dir / ADAPTER_CONFIG)
        return data if isinstance(data, dict) else {}

    # -- status and stop --------------------------------------------------------------------
    def status(self) -> dict[str, Any] | None:
        """status.json as written by the child at exit, or None (still running / killed)."""
        data = _read_json(self.status_path)
        return data if isinstance(data, dict) and data.get("status") else None

    def write_status(self, status: dict[str, Any]) -> None:
        """status.json, atomically (the runner reads it the moment the process exits)."""
        _write_atomic(self.status_path, status)

    def clear_status(self) -> None:
        self.status_path.unlink(missing_ok=True)

    def request_stop(self, when: float) -> None:
        """Ask the child to stop after its current step (it saves a checkpoint first)."""
        self.stop_path.write_text(str(when))

    def clear_stop(self) -> None:
        self.stop_path.unlink(missing_ok=True)

    # -- metrics, log, results ------------------------------------------------------------------
    def append_metric(self, record: dict[str, Any], sync: bool = False) -> None:
        """Append one JSON line to metrics.jsonl (`sync`: flushed to disk at once)."""
        with self.metrics_path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")
            if sync:
                f.flush()
                os.fsync(f.fileno())

    def metrics(self, latest_only: bool = True) -> list[dict[str, Any]]:
        """metrics.jsonl records in order; a resumed run's repeated steps keep the newest
        (`latest_only` False: every record, as written)."""
        if not self.metrics_path.is_file():
            return []
        records: list[dict[str, Any]] = []
        text = self.metrics_path.read_text(encoding="utf-8", errors="replace")
        for line in text.splitlines():
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                continue  # the line the child is writing right now
            if isinstance(rec, dict):
                records.append({k: _number(v) for k, v in rec.items()})
        if not latest_only:
            return records
        # After a resume the steps since the last checkpoint are logged again: keep the last.
        latest: dict[tuple, int] = {}
        for i, rec in enumerate(records):
            latest[(rec.get("type"), rec.get("step"))] = i
        return [r for i, r in enumerate(records) if latest[(r.get("type"), r.get("step"))] == i]

    def log_tail(self, n: int = 40, max_bytes: int = 64_000) -> str:
        """The last `n` lines of train.log (reads at most `max_bytes` from the end)."""
        if not self.log_path.is_file():
            return ""
        with self.log_path.open("rb") as f:
            f.seek(0, 2)
            size = f.tell()
            f.seek(max(0, size - max_bytes))
            data = f.read().decode("utf-8", errors="replace")
        # Progress bars redraw with carriage returns: keep what the line finally showed.
        lines = [ln.rstrip("\r").rsplit("\r", 1)[-1] for ln in data.split("\n")]
        if size > max_bytes and lines:
            lines = lines[1:]  # the first line is probably cut
        if lines and lines[-1] == "":
            lines.pop()
        return "\n".join(lines[-n:])

    def results(self) -> dict[str, Any] | None:
        """results.json of an evaluation, or None when it has not finished."""
        data = _read_json(self.results_path)
        return data if isinstance(data, dict) else None

    def write_results(self, results: dict[str, Any]) -> None:
        _write_atomic(self.results_path, results)

    # -- checkpoints ------------------------------------------------------------------------
    def checkpoints(self) -> dict[int, Path]:
        """Complete checkpoints (trainer_state.json is written last) by step."""
        found = {}
        for p in self.checkpoints_dir.glob(CHECKPOINT_PREFIX + "*"):
            step = p.name[len(CHECKPOINT_PREFIX) :]
            if step.isdigit() and (p / TRAINER_STATE).is_file():
                found[int(step)] = p
        return found

    def last_checkpoint(self) -> Path | None:
        """The newest complete checkpoint folder, or None."""
        found = self.checkpoints()
        return found[max(found)] if found else None

    def last_checkpoint_step(self) -> int | None:
        """The step of the newest complete checkpoint, or None."""
        return max(self.checkpoints(), default=None)
