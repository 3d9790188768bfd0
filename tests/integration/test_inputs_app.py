"""The Apps and Inputs tabs through the real app and gradio_client: create an app, upload a
dataset, and find the version, counts and rejects in the store."""

from __future__ import annotations

from pathlib import Path

import pytest
from gradio_client import Client, handle_file

from studio.data.versions import load_examples
from studio.settings import Settings
from tests.helpers import serve
from tests.support.examples import rejected_rows

ASSETS = Path(__file__).resolve().parent.parent / "assets"


@pytest.fixture(scope="module")
def served(tmp_path_factory, models_cache):
    # One server for the module: stopping one costs ~10 s (open event streams).
    home = tmp_path_factory.mktemp("inputs-app")
    patch = pytest.MonkeyPatch()
    patch.setenv("GRADIO_TEMP_DIR", str(home / "gradio"))
    import app

    settings = Settings.from_env(home=home / "home", models_root=models_cache, port=0)
    fastapi_app, _, ctx = app.create_server(settings, start_runner=False)
    with serve(fastapi_app) as url:
        client = Client(url, verbose=False)
        yield client, ctx
        client.close()
    patch.undo()


def test_create_app_upload_and_find_version_in_store(served):
    client, ctx = served
    store = ctx.store
    out = client.predict("Sentiment", "finance news", api_name="/create_app")
    app_id, message = out[0], out[-1]
    row = store.get_app(app_id)
    assert row["name"] == "Sentiment" and row["description"] == "finance news"
    assert "Created **Sentiment**" in message

    result = client.predict(
        app_id=app_id,
        file_list=[handle_file(str(ASSETS / "sentiment_with_bad_row.csv"))],
        dataset_name="news",
        pct=20,
        split_seed=7,
        api_name="/upload_dataset",
    )
    counts, rejects, rejects_file = result[0], result[1], result[2]
    assert "24 accepted" in counts and "1 rejected" in counts, counts
    assert rejects["data"][0][1] == 14 and "no target section" in rejects["data"][0][2]
    assert Path(rejects_file).read_text().count("no target section") == 1

    [version] = store.list_dataset_versions(app_id)
    assert (version["dataset_name"], version["version"]) == ("news", 1)
    assert (version["n_accepted"], version["n_rejected"], version["n_duplicates"]) == (24, 1, 0)
    assert version["stats"]["task"] == "classification"
    assert version["stats"]["label_counts"] == {"negative": 8, "positive": 8, "neutral": 8}
    assert version["valid_pct"] == 20 and version["seed"] == 7
    tokens = version["stats"].get("token_lengths")
    assert tokens or version["stats"]["token_note"]  # the histogram, or why there is none
    if tokens:
        assert tokens["n_measured"] == 24 and 40 < tokens["mean"] < 120
    assert len(load_examples(store, version["id"], "valid")) == version["stats"]["n_valid"] == 6
    [reject] = rejected_rows(store, version["id"])
    assert reject["row"] == "14" and "Rowan Freight" in reject["text"]

    # The preview shows the prompt exactly as rendered for training.
    preview = result[5]["data"]
    assert preview[0][1].startswith("### Instruction: What is the sentiment")
    assert preview[0][1].endswith("### Assistant:")
    assert preview[0][2] in (" negative.", " positive.", " neutral.")


def test_bad_upload_shows_message_and_leaves_store_untouched(served, tmp_path):
    client, ctx = served
    app_id = client.predict("Bots", "", api_name="/create_app")[0]
    archive = tmp_path / "data.zip"
    archive.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(Exception, match="unpack it"):
        client.predict(
            app_id=app_id, file_list=[handle_file(str(archive))], api_name="/upload_dataset"
        )
    assert ctx.store.list_dataset_versions(app_id) == []
    assert ctx.store.list_datasets(app_id) == []


def test_pasted_text_rename_and_delete(served):
    client, ctx = served
    app_id = client.predict("Notes", "", api_name="/create_app")[0]
    text = "### Instruction: Greet ### Human: Bob ### Assistant: Hi Bob!\nplain line to learn\n"
    out = client.predict(app_id=app_id, file_list=[], text=text, api_name="/upload_dataset")
    assert "2 accepted" in out[0]
    [version] = ctx.store.list_dataset_versions(app_id)
    assert version["dataset_name"] == "pasted"

    client.predict(app_id, "Notes 2", api_name="/rename_app")
    assert ctx.store.get_app(app_id)["name"] == "Notes 2"
    with pytest.raises(Exception, match="I understand"):
        client.predict(app_id, False, api_name="/delete_app")
    assert ctx.store.get_app(app_id)
    n_versions = ctx.store.counts()["dataset_versions"]
    out = client.predict(app_id, True, api_name="/delete_app")
    assert out[0] == "" and app_id not in {a["id"] for a in ctx.store.list_apps()}
    assert ctx.store.counts()["dataset_versions"] == n_versions - 1
    assert not ctx.store.app_dir(app_id).exists()


def test_mapping_step_is_prefilled_then_an_edited_mapping_is_used(served, tmp_path):
    client, ctx = served
    app_id = client.predict("QA", "", api_name="/create_app")[0]
    table = tmp_path / "qa.csv"
    table.write_text("question_text,answer_text\nWho?,Me\nWhy?,Because\n")
    out = client.predict([handle_file(str(table))], "", api_name="/detect_columns")
    note, shape, text_col = out[0], out[1], out[2]  # (the accordion is not an API output)
    assert "columns: question_text, answer_text" in note and "choose the shape" in note
    assert shape == "text" and text_col["value"] == ""  # no guess: the user is asked
    assert ["answer_text", "answer_text"] in text_col["choices"]
    result = client.predict(
        app_id=app_id,
        file_list=[handle_file(str(table))],
        shape_key="prompt_completion",
        text_col="",
        input_col="question_text",
        output_col="answer_text",
        api_name="/upload_dataset",
    )
    assert "2 accepted" in result[0]
    [version] = ctx.store.list_dataset_versions(app_id)
    assert version["stats"]["mappings"]["qa.csv"]["shape"] == "prompt_completion"
