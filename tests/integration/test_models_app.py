"""The Models tab through the real app: save validates, stores, lists, clones and deletes;
a picked dataset version pre-fills its validation share."""

from __future__ import annotations

import json

import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError

from studio.actions.start_training import version_dir
from studio.configs import FORM_ORDER, STORED_SECTIONS, model_config
from studio.configs.defaults import default_dicts, default_hyper
from studio.templates import TEMPLATES
from tests.helpers import serve


def _version(store, app_id: str, **fields) -> dict:
    fields = {"n_rows": 4, "n_accepted": 4, "stats": {"task": "generation"}, **fields}
    with store.transaction() as conn:
        ds = store.get_or_create_dataset(app_id, "greetings", conn=conn)
        row = store.add_dataset_version(conn, ds["id"], content_hash="h", path="", **fields)
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


# /save_model's inputs: app, type, template, version, name, the form's parent (a State: no
# parameter of its own), then the form's fields and the JSON editors, unnamed (param_<n>).
SAVE = {"api_name": "/save_model"}


def field(key: str) -> str:
    return f"param_{6 + FORM_ORDER.index(key)}"


def editor(section: str) -> str:
    return f"param_{6 + len(FORM_ORDER) + STORED_SECTIONS.index(section)}"


def test_models_tab_saves_lists_and_clones(served):
    url, ctx = served
    store = ctx.store
    studio_app = store.create_app("Bots")
    version = _version(store, studio_app["id"])
    client = Client(url, verbose=False)
    base = dict(
        app_id=studio_app["id"],
        kind="causal",
        key="smollm2-135m-lora",
        version_id=version["id"],
        model_name="greeter",
    )

    note, table, _pick, _bump = client.predict(**base, api_name="/save_model")
    assert "Saved **greeter v1**" in note, note
    [model] = store.list_models(studio_app["id"])
    template = TEMPLATES["smollm2-135m-lora"]
    assert model["config"] == model_config(default_dicts(template), default_hyper(template))
    assert table["data"][0][:2] == ["greeter", 1]

    # Batch size 0 and a negative alpha, both reported at once; nothing saved.
    bad = client.predict(**base, **{field("batch_size"): 0, field("lora_alpha"): -4}, **SAVE)[0]
    assert "**Batch size**: must be at least 1 (got 0)" in bad  # named as in the form
    assert "**LoRA alpha**: must be > 0 (got -4" in bad
    # A 4-bit load with fp16 compute typed into the JSON editor, on this CPU-only machine
    # (4-bit itself runs on a CPU; fp16 compute there would be emulated).
    four_bit = '{"load_in_4bit": true, "bnb_4bit_compute_dtype": "float16"}'
    quant = client.predict(**base, **{editor("quantization"): four_bit}, **SAVE)[0]
    assert (
        "**Quantization config → bnb_4bit_compute_dtype**: 'float16' on a CPU is emulated" in quant
    )
    # Machine rank 3 of one machine, and FSDP on this CPU-only machine.
    edits = {field("machine_rank"): 3, editor("trainer"): '{"fsdp": "full_shard auto_wrap"}'}
    rank = client.predict(**base, **edits, **SAVE)[0]
    assert "**This machine's rank**: 3 must be below num_machines (1)" in rank
    assert (
        "**Trainer config → fsdp**: 'full_shard auto_wrap' shards the model over CUDA GPUs" in rank
    )
    broken = client.predict(**base, **{editor("trainer"): "{oops"}, **SAVE)[0]
    assert "**Trainer config**: not valid JSON" in broken
    assert len(store.list_models(studio_app["id"])) == 1

    # An edited form value lands in the stored dicts.
    edits = {field("epochs"): 1.0, field("max_steps"): 20, field("processes"): 2}
    note = client.predict(**base, **edits, **SAVE)[0]
    assert "greeter v2" in note
    latest = store.list_models(studio_app["id"])[0]
    assert latest["config"]["trainer"]["num_train_epochs"] == 1.0
    assert latest["config"]["trainer"]["max_steps"] == 20
    assert latest["config"]["studio"]["processes"] == 2  # Processes / GPUs

    cloned = client.predict(latest["id"], api_name="/on_clone")
    # type, template, card, the form's fields, the JSON editors, dataset version, name, message
    assert cloned[0] == "causal" and cloned[-3:-1] == (version["id"], "greeter")
    editors = dict(zip(STORED_SECTIONS, cloned[-3 - len(STORED_SECTIONS) : -3], strict=True))
    assert json.loads(editors["trainer"])["max_steps"] == 20
    assert json.loads(editors["studio"])["processes"] == 2
    assert cloned[3 + FORM_ORDER.index("max_steps")] == 20  # the Max steps field
    assert "Loaded **greeter v2**" in cloned[-1]


def test_page_has_the_models_components_and_marks_unavailable_templates(served):
    url, _ = served
    import httpx

    config = httpx.get(url + "/config", timeout=30).json()
    by_id = {c["props"].get("elem_id"): c for c in config["components"] if c.get("props")}
    for elem in (
        "models-type",
        "models-template",
        "models-save",
        "models-name",
        "models-problems",
        "models-epochs",
        "models-lr",
        "models-max-steps",
        "models-json-trainer",
        "models-dataset",
    ):
        assert elem in by_id, elem
    labels = [c[0] for c in by_id["models-template"]["props"]["choices"]]
    assert "Llama-2 7B QLoRA (weights not on this machine)" in labels
    assert "SmolLM2-135M-Instruct LoRA" in labels
    assert "SmolLM2-135M-Instruct QLoRA" in labels  # 4-bit on this CPU: available
    assert "FLAN-T5 base LoRA" not in " ".join(labels)  # Text-to-Text only


def test_delete_needs_confirmation_and_removes_the_model(served):
    url, ctx = served
    store = ctx.store
    studio_app = store.create_app("Bots")
    version = _version(store, studio_app["id"])
    client = Client(url, verbose=False)
    base = dict(
        app_id=studio_app["id"], kind="causal", key="smollm2-135m-lora", version_id=version["id"]
    )
    client.predict(**base, model_name="keep", api_name="/save_model")
    client.predict(**base, model_name="drop", api_name="/save_model")
    drop = next(m for m in store.list_models(studio_app["id"]) if m["name"] == "drop")

    with pytest.raises(AppError, match="Tick 'I understand' to delete drop v1"):
        client.predict(studio_app["id"], drop["id"], False, api_name="/delete_model")
    assert len(store.list_models(studio_app["id"])) == 2

    # A queued training job holds the model: refused, with the way out.
    job = store.create_job(studio_app["id"], drop["id"], "train")
    with pytest.raises(AppError, match="cancel it in the Train tab"):
        client.predict(studio_app["id"], drop["id"], True, api_name="/delete_model")
    store.update_job(job["id"], status="failed")

    note, table, _pick, _bump, confirm = client.predict(
        studio_app["id"], drop["id"], True, api_name="/delete_model"
    )
    assert "Deleted **drop v1**" in note
    assert [m["name"] for m in store.list_models(studio_app["id"])] == ["keep"]
    assert [row[0] for row in table["data"]] == ["keep"]
    assert confirm is False  # the next delete needs a fresh confirmation

    other = store.create_app("Other")
    theirs = store.create_model(other["id"], "theirs", "smollm2-135m-lora", "causal", None, {})
    with pytest.raises(AppError, match="belongs to another app"):
        client.predict(studio_app["id"], theirs["id"], True, api_name="/delete_model")
    assert store.get_model(theirs["id"])["name"] == "theirs"


def test_picking_a_version_prefills_its_split_and_scratch_edits_architecture(served):
    url, ctx = served
    store = ctx.store
    studio_app = store.create_app("Sentiment")
    stats = {
        "task": "classification",
        "labels": ["negative", "positive"],
        "n_train": 75,
        "n_valid": 25,
    }
    version = _version(
        store,
        studio_app["id"],
        n_rows=110,
        n_accepted=100,
        n_rejected=10,
        valid_pct=25.0,
        stats=stats,
    )
    client = Client(url, verbose=False)

    summary, valid_pct = client.predict(studio_app["id"], version["id"], api_name="/on_version")
    assert valid_pct == 25.0
    assert "110 rows, 100 accepted, 10 rejected (9%)" in summary
    assert "task classification" in summary and "labels negative, positive" in summary
    assert "validation 25% (75 train / 25 valid)" in summary

    # Switching template keeps the version's share instead of the template default (10%).
    state = client.predict(
        "tiny-gpt-scratch", "causal", studio_app["id"], version["id"], api_name="/on_template"
    )
    assert state[1 + FORM_ORDER.index("valid_pct")] == 25.0  # after the card: the form
    # An unknown id (typed into the dropdown) leaves the form alone.
    assert client.predict(studio_app["id"], "nope", api_name="/on_version")[0] == ""

    # The scratch template has no adapter; its architecture fields edit model.architecture.
    model_text, peft_text = state[1 + len(FORM_ORDER)], state[1 + len(FORM_ORDER) + 2]
    assert json.loads(peft_text) == {}
    # Editing an architecture field rewrites model.architecture in the JSON editor.
    new_text = client.predict(model_text, 128, 384, 2, 4, 2, 512, api_name="/arch_to_json")
    arch = json.loads(new_text)["architecture"]
    assert (arch["hidden_size"], arch["num_hidden_layers"], arch["num_key_value_heads"]) == (
        128,
        2,
        2,
    )
    assert arch["tie_word_embeddings"] is True  # keys without a field are kept
    assert client.predict(new_text, api_name="/json_to_arch")[:3] == (128, 384, 2)
