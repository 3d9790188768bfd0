"""The SQLite store: CRUD per entity, cascade delete with files, migrations, atomic writes."""

from __future__ import annotations

import sqlite3

import pytest

from studio.errors import JobError, NotFoundError, StudioError
from studio.store import Store
from studio.store.schema import SCHEMA_VERSION


def _version(store: Store, app_id: str, name: str = "reviews") -> dict:
    ds = store.get_or_create_dataset(app_id, name)
    with store.transaction() as conn:
        return store.add_dataset_version(
            conn,
            ds["id"],
            content_hash="abc",
            path="/x",
            n_rows=3,
            n_accepted=3,
            stats={"task": "classification", "labels": ["a", "b"]},
        )


def test_migrates_an_empty_file_to_the_current_schema(tmp_path):
    path = tmp_path / "new.db"
    sqlite3.connect(path).close()  # an empty file, as a first start finds it
    assert Store(path).migrate() == SCHEMA_VERSION  # opening migrated it to the newest
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
    updated = store.update_app(app["id"], description=" reviews ")
    assert (updated["name"], updated["description"]) == ("Sentiment v2", "reviews")
    with pytest.raises(StudioError, match="at most 80"):
        store.update_app(app["id"], name="x" * 81)
    with pytest.raises(NotFoundError):
        store.update_app("nope", description="d")
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
    m2 = store.create_model(
        app["id"], "tuned", "smollm2-lora", "causal", v["id"], config, parent_id=m1["id"]
    )
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


def test_deleting_an_app_removes_everything_it_owns(store, settings):
    from studio.export.paths import exports_dir

    app = store.create_app("a")
    other = store.create_app("b")
    v = _version(store, app["id"])
    m = store.create_model(app["id"], "m", "t", "causal", v["id"], {})
    j = store.create_job(app["id"], m["id"], "train", status="succeeded")
    store.add_evaluation(app["id"], m["id"], "perplexity", {"ppl": 3.0}, job_id=j["id"])
    _version(store, other["id"])
    folder = store.app_dir(app["id"]) / "datasets"
    folder.mkdir(parents=True)
    (folder / "train.jsonl").write_text("{}\n")
    exported = exports_dir(settings, app["id"]) / "adapter.zip"
    exported.write_bytes(b"zip")
    kept = exports_dir(settings, other["id"]) / "adapter.zip"
    kept.write_bytes(b"zip")
    store.delete_app(app["id"])
    assert store.counts() == {
        "apps": 1,
        "datasets": 1,
        "dataset_versions": 1,
        "models": 0,
        "jobs": 0,
        "evaluations": 0,
    }
    assert not store.app_dir(app["id"]).exists()
    assert not exported.parent.exists() and kept.is_file()


def test_deleting_an_app_with_an_active_job_is_refused(store):
    # Its process would be orphaned; studio.jobs.removal stops it first, then deletes.
    app = store.create_app("a")
    job = store.create_job(app["id"], None, "train", status="running", pid=1)
    with pytest.raises(JobError, match=f"train job running \\(job {job['id']}\\)"):
        store.delete_app(app["id"])
    assert store.get_app(app["id"]) and store.get_job(job["id"])
    store.update_job(job["id"], status="cancelled")
    store.delete_app(app["id"])
    assert store.counts()["jobs"] == 0


def test_dataset_versions_number_up_and_know_their_app(store):
    app, other = store.create_app("a"), store.create_app("b")
    v1 = _version(store, app["id"])
    v2 = _version(store, app["id"])
    assert (v1["version"], v2["version"]) == (1, 2) and v1["dataset_id"] == v2["dataset_id"]
    assert [d["name"] for d in store.list_datasets(app["id"])] == ["reviews"]
    assert store.version_with_hash(v1["dataset_id"], "abc") == 2  # the newest with that hash
    assert store.version_with_hash(v1["dataset_id"], "other") is None
    assert store.belongs_to_app("dataset_versions", v1["id"], app["id"])
    assert not store.belongs_to_app("dataset_versions", v1["id"], other["id"])
    assert not store.belongs_to_app("dataset_versions", "nope", app["id"])
    row = store.app_version(app["id"], v1["id"])
    assert row["dataset_name"] == "reviews" and row["stats"]["labels"] == ["a", "b"]
    assert store.app_version(other["id"], v1["id"]) is None
    assert store.app_version(app["id"], None) is None


def test_dataset_versions_are_immutable_and_files_outside_the_store_are_kept(store, tmp_path):
    assert not hasattr(store, "update_dataset_version")
    app = store.create_app("a")
    model = store.create_model(app["id"], "m", "t", "causal", None, {})
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    store.create_job(app["id"], model["id"], "train", run_dir=str(outside), status="failed")
    assert store.delete_model(model["id"]) == 0  # a damaged path never deletes outside files
    assert outside.is_dir()


def test_model_update_and_delete_removes_its_run_folders(store):
    app = store.create_app("a")
    m = store.create_model(app["id"], "draft", "t", "causal", None, {"peft": {"r": 8}})
    other = store.create_model(app["id"], "other", "t", "causal", None, {})
    assert store.belongs_to_app("models", m["id"], app["id"])
    assert not store.belongs_to_app("models", m["id"], store.create_app("b")["id"])
    runs = [store.app_dir(app["id"]) / "runs" / name for name in ("j1", "j2", "j3")]
    for run in runs:
        run.mkdir(parents=True)
        (run / "train.log").write_text("x")
    j1 = store.create_job(app["id"], m["id"], "train", run_dir=str(runs[0]), status="running")
    store.create_job(app["id"], m["id"], "evaluate", run_dir=str(runs[1]), status="failed")
    store.create_job(app["id"], other["id"], "train", run_dir=str(runs[2]), status="succeeded")
    with pytest.raises(JobError, match="cancel it in the Train tab"):
        store.delete_model(m["id"])
    store.update_job(j1["id"], status="cancelled")
    assert store.delete_model(m["id"]) == 2
    assert [r.exists() for r in runs] == [False, False, True]
    assert [j["model_id"] for j in store.list_jobs(app["id"])] == [other["id"]]
    with pytest.raises(NotFoundError):
        store.delete_model(m["id"])


def test_evaluations_are_listed_per_app_and_model(store):
    app = store.create_app("a")
    m = store.create_model(app["id"], "m", "t", "causal", None, {})
    ev = store.add_evaluation(app["id"], None, "perplexity", {"ppl": 3.0})
    of_m = store.add_evaluation(app["id"], m["id"], "evaluate", {"bleu": 1.0})
    assert {e["id"] for e in store.list_evaluations(app["id"])} == {ev["id"], of_m["id"]}
    assert [e["results"] for e in store.list_evaluations(app["id"], m["id"])] == [{"bleu": 1.0}]
    assert store.belongs_to_app("evaluations", ev["id"], app["id"])


def test_a_write_that_fails_half_way_leaves_nothing(store):
    # As studio.data.versions does: the new dataset, then its version, in one transaction;
    # the version's id clashes with an existing one, so the second insert fails after the
    # first succeeded.
    app = store.create_app("a")
    taken = _version(store, app["id"], "old")
    before = store.counts()
    with pytest.raises(sqlite3.IntegrityError), store.transaction() as conn:
        ds = store.get_or_create_dataset(app["id"], "new", conn=conn)
        store.add_dataset_version(conn, ds["id"], id=taken["id"], content_hash="h", path="q")
    assert store.counts() == before
    assert [d["name"] for d in store.list_datasets(app["id"])] == ["old"]
