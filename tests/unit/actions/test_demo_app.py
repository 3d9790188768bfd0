"""The sample files and the one-click demo app built from them."""

from __future__ import annotations

import pytest

import studio.actions.demo_app as demo_app
from studio.actions.ownership import Caller
from studio.actions.start_training import check_trainable
from studio.data.samples import SAMPLES, sample_choices
from studio.data.versions import load_examples
from studio.errors import StudioError


def create_demo_app(store, settings, key):
    """studio.actions.demo_app.create_demo_app as the local user."""
    return demo_app.create_demo_app(store, settings, Caller(settings.owner), key)


@pytest.mark.parametrize("key", list(SAMPLES))
def test_every_sample_makes_a_trainable_demo_app(store, settings, key):
    made = create_demo_app(store, settings, key)
    app, version, model = made["app"], made["version"], made["model"]
    assert app["name"].startswith("Demo: ")
    # Every row of our own sample files is valid: nothing rejected, nothing dropped.
    assert version["n_accepted"] == version["n_rows"] >= 25
    assert load_examples(store, version["id"], "train")
    assert model["dataset_version_id"] == version["id"]
    assert model["template"] == SAMPLES[key].template
    assert model["config"]["trainer"]["logging_steps"] == 1
    assert [a["action"] for a in store.list_activity(app["id"])] == ["created", "saved"]
    # The saved configuration is what the Train button accepts.
    config = check_trainable(store, settings, model["id"])
    assert config["trainer"]["num_train_epochs"] == SAMPLES[key].hyper["epochs"]


def test_sentiment_demo_is_classification_with_three_labels(store, settings):
    version = create_demo_app(store, settings, "sentiment")["version"]
    stats = version["stats"]
    assert stats["task"] == "classification"
    assert sorted(stats["labels"]) == ["negative", "neutral", "positive"]
    assert stats["token_lengths"]["tokenizer"] == "SmolLM2-135M-Instruct"


def test_a_second_demo_gets_a_new_name(store, settings):
    first = create_demo_app(store, settings, "qa")["app"]["name"]
    second = create_demo_app(store, settings, "qa")["app"]["name"]
    assert first != second and second == f"{first} (2)"


def test_a_failure_half_way_leaves_no_app(store, settings, monkeypatch):
    def broken(*args, **kwargs):
        raise StudioError("disk full")

    monkeypatch.setattr(demo_app, "save_model", broken)
    with pytest.raises(StudioError, match="disk full"):
        create_demo_app(store, settings, "sentiment")
    assert store.list_apps() == []
    assert not any(settings.apps_dir.iterdir())  # its files went with it


def test_unknown_sample_is_a_clear_error(store, settings):
    with pytest.raises(StudioError, match="no sample called 'nope'"):
        create_demo_app(store, settings, "nope")
    assert [key for _label, key in sample_choices()] == list(SAMPLES)
