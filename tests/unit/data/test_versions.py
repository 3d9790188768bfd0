"""Dataset versions: written whole or not at all, immutable, loadable, with a report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from studio.data import versions
from studio.data.versions import (
    create_version,
    load_examples,
    pasted_source,
    version_folder,
)
from studio.errors import DataError, NotFoundError
from tests.support.examples import rejected_rows

ASSETS = Path(__file__).resolve().parents[2] / "assets"
SENTIMENT = ASSETS / "sentiment_with_bad_row.csv"


@pytest.fixture
def app_id(store):
    return store.create_app("Sentiment")["id"]


def snapshot(store, settings) -> tuple[dict, list[str]]:
    files = sorted(str(p.relative_to(settings.home)) for p in settings.apps_dir.rglob("*"))
    return store.counts(), files


def test_create_version_writes_files_row_and_report(store, settings, app_id):
    row, report = create_version(store, settings, app_id, "news", [SENTIMENT], valid_pct=20, seed=3)
    assert (row["version"], row["n_rows"], row["n_accepted"], row["n_rejected"]) == (1, 25, 24, 1)
    assert row["stats"]["task"] == "classification" and row["stats"]["stratified"]
    assert (row["stats"]["n_train"], row["stats"]["n_valid"]) == (18, 6)
    folder = version_folder(store, row)
    assert folder == settings.apps_dir / app_id / "datasets" / row["id"]
    assert sorted(p.name for p in folder.iterdir()) == [
        "rejects.csv",
        "sources",
        "train.jsonl",
        "valid.jsonl",
        "version.json",
    ]
    assert (folder / "sources" / "01-sentiment_with_bad_row.csv").read_bytes() == (
        SENTIMENT.read_bytes()
    )
    train = load_examples(store, row["id"], "train")
    valid = load_examples(store, row["id"], "valid")
    assert len(train) == 18 and len(valid) == 6
    assert load_examples(store, row["id"], "all") == train + valid
    assert {e.output for e in valid} == {"negative.", "neutral.", "positive."}  # stratified
    [reject] = rejected_rows(store, row["id"])
    assert reject["row"] == "14" and reject["reason"].startswith("no target section")
    assert report["rejects"][0].row == 14 and report["reasons"] == {"no_target": 1}
    assert len(report["content_hash"]) == 64 and report["same_as"] is None


def test_versions_are_immutable_and_numbered(store, settings, app_id):
    first, _ = create_version(store, settings, app_id, "news", [SENTIMENT])
    before = (version_folder(store, first) / "train.jsonl").read_bytes()
    second, report = create_version(store, settings, app_id, "news", [SENTIMENT], seed=9)
    assert second["version"] == 2 and second["id"] != first["id"]
    assert second["content_hash"] == first["content_hash"]
    assert report["same_as"] == 1 and "Same examples as news v1" in report["notes"][0]
    assert (version_folder(store, first) / "train.jsonl").read_bytes() == before
    assert store.get_dataset_version(first["id"])["seed"] == 42
    other, _ = create_version(store, settings, app_id, "other", [pasted_source("just text")])
    assert other["version"] == 1 and other["stats"]["task"] == "text"
    assert len(store.list_datasets(app_id)) == 2


@pytest.mark.parametrize("where", ["insert", "rename"])
def test_failure_mid_create_leaves_nothing(store, settings, app_id, monkeypatch, where):
    create_version(store, settings, app_id, "news", [SENTIMENT])
    before = snapshot(store, settings)

    def boom(*args, **kwargs):
        raise OSError("disk full")

    if where == "insert":
        monkeypatch.setattr(store, "add_dataset_version", boom)
    else:
        monkeypatch.setattr(versions.os, "rename", boom)
    with pytest.raises(OSError, match="disk full"):
        create_version(store, settings, app_id, "fresh", [SENTIMENT])
    assert snapshot(store, settings) == before  # no dataset, no version, no folder
    assert list(settings.tmp_dir.iterdir()) == []


@pytest.mark.parametrize(
    "source,message",
    [
        (("empty.csv", b""), "empty.csv is empty"),
        (("photo.csv", bytes(range(256)) * 8), "looks binary"),
        (("data.zip", b"PK\x03\x04"), "unpack it"),
        (("all_bad.txt", "### Human: no answer\n### Human: none either"), "None of the 2 rows"),
    ],
)
def test_bad_input_leaves_existing_datasets_untouched(store, settings, app_id, source, message):
    create_version(store, settings, app_id, "news", [SENTIMENT])
    before = snapshot(store, settings)
    with pytest.raises(DataError, match=message):
        # One bad file among good ones stops the whole upload (except an all-rejected one).
        sources = [source] if source[0] == "all_bad.txt" else [SENTIMENT, source]
        create_version(store, settings, app_id, "news", sources)
    assert snapshot(store, settings) == before


def test_oversize_upload_is_refused(store, settings, app_id, tmp_path):
    big = tmp_path / "big.jsonl"
    big.write_bytes(b"x" * (settings.max_upload_mb * 1024 * 1024 + 1))
    with pytest.raises(DataError, match="upload limit"):
        create_version(store, settings, app_id, "big", [big])
    assert store.counts()["dataset_versions"] == 0


def test_several_sources_and_broken_jsonl_line(store, settings, app_id):
    jsonl = "\n".join(
        [
            json.dumps({"prompt": "2+2", "completion": "4"}),
            "{broken",
            json.dumps({"prompt": "3+3", "completion": "6"}),
        ]
    )
    row, report = create_version(
        store, settings, app_id, "mixed", [("math.jsonl", jsonl), pasted_source("a plain line")]
    )
    assert (row["n_accepted"], row["n_rejected"]) == (3, 1)
    assert report["rejects"][0].source == "math.jsonl" and report["rejects"][0].row == 2
    assert report["mappings"]["math.jsonl"]["shape"] == "prompt_completion"
    assert row["source"] == "math.jsonl, pasted.txt"


def test_mapping_override(store, settings, app_id):
    data = "q,a\nWho?,Me\nWhy?,Because\n"
    row, _ = create_version(
        store,
        settings,
        app_id,
        "qa",
        [("qa.csv", data)],
        mapping={"shape": "prompt_completion", "input": "q", "output": "a"},
        valid_pct=0,
    )
    assert [(e.input, e.output) for e in load_examples(store, row["id"])] == [
        ("Who?", "Me"),
        ("Why?", "Because"),
    ]
    with pytest.raises(DataError, match="missing 'nope'"):
        create_version(
            store,
            settings,
            app_id,
            "qa",
            [("qa.csv", data)],
            mapping={"shape": "text", "text": "nope"},
        )


def test_token_lengths_stored_when_a_tokenizer_is_given(store, settings, app_id):
    class Chars:
        def __call__(self, texts, add_special_tokens=False):
            return {"input_ids": [list(t) for t in texts]}

    row, _ = create_version(store, settings, app_id, "t", [SENTIMENT], tokenizer=Chars())
    assert row["stats"]["token_lengths"]["n_measured"] == 24
    row, _ = create_version(store, settings, app_id, "t", [SENTIMENT], token_note="no tokenizer")
    assert row["stats"]["token_note"] == "no tokenizer" and "token_lengths" not in row["stats"]


def test_unknown_app_and_bad_arguments(store, settings, app_id):
    with pytest.raises(NotFoundError):
        create_version(store, settings, "nope", "x", [SENTIMENT])
    with pytest.raises(DataError, match="needs a name"):
        create_version(store, settings, app_id, "  ", [SENTIMENT])
    with pytest.raises(DataError, match="Nothing to upload"):
        create_version(store, settings, app_id, "x", [])
    with pytest.raises(DataError, match="between 0 and 50"):
        create_version(store, settings, app_id, "x", [SENTIMENT], valid_pct=80)
