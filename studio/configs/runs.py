"""The run configs (RUN_DIR/config.json): what the page writes and the job process reads, typed.

    run = TrainRun.from_json(run_dir / "config.json")   # ConfigError listing every problem
    run.trainer["learning_rate"], run.studio.packing     # the training code reads these
    EvalRun.from_json(run_dir / "config.json")           # an evaluation's (eval_run.py)

Both share `RunConfig` (kind, job id, run folder, the studio's paths, keys this version does
not know). A key a run config leaves out gets its default from the settings table
(studio.configs.table) when it is read, so the training code needs no fallbacks of its own. A
hand-written config for the headless command gets the same refusals as the page
(trust_remote_code, output_dir, callbacks, hub keys...: studio.configs.schemas.REFUSED). Keys
a config carries that this version does not know are kept as they were (`extra`) and written
back. A config written before the studio section existed is read as it meant
(studio.store.upgrade).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from studio.configs.fields import value_problem
from studio.configs.schemas import SECTIONS, refused
from studio.configs.table import STUDIO, STUDIO_SCHEMA, StudioSettings, run_defaults
from studio.errors import ConfigError, Problem
from studio.settings import Settings
from studio.store.job_states import TRAIN
from studio.store.upgrade import upgrade_run_config
from studio.vocab.models import ADAPTER_METHODS, METHODS, MODEL_TYPES


def read_config(path: str | Path) -> dict[str, Any]:
    """A run folder's config.json as a dict; ConfigError when it is missing or not JSON."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path} is missing; the job runner writes it before launching.")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path} is not valid JSON ({exc}); write it again.") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a JSON object; write it again.")
    return data


@dataclass(kw_only=True)
class RunConfig:
    """What every run config has: its kind, job, folder, the studio's paths, unknown keys."""

    kind: str
    job_id: str = ""  # added by the job runner
    run_dir: str = ""
    studio_home: str = ""  # where the job process resolves models and caches
    models_dir: str = ""
    extra: dict[str, Any] = field(default_factory=dict)  # keys this version does not know

    @classmethod
    def from_json(cls, path: str | Path):
        """Read RUN_DIR/config.json; raises ConfigError listing every problem."""
        return cls.from_dict(read_config(path))

    @classmethod
    def _split(cls, data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        names = {f.name for f in fields(cls)} - {"extra"}
        known = {k: v for k, v in data.items() if k in names}
        return known, {k: v for k, v in data.items() if k not in names}

    def to_dict(self) -> dict[str, Any]:
        """The config.json content."""
        out = asdict(self)
        return {**out.pop("extra"), **out}

    def settings(self) -> Settings:
        """Settings for resolving models in the job process, from the paths the page wrote."""
        overrides: dict[str, Any] = {}
        if self.studio_home:
            overrides["home"] = Path(self.studio_home)
        if self.models_dir:
            overrides["models_root"] = Path(self.models_dir)
        return Settings.from_env(**overrides)


@dataclass
class RunData:
    """The training data of a run: the dataset version's split files and their counts."""

    train: str  # train.jsonl
    valid: str = ""  # valid.jsonl ("" or a missing file: no validation rows)
    version_id: str = ""
    n_rows: int = 0
    n_rejected: int = 0
    valid_pct: float | None = None  # the share the version's files were split with
    seed: int | None = None  # ... and the seed
    # The model asks another validation share than the version has: train + valid are split
    # again with studio.valid_pct and trainer.seed (stratified like a version's split).
    resplit: bool = False


@dataclass(kw_only=True)
class TrainRun(RunConfig):
    """A training run: the base, the method, the five config dicts, the studio section and
    the data. What the training process reads, as it is."""

    model_type: str  # one of studio.vocab.models.MODEL_TYPES
    method: str  # one of studio.vocab.models.METHODS: what training will really do
    base_model: str  # a model ref (studio.models.resolve)
    data: RunData
    kind: str = TRAIN
    template: str = ""  # the template key the model was made from
    model: dict[str, Any] = field(default_factory=dict)  # from_pretrained's
    quantization: dict[str, Any] = field(default_factory=dict)  # BitsAndBytesConfig's
    peft: dict[str, Any] = field(default_factory=dict)  # LoraConfig's
    tokenizer: dict[str, Any] = field(default_factory=lambda: run_defaults("tokenizer"))
    trainer: dict[str, Any] = field(default_factory=lambda: run_defaults("trainer"))
    studio: StudioSettings = field(default_factory=lambda: StudioSettings.from_dict({}))
    model_id: str = ""  # the saved model row this run trains
    model_name: str = ""
    resume: bool = False  # continue from the last checkpoint
    debug: dict[str, Any] = field(default_factory=dict)  # tests: stop_after_step, log_batches

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainRun:
        """Check a config dict and fill in the defaults; ConfigError lists every problem."""
        data = upgrade_run_config(data)
        problems = cls.problems(data)
        if problems:
            raise ConfigError(problems)
        known, extra = cls._split(data)
        known["tokenizer"] = {**run_defaults("tokenizer"), **(known.get("tokenizer") or {})}
        known["trainer"] = {**run_defaults("trainer"), **(known.get("trainer") or {})}
        known["studio"] = StudioSettings.from_dict(known.get("studio"))
        if known.get("peft"):  # an adapter: LoraConfig gets the table's r, alpha, dropout...
            known["peft"] = {**run_defaults("peft"), **known["peft"]}
        files = known["data"]
        known["data"] = RunData(**{k: files[k] for k in _DATA_KEYS if k in files})
        for section in ("model", "quantization", "peft", "debug"):
            known[section] = known.get(section) or {}
        return cls(**known, extra=extra)

    @staticmethod
    def problems(data: dict[str, Any]) -> list[Problem]:
        """Every problem of a train config dict, each naming its key (empty when fine)."""
        problems = []
        if data.get("model_type") not in MODEL_TYPES:
            problems.append(
                Problem(
                    "model_type",
                    f"must be one of {tuple(MODEL_TYPES)}, got {data.get('model_type')!r}",
                )
            )
        if data.get("method") not in METHODS:
            problems.append(
                Problem("method", f"must be one of {tuple(METHODS)}, got {data.get('method')!r}")
            )
        if not data.get("base_model"):
            problems.append(
                Problem("base_model", "is empty: name a model folder, Hub id or packaged model")
            )
        problems += _data_problems(data.get("data"))
        if data.get("method") in ADAPTER_METHODS and not data.get("peft"):
            problems.append(
                Problem("peft", f"method {data.get('method')} needs LoRA settings in the peft dict")
            )
        for section in SECTIONS:
            if not isinstance(data.get(section, {}), dict):
                problems.append(Problem(section, "must be a JSON object"))
            else:
                problems += refused(section, data.get(section) or {})
        problems += _studio_problems(data.get(STUDIO))
        if not isinstance(data.get("debug", {}) or {}, dict):
            problems.append(Problem("debug", "must be a JSON object"))
        return problems

    def to_dict(self) -> dict[str, Any]:
        """The config.json content (what the training process reads back)."""
        out = super().to_dict()
        out["studio"] = self.studio.to_dict()
        return out


_DATA_KEYS = {f.name for f in fields(RunData)}


def _data_problems(files: Any) -> list[Problem]:
    files = {} if files is None else files
    if not isinstance(files, dict):
        return [Problem("data", "must be a JSON object")]
    problems = []
    if not files.get("train"):
        problems.append(Problem("data.train", "(the path of train.jsonl) is missing"))
    elif not Path(files["train"]).is_file():
        problems.append(
            Problem("data.train", f"{files['train']} does not exist; add the dataset again")
        )
    problems += [Problem(f"data.{k}", "unknown key") for k in files if k not in _DATA_KEYS]
    return problems


def _studio_problems(section: Any) -> list[Problem]:
    if section is None:
        return []
    if not isinstance(section, dict):
        return [Problem(STUDIO, "must be a JSON object")]
    problems = []
    for key, value in section.items():
        spec = STUDIO_SCHEMA.get(key)
        if spec is None:
            problems.append(Problem(f"{STUDIO}.{key}", "unknown key"))
        elif message := value_problem(spec, value):
            problems.append(Problem(f"{STUDIO}.{key}", message))
    return problems
