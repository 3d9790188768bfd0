"""Bounds on work, not bytes: rows per upload, rejects listed, spreadsheet-safe CSVs, long
file names and what a crash leaves in tmp/."""

from __future__ import annotations

import csv
import io
import os
import time

import pytest

from studio.csvsafe import safe_cell
from studio.data.readers import read_bytes
from studio.data.versions import create_version, version_folder
from studio.errors import DataError
from tests.support.examples import rejected_rows


def test_rows_past_max_rows_are_refused(store, settings):
    from dataclasses import replace

    small = replace(settings, max_rows=50)
    app = store.create_app("rows")["id"]
    data = "".join(f"line {i}\n" for i in range(51)).encode()
    with pytest.raises(DataError, match="more than 50 rows.*STUDIO_MAX_ROWS"):
        create_version(store, small, app, "d", [("many.txt", data)])
    assert store.counts()["dataset_versions"] == 0


def test_a_million_row_parquet_is_refused_before_decoding():
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    buf = io.BytesIO()
    pq.write_table(pa.table({"text": pa.repeat("x", 1_000_000)}), buf)
    assert buf.tell() < 200_000  # tiny on disk
    start = time.perf_counter()
    with pytest.raises(DataError, match="more than 200,000 rows"):
        read_bytes("big.parquet", buf.getvalue(), 50)
    assert time.perf_counter() - start < 5  # the metadata says it: nothing is decoded


def test_rejects_past_the_cap_are_counted_not_listed(store, settings):
    from dataclasses import replace

    capped = replace(settings, max_rejects_listed=10)
    app = store.create_app("rej")["id"]
    data = ("text\nok\n" + "### bad\n" * 100).encode()
    row, report = create_version(store, capped, app, "d", [("r.csv", data)])
    assert report["n_rejected"] == 100 and len(report["rejects"]) == 10
    assert report["reasons"] == {"unknown_section": 100}
    assert any("90 more rejected rows are not listed" in n for n in report["notes"])
    text = (version_folder(store, row) / "rejects.csv").read_text()
    assert len(text.splitlines()) == 12  # header, 10 rows, the summary line
    assert len(rejected_rows(store, row["id"])) == 10


@pytest.mark.parametrize("cell", ["=1+1", "+cmd", "-2+3", "@SUM(A1)", "\t=1", "\r=1"])
def test_formula_cells_are_neutralised(cell):
    assert safe_cell(cell) == "'" + cell
    assert safe_cell(-3.5) == -3.5 and safe_cell("plain") == "plain"


def test_rejects_csv_never_holds_a_live_formula(store, settings):
    app = store.create_app("csv")["id"]
    data = b"text\n=HYPERLINK(1)\n=HYPERLINK(1)\n@SUM(1)\n@SUM(1)\n-2+3\n-2+3\n"
    row, report = create_version(store, settings, app, "d", [("f.csv", data)])
    cells = [c for r in csv.reader((version_folder(store, row) / "rejects.csv").open()) for c in r]
    assert not any(c.startswith(("=", "+", "-", "@")) for c in cells)
    assert report["n_duplicates"] == 3 and any(c.startswith("'=HYPERLINK") for c in cells)


def test_batch_comparison_csv_is_neutralised(tmp_path):
    from studio.evaluate.batch import write_csv

    path = write_csv(
        [{"prompt": "=cmd|' /C calc'!A0", "expected": "-1", "base_score": -0.5}], tmp_path / "c.csv"
    )
    row = next(csv.DictReader(path.open()))
    assert row["prompt"].startswith("'=") and row["expected"] == "'-1"
    assert row["base_score"] == "-0.5"


def test_a_200_character_file_name_is_stored_under_a_generated_name(store, settings):
    app = store.create_app("long")["id"]
    name = "x" * 240 + ".csv"
    row, report = create_version(store, settings, app, "d", [(name, b"text\nhello\n")])
    [stored] = (version_folder(store, row) / "sources").iterdir()
    assert len(stored.name) < 80 and stored.name.endswith(".csv")
    assert row["source"].startswith("xxxx")  # the original, for display


def test_leftover_tmp_folders_are_cleaned_at_start(settings):
    old = settings.tmp_dir / "dataset-crashed"
    (old / "sources").mkdir(parents=True)
    (old / "train.jsonl").write_text("{}")
    past = time.time() - 3600
    os.utime(old, (past, past))
    fresh = settings.tmp_dir / "dataset-being-written"
    fresh.mkdir()
    assert settings.clean_tmp() == 1
    assert not old.exists() and fresh.exists()


def test_huge_numbers_never_leak_interpreter_messages(store, settings):
    app = store.create_app("num")["id"]
    data = b'{"text": "ok"}\n{"text": ' + b"7" * 6000 + b"}\n"
    row, report = create_version(store, settings, app, "d", [("n.jsonl", data)])
    [reject] = report["rejects"]
    assert "digits is too long" in reject.reason and "sys." not in reject.reason
