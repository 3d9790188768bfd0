"""Parsing + validation speed: 100,000 rows of CSV and JSONL built from the reference lines.

    python bench/bench_parse.py [--rows 100000]

Prints rows/s for studio.data (read + shape detection + ### parsing + validation +
duplicate check) and, in the same process, for a naive baseline: pandas.read_csv plus one
regex split per row (no validation). Rows are made unique by a counter so the duplicate
check does not reject them.
"""

from __future__ import annotations

import argparse
import io
import json
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from studio.data.readers import read_bytes  # noqa: E402
from studio.data.shapes import detect_mapping  # noqa: E402
from studio.data.validate import validate_source  # noqa: E402


def build_lines(n: int) -> list[str]:
    ref = (ROOT / "tests" / "assets" / "format_examples.txt").read_text().splitlines()
    ref = [line for line in ref if line.strip()]
    # Make each row unique: a counter inside the Instruction section (every line has one).
    marker = "### Instruction:"
    return [ref[i % len(ref)].replace(marker, f"{marker} [{i}]", 1) for i in range(n)]


def as_csv(lines: list[str]) -> bytes:
    import csv

    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["input.data.text.raw", "input.data.concepts[*].id"])
    for line in lines:
        w.writerow([line, ""])
    return buf.getvalue().encode()


def as_jsonl(lines: list[str]) -> bytes:
    return "\n".join(json.dumps({"text": line}) for line in lines).encode()


def studio_parse(name: str, data: bytes) -> int:
    result = read_bytes(name, data, max_upload_mb=10_000)
    checked = validate_source(result, detect_mapping(result), max_chars=20_000)
    return checked.n_accepted


_SECTION = re.compile(r"###\s*(\w+)\s*:")


def naive_csv(data: bytes) -> int:
    import pandas as pd

    frame = pd.read_csv(io.BytesIO(data))
    n = 0
    for text in frame["input.data.text.raw"]:
        parts = _SECTION.split(str(text))
        n += len(parts) > 1
    return n


def timed(fn, *args) -> tuple[float, int]:
    start = time.perf_counter()
    n = fn(*args)
    return time.perf_counter() - start, n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    lines = build_lines(args.rows)
    csv_bytes, jsonl_bytes = as_csv(lines), as_jsonl(lines)
    mb = len(csv_bytes) / 1e6, len(jsonl_bytes) / 1e6
    print(f"{args.rows} rows; csv {mb[0]:.1f} MB, jsonl {mb[1]:.1f} MB")
    t_csv, n_csv = timed(studio_parse, "bench.csv", csv_bytes)
    t_jsonl, n_jsonl = timed(studio_parse, "bench.jsonl", jsonl_bytes)
    t_naive, n_naive = timed(naive_csv, csv_bytes)
    assert n_csv == n_jsonl == args.rows, (n_csv, n_jsonl)
    for label, t in (
        ("studio csv  ", t_csv),
        ("studio jsonl", t_jsonl),
        ("naive pandas+regex csv", t_naive),
    ):
        print(f"{label:24s} {t:6.2f} s  {args.rows / t:10,.0f} rows/s")
    print(
        f"ratio studio csv / naive baseline time: {t_csv / t_naive:.2f}x "
        "(the baseline does no decoding checks, validation or duplicate detection)"
    )
    print(f"naive parsed {n_naive} rows")


if __name__ == "__main__":
    main()
