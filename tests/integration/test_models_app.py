"""The Models tab through the real app: save validates, stores, lists, and clones."""

from __future__ import annotations

import json

import pytest
from gradio_client import Client

from studio.configs import model_config, version_dir
from studio.templates import TEMPLATES
from tests.helpers import serve


def _version(store, app_id: str) -> dict:
    with store.transaction() as conn:
        ds = store.get_or_create_dataset(app_id, "greetings", conn=conn)
        row = store.add_dataset_version(conn, ds["id"], content_hash="h", path="", n_rows=4,
                                        n_accepted=4, stats={"task": "generation"})  # fmt: skip
    folder = version_dir(store, app_id, row["id"])
    folder.mkdir(parents=True)
    line = json.dumps({"instruction": "Greet", "input": "", "output": "hello", "style": "plain"})
    for split in ("train", "valid"):
        (folder / f"{split}.jsonl").write_text(line + "\n")
    return row


@pytest.fixture
def served(settings, tmp_path, monkeypatch):
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "gradio"))
    import app

    fastapi_app, _, ctx = app.create_server(settings, start_runner=False)
    with serve(fastapi_app) as url:
        yield url, ctx


def test_models_tab_saves_lists_and_clones(served):
    url, ctx = served
    store = ctx.store
    studio_app = store.create_app("Bots")
    version = _version(store, studio_app["id"])
    client = Client(url, verbose=False)
    base = dict(app_id=studio_app["id"], kind="causal", key="smollm2-135m-lora",
                version_id=version["id"], model_name="greeter")  # fmt: skip

    note, table, _pick, _bump = client.predict(**base, api_name="/save_model")
    assert "Saved **greeter v1**" in note, note
    [model] = store.list_models(studio_app["id"])
    template = TEMPLATES["smollm2-135m-lora"]
    assert model["config"] == model_config(template.default_dicts(), template.default_hyper())
    assert table["data"][0][:2] == ["greeter", 1]

    # Batch size 0 and a negative alpha, both reported at once; nothing saved.
    bad = client.predict(**base, param_11=0, param_16=-4, api_name="/save_model")[0]
    assert "trainer.per_device_train_batch_size: must be at least 1 (got 0)" in bad
    assert "peft.lora_alpha: must be > 0 (got -4" in bad
    # A 4-bit load typed into the JSON editor, on this CPU-only machine.
    quant = client.predict(**base, param_25='{"load_in_4bit": true}', api_name="/save_model")[0]
    assert "quantization.load_in_4bit: 4-bit loading needs a CUDA GPU" in quant
    broken = client.predict(**base, param_28="{oops", api_name="/save_model")[0]
    assert "trainer: not valid JSON" in broken
    assert len(store.list_models(studio_app["id"])) == 1

    # An edited form value lands in the stored dicts.
    note = client.predict(**base, param_7=1.0, param_14=20, api_name="/save_model")[0]
    assert "greeter v2" in note
    latest = store.list_models(studio_app["id"])[0]
    assert latest["config"]["trainer"]["num_train_epochs"] == 1.0
    assert latest["config"]["trainer"]["max_steps"] == 20

    cloned = client.predict(latest["id"], api_name="/on_clone")
    # type, template, card, 18 form fields, 5 editors, dataset version, name, message
    assert cloned[0] == "causal" and cloned[-3:-1] == (version["id"], "greeter")
    assert json.loads(cloned[-4])["max_steps"] == 20  # the trainer editor
    assert cloned[3 + 8] == 20  # the Max steps field
    assert "Loaded **greeter v2**" in cloned[-1]


def test_page_has_the_models_components_and_marks_unavailable_templates(served):
    url, _ = served
    import httpx

    config = httpx.get(url + "/config", timeout=30).json()
    by_id = {c["props"].get("elem_id"): c for c in config["components"] if c.get("props")}
    for elem in ("models-type", "models-template", "models-save", "models-name",
                 "models-problems", "models-epochs", "models-lr", "models-max-steps",
                 "models-json-trainer", "models-dataset"):  # fmt: skip
        assert elem in by_id, elem
    labels = [c[0] for c in by_id["models-template"]["props"]["choices"]]
    assert "Llama-2 7B QLoRA (needs a CUDA GPU)" in labels
    assert "SmolLM2-135M-Instruct LoRA" in labels
    assert "FLAN-T5 base LoRA" not in " ".join(labels)  # Text-to-Text only
