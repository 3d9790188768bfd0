"""Small helpers shared by the store's parts: ids, row decoding, removing an entity's files."""

from __future__ import annotations

import json
import shutil
import sqlite3
import uuid
from pathlib import Path
from typing import Any

JSON_COLUMNS = {"stats", "config", "params", "summary", "results"}


def new_id() -> str:
    """A short random id for a new row (also used for run and dataset folders)."""
    return uuid.uuid4().hex[:12]


def decode_row(row: sqlite3.Row | None) -> dict[str, Any] | None:
    """A row as a dict, with its JSON columns parsed."""
    if row is None:
        return None
    d = dict(row)
    for k in JSON_COLUMNS & d.keys():
        d[k] = json.loads(d[k]) if d[k] else {}
    return d


def encode_values(values: dict[str, Any]) -> dict[str, Any]:
    """Column values ready for SQLite: JSON columns serialised."""
    return {k: json.dumps(v) if k in JSON_COLUMNS else v for k, v in values.items()}


def remove_inside(root: Path, path: str | Path | None) -> bool:
    """Delete the folder `path` (relative paths are under `root`) if it lies inside `root`.

    A row's path comes from the database; a damaged or hand-edited row must never make the
    studio delete a folder outside its own files. Returns whether something was removed.
    """
    if not path:
        return False
    folder = Path(path) if Path(path).is_absolute() else root / path
    try:
        folder.resolve().relative_to(root.resolve())
    except ValueError:
        return False
    if folder.resolve() == root.resolve() or not folder.exists():
        return False
    shutil.rmtree(folder, ignore_errors=True)
    return True
