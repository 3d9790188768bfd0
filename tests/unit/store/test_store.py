"""The SQLite store: CRUD per entity, cascade delete, migrations, atomic writes."""

from __future__ import annotations

import sqlite3

import pytest

from studio.errors import NotFoundError, StudioError
from studio.store import Store
from studio.store.schema import SCHEMA_VERSION


def _version(store: Store, app_id: str, name: str = "reviews") -> dict:
    ds = store.get_or_create_dataset(app_id, name)
    with store.transaction() as conn:
        return store.add_dataset_version(
            conn, ds["id"], content_hash="abc", path="/x", n_rows=3, n_accepted=3,
            stats={"task": "classification", "labels": ["a", "b"]},
        )  # fmt: skip


def test_migrates_an_empty_file_to_the_current_schema(tmp_path):
    path = tmp_path / "new.db"
    sqlite3.connect(path).close()  # an empty file, as a first start finds it
    store = Store(path)
    assert store.schema_version() == SCHEMA_VERSION
    assert Store(path).migrate() == SCHEMA_VERSION  # a second open migrates nothing
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_refuses_a_database_from_a_newer_studio(tmp_path):
    path = tmp_path / "future.db"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(StudioError, match="newer"):
        Store(path)


def test_app_crud_and_owner(store):
    app = store.create_app("Sentiment", owner="alice", description="tweets")
    assert store.get_app(app["id"])["owner"] == "alice"
    assert [a["name"] for a in store.list_apps(owner="alice")] == ["Sentiment"]
    assert store.list_apps(owner="bob") == []
    store.rename_app(app["id"], "Sentiment v2")
    assert store.get_app(app["id"])["name"] == "Sentiment v2"
    with pytest.raises(StudioError, match="already have an app"):
        store.create_app("Sentiment v2", owner="alice")
    with pytest.raises(StudioError, match="needs a name"):
        store.create_app("  ")
    store.delete_app(app["id"])
    with pytest.raises(NotFoundError):
        store.get_app(app["id"])


def test_dataset_versions_number_up_and_keep_their_fields(store):
    app = store.create_app("a")
    v1 = _version(store, app["id"])
    v2 = _version(store, app["id"])
    assert (v1["version"], v2["version"]) == (1, 2)
    got = store.get_dataset_version(v1["id"])
    assert got["stats"] == {"task": "classification", "labels": ["a", "b"]}
    assert [v["version"] for v in store.list_dataset_versions(app["id"])] == [2, 1]


def test_model_config_round_trips_and_versions_by_name(store):
    app = store.create_app("a")
    v = _version(store, app["id"])
    config = {"peft": {"r": 8, "target_modules": ["q_proj"]}, "trainer": {"learning_rate": 2e-4}}
    m1 = store.create_model(app["id"], "tuned", "smollm2-lora", "causal", v["id"], config)
    m2 = store.create_model(app["id"], "tuned", "smollm2-lora", "causal", v["id"], config,
                            parent_id=m1["id"])  # fmt: skip
    assert store.get_model(m1["id"])["config"] == config
    assert (m1["version"], m2["version"]) == (1, 2)
    store.delete_model(m1["id"])
    assert [m["id"] for m in store.list_models(app["id"])] == [m2["id"]]


def test_job_lifecycle_and_filters(store):
    app = store.create_app("a")
    job = store.create_job(app["id"], None, "train", params={"resume": False})
    assert job["status"] == "queued"
    store.update_job(job["id"], status="running", pid=123, started_at=1.0)
    store.update_job(job["id"], status="succeeded", summary={"eval_loss": 1.5})
    assert store.get_job(job["id"])["summary"] == {"eval_loss": 1.5}
    assert store.list_jobs(status=("running",)) == []
    assert len(store.list_jobs(app["id"], kind="train")) == 1
    with pytest.raises(ValueError):
        store.update_job(job["id"], status="exploded")
    with pytest.raises(NotFoundError):
        store.update_job("nope", status="failed")


def test_deleting_an_app_removes_everything_it_owns(store):
    app = store.create_app("a")
    other = store.create_app("b")
    v = _version(store, app["id"])
    m = store.create_model(app["id"], "m", "t", "causal", v["id"], {})
    j = store.create_job(app["id"], m["id"], "train")
    store.add_evaluation(app["id"], m["id"], "perplexity", {"ppl": 3.0}, job_id=j["id"])
    _version(store, other["id"])
    folder = store.app_dir(app["id"]) / "datasets"
    folder.mkdir(parents=True)
    (folder / "train.jsonl").write_text("{}\n")
    store.delete_app(app["id"])
    assert store.counts() == {"apps": 1, "datasets": 1, "dataset_versions": 1, "models": 0,
                              "jobs": 0, "evaluations": 0}  # fmt: skip
    assert not store.app_dir(app["id"]).exists()


def test_a_write_that_fails_half_way_leaves_nothing(store):
    app = store.create_app("a")
    before = store.counts()
    ds = store.get_or_create_dataset(app["id"], "d")
    before = store.counts()
    with pytest.raises(RuntimeError):
        with store.transaction() as conn:
            store.add_dataset_version(conn, ds["id"], content_hash="h", path="/p")
            raise RuntimeError("disk full while copying files")
    assert store.counts() == before
    assert store.list_dataset_versions(app["id"]) == []
