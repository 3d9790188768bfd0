"""A database written before each setting was stored once opens in today's shape: its saved
models keep the five dicts and the studio section, and the form shows what it showed."""

from __future__ import annotations

import json
import sqlite3

from studio.configs.defaults import default_dicts, default_hyper
from studio.configs.saving import split_config
from studio.store import Store
from studio.store.schema import MIGRATIONS, SCHEMA_VERSION
from studio.templates import TEMPLATES

TEMPLATE = TEMPLATES["smollm2-135m-lora"]


def _old_config() -> dict:
    """A model config as saving wrote it then: the dicts with the form written in, launch
    and packing keys in the trainer dict, and the form's values beside them."""
    hyper = {
        **default_hyper(TEMPLATE),
        "valid_pct": 20.0,
        "invalid_tolerance_pct": 5.0,
        "response_only": False,
        "time_budget_min": 3.0,
        "learning_rate": 1e-3,
        "processes": 2,
    }
    dicts = {k: v for k, v in default_dicts(TEMPLATE).items() if k != "studio"}
    trainer = dicts["trainer"]
    trainer.update(learning_rate=1e-3, processes=2, num_machines=1, packing=True)
    return {**dicts, "hyper": hyper}


def _database_at_version_2(path) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    for step in MIGRATIONS[:2]:
        for stmt in filter(str.strip, step.split(";")):
            conn.execute(stmt)
    conn.execute("PRAGMA user_version = 2")
    now = 1.0
    conn.execute(
        "INSERT INTO apps (id, owner, name, created_at, updated_at) VALUES "
        "('a1', 'local', 'Old app', ?, ?)",
        (now, now),
    )
    conn.execute(
        "INSERT INTO models (id, app_id, name, version, template, model_type, config, "
        "created_at) VALUES ('m1', 'a1', 'old model', 1, ?, 'causal', ?, ?)",
        (TEMPLATE.key, json.dumps(_old_config()), now),
    )
    conn.close()


def test_an_old_database_stores_each_setting_once_after_it_opens(tmp_path):
    db = tmp_path / "studio.db"
    _database_at_version_2(db)
    store = Store(db)  # opening migrates
    assert sqlite3.connect(db).execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    config = store.get_model("m1")["config"]
    assert set(config) == {"model", "quantization", "peft", "tokenizer", "trainer", "studio"}
    studio = config["studio"]
    assert studio["valid_pct"] == 20.0 and studio["invalid_tolerance_pct"] == 5.0
    assert studio["response_only"] is False and studio["time_budget_min"] == 3.0
    assert studio["processes"] == 2 and studio["packing"] is True
    assert not {"processes", "num_machines", "packing"} & set(config["trainer"])
    _, form = split_config(config, TEMPLATE.key)
    old = _old_config()["hyper"]
    for key in ("valid_pct", "response_only", "time_budget_min", "learning_rate", "processes"):
        assert form[key] == old[key], key
    # Opening it again changes nothing.
    assert Store(db).get_model("m1")["config"] == config
