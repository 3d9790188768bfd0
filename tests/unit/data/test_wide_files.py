"""Wide files are bounded too: at most MAX_COLUMNS columns and MAX_CELLS cells (rows x
columns) in any format, refused with a message saying what to do, and one upload of a wide
file near the size limit stays under the documented memory bound (about 400 MB)."""

from __future__ import annotations

import io
import json

import pytest

from bench.bench_upload_memory import make_wide, run_child
from studio.data.raw import MAX_CELLS, MAX_COLUMNS
from studio.data.readers import read_bytes
from studio.errors import DataError

DOCUMENTED_PEAK_MB = 400  # README "Limits" and bench/README.md "Upload memory"


def _csv(columns: int, rows: int) -> bytes:
    lines = [",".join(f"c{i}" for i in range(columns))]
    lines += [",".join(["x"] * columns)] * rows
    return ("\n".join(lines) + "\n").encode()


def test_too_many_columns_are_refused_in_every_format():
    with pytest.raises(DataError, match=f"{MAX_COLUMNS + 1:,} columns; at most {MAX_COLUMNS:,}"):
        read_bytes("wide.csv", _csv(MAX_COLUMNS + 1, 1), 50)
    read_bytes("ok.csv", _csv(MAX_COLUMNS, 1), 50)
    tsv = _csv(MAX_COLUMNS + 1, 1).replace(b",", b"\t")
    with pytest.raises(DataError, match="columns; at most"):
        read_bytes("wide.tsv", tsv, 50)
    record = json.dumps({f"k{i}": "x" for i in range(MAX_COLUMNS + 1)})
    with pytest.raises(DataError, match="columns; at most"):
        read_bytes("wide.jsonl", (record + "\n").encode(), 50)
    with pytest.raises(DataError, match="columns; at most"):
        read_bytes("wide.json", f"[{record}]".encode(), 50)
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    buf = io.BytesIO()
    pq.write_table(pa.table({f"c{i}": ["x"] for i in range(MAX_COLUMNS + 1)}), buf)
    with pytest.raises(DataError, match="columns; at most"):
        read_bytes("wide.parquet", buf.getvalue(), 50)


def test_too_many_cells_are_refused_as_they_are_read():
    rows = MAX_CELLS // 500 + 1
    with pytest.raises(DataError, match=f"more than {MAX_CELLS:,} cells"):
        read_bytes("long.csv", _csv(500, rows), 50)
    lines = [json.dumps({f"k{i}": "x" for i in range(500)})] * rows
    with pytest.raises(DataError, match="cells"):
        read_bytes("long.jsonl", ("\n".join(lines) + "\n").encode(), 50)


@pytest.mark.parametrize(
    ("columns", "cell"),
    [
        (20_000, "x1"),  # as reported: 20,000 columns x 1,230 rows added 898 MB
        (1_000, "x" * 24),  # cells at the bound reached as the file reaches the size limit
        (1_000, "x" * 32),  # read whole and validated
    ],
)
def test_one_wide_upload_near_the_size_limit_stays_under_the_bound(tmp_path, columns, cell):
    path = make_wide(tmp_path / "wide.csv", columns, 49, cell)
    assert path.stat().st_size > 48 * 2**20
    result = run_child(path, "upload", 50)
    assert result["peak_mb"] < DOCUMENTED_PEAK_MB, result
