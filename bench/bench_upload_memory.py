"""Peak memory of one upload (read -> validate -> split -> write a version) against its size.

    python bench/bench_upload_memory.py [--sizes 1,5,10,25] [--max-mb 50]

Each measurement runs in its own Python process so peaks do not mix; the child reports its
own peak resident size (VmHWM from /proc/self/status, Linux) when it is done. A 2 KB upload
is the baseline (the interpreter and every module an upload imports), subtracted to give the
upload's own cost. Uploads:

- `phrasebank.csv`: the Financial PhraseBank CSV repeated up to the size (realistic rows);
- `short-lines.txt`: lines of 2 to 5 characters (the most rows per byte) at the limit size;
- `million.parquet`: one million tiny rows compressed into kilobytes;
- `wide.csv`: 300 to 20,000 columns of short cells, up to the size limit.

The short lines and the Parquet file must be refused early by STUDIO_MAX_ROWS, the wide
files by their columns or their cells (studio.data.raw), at a bounded cost.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_NAME = "financial_phrasebank_75agree_train.csv"
# Beside the checkout, or one level up (a worktree of it).
DATASET = (
    next(
        (
            p
            for p in (ROOT.parent / "shared", ROOT.parent.parent / "shared")
            if (p / "datasets").is_dir()
        ),
        ROOT.parent / "shared",
    )
    / "datasets"
    / _NAME
)

CHILD = r"""
import json, sys, time
from pathlib import Path
from studio.settings import Settings
from studio.store import Store
from studio.data.versions import create_version
from studio.errors import DataError
path, home, mode = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
settings = Settings.from_env(home=home, max_upload_mb=int(sys.argv[4]))
settings.ensure_dirs()
store = Store(settings.db_path, files_root=settings.apps_dir)
app = store.create_app("bench")["id"]
start = time.perf_counter()
outcome = "baseline"
if mode == "upload":
    try:
        _, report = create_version(store, settings, app, "bench", [path])
        outcome = f"{report['n_accepted']} accepted, {report['n_rejected']} rejected"
    except DataError as exc:
        outcome = "refused: " + str(exc).split(";")[0][:70]
# VmHWM (peak resident set of this process image): ru_maxrss would also count the parent's
# memory at fork time, which Linux carries across exec.
status = Path("/proc/self/status").read_text()
peak = int(next(l.split()[1] for l in status.splitlines() if l.startswith("VmHWM"))) / 1024
print(json.dumps({"seconds": time.perf_counter() - start, "outcome": outcome, "peak_mb": peak}))
"""


def make_phrasebank(path: Path, mb: float) -> Path:
    """The real dataset repeated (each copy's rows made distinct) up to `mb` megabytes."""
    header, *rows = DATASET.read_text(encoding="utf-8").splitlines()
    target, size, copy = int(mb * 2**20), 0, 0
    with path.open("w", encoding="utf-8") as f:
        f.write(header + "\n")
        while size < target:
            copy += 1
            for row in rows:
                line = f"{row} (copy {copy})\n" if copy > 1 else row + "\n"
                f.write(line)
                size += len(line)
                if size >= target:
                    break
    return path


def make_short_lines(path: Path, mb: float) -> Path:
    target = int(mb * 2**20)
    with path.open("w") as f:
        n = 0
        while n < target:
            line = f"{n % 9999}\n"
            f.write(line)
            n += len(line)
    return path


def make_wide(path: Path, columns: int, mb: float, cell: str = "ab") -> Path:
    """A CSV of `columns` columns whose every cell is `cell`, rows added up to `mb` MB."""
    target = int(mb * 2**20)
    with path.open("w") as f:
        # The first column is "text", so the file is read as examples, not refused.
        size = f.write(",".join(["text"] + [f"c{i}" for i in range(1, columns)]) + "\n")
        line = ",".join([cell] * columns) + "\n"
        while size + len(line) <= target:
            size += f.write(line)
    return path


def make_parquet(path: Path) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"text": pa.repeat("x", 1_000_000)}), path)
    return path


def run_child(path: Path, mode: str, max_mb: int, code: Path = ROOT) -> dict:
    """Peak RSS (MB) and outcome of one child process running the studio found at `code`."""
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(code)}
        out = subprocess.run(
            [sys.executable, "-c", CHILD, str(path), home, mode, str(max_mb)],
            capture_output=True,
            text=True,
            env=env,
            check=True,
            cwd=code,
        )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,5,10,20,25", help="phrasebank sizes in MB")
    parser.add_argument("--max-mb", type=int, default=50, help="STUDIO_MAX_UPLOAD_MB")
    parser.add_argument(
        "--code",
        type=Path,
        default=ROOT,
        help="another checkout of the studio to measure (e.g. an older one)",
    )
    args = parser.parse_args()
    sizes = [float(s) for s in args.sizes.split(",")]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        # Baseline: a 2 KB upload, so every lazily imported module is counted there too.
        base = run_child(make_phrasebank(tmp / "tiny.csv", 0.002), "upload", args.max_mb, args.code)
        print(
            f"baseline (a 2 KB upload: the interpreter and its imports): "
            f"{base['peak_mb']:.0f} MB peak"
        )
        cases = [
            (f"phrasebank.csv {mb:g} MB", make_phrasebank(tmp / f"p{mb:g}.csv", mb))
            for mb in sorted(sizes)
        ]
        cases.append(("million.parquet", make_parquet(tmp / "million.parquet")))
        cases.append(
            (
                f"short-lines.txt {args.max_mb} MB",
                make_short_lines(tmp / "short.txt", args.max_mb - 0.1),
            )
        )
        near = args.max_mb - 1
        cases += [
            ("wide.csv 20,000 columns", make_wide(tmp / "w20k.csv", 20_000, near)),
            ("wide.csv 1,000 columns, 2-char cells", make_wide(tmp / "w1k.csv", 1_000, near)),
            (
                "wide.csv 1,000 columns, 16-char cells",
                make_wide(tmp / "w1k16.csv", 1_000, near, "x" * 16),
            ),
            (
                "wide.csv 1,000 columns, 8-char cells",
                make_wide(tmp / "w1k8.csv", 1_000, near, "x" * 8),
            ),
            (
                "wide.csv 1,000 columns, 24-char cells",
                make_wide(tmp / "w1k24.csv", 1_000, near, "x" * 24),
            ),
            (
                "wide.csv 300 columns, 1-char cells",
                make_wide(tmp / "w300.csv", 300, near, "x"),
            ),
        ]
        for label, path in cases:
            size_mb = path.stat().st_size / 2**20
            t0 = time.perf_counter()
            try:
                r = run_child(path, "upload", args.max_mb, args.code)
            except subprocess.CalledProcessError as exc:  # an older studio may crash
                last = (exc.stderr or "").strip().splitlines()[-1:] or ["?"]
                r = {"seconds": 0.0, "peak_mb": 0.0, "outcome": "crashed: " + last[0][:60]}
            r["wall"] = time.perf_counter() - t0
            own = max(r["peak_mb"] - base["peak_mb"], 0)
            rows.append((label, size_mb, r["peak_mb"], own, r["seconds"], r["outcome"]))
            print(
                f"{label:28s} {size_mb:7.2f} MB file  peak {r['peak_mb']:6.0f} MB  "
                f"upload's own {own:6.0f} MB ({own / max(size_mb, 1e-3):5.1f}x the file)  "
                f"{r['seconds']:5.1f} s  {r['outcome']}"
            )
    print("\n| upload | file | peak RSS | over baseline | per MB of file | time | outcome |")
    print("|---|---|---|---|---|---|---|")
    for label, size_mb, peak, own, secs, outcome in rows:
        print(
            f"| {label} | {size_mb:.2f} MB | {peak:.0f} MB | {own:.0f} MB | "
            f"{own / max(size_mb, 1e-3):.1f}x | {secs:.1f} s | {outcome} |"
        )


if __name__ == "__main__":
    main()
