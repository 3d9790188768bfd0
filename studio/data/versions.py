"""Immutable dataset versions: read -> validate -> split -> write -> record, all or nothing.

    row, report = create_version(store, settings, app_id, "sentiment", ["/path/train.csv"])
    train = load_examples(store, row["id"], "train")

A version folder, <apps_dir>/<app_id>/datasets/<version_id>/, holds train.jsonl and
valid.jsonl (one Example.to_dict() per line), rejects.csv (source,row,reason,text),
version.json (mapping, counts, reasons) and sources/ (the original uploads). The files are
written into a temporary folder under settings.tmp_dir first; then ONE store transaction
inserts the dataset (if new) and the version row and renames the folder into place. Any
failure leaves neither a row nor a folder behind, and earlier versions are never touched.

Re-uploading identical content still makes a new version (the split settings may differ, and
the user asked for one); the report says which earlier version has the same content hash.
The version row's `path` is relative to the store's apps folder so STUDIO_HOME can move.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import uuid
from pathlib import Path
from typing import Any

from studio.csvsafe import write_csv
from studio.data.example_files import ReadPolicy, read_examples, write_examples
from studio.data.noise import language_signals, noise_warning, tokens_of
from studio.data.pasted import guess_pasted_extension, pasted_bytes
from studio.data.readers import ReadResult, read_bytes, read_path
from studio.data.shapes import ColumnMapping, detect_mapping
from studio.data.split import split_examples
from studio.data.stats import basic_stats, example_labels, token_length_stats
from studio.data.validate import ValidationResult, printable, validate_sources
from studio.errors import DataError
from studio.settings import Settings
from studio.store import Store
from studio.store.text import MAX_NAME, checked_name
from studio.vocab.examples import Example

Source = str | Path | tuple[str, bytes | str]
SPLITS = ("train", "valid", "all")


def pasted_source(text: str, name: str = "pasted") -> tuple[str, bytes]:
    """Pasted text as a source, named with the extension its content suggests."""
    if not (text or "").strip():
        raise DataError("The pasted text is empty; paste at least one example.")
    return name + guess_pasted_extension(text), pasted_bytes(text)


def read_source(source: Source, settings: Settings) -> tuple[ReadResult, bytes | Path]:
    """Read one source; returns the result and what to keep as the original upload."""
    if isinstance(source, tuple):
        name, data = source
        data = pasted_bytes(data) if isinstance(data, str) else data
        return read_bytes(display_name(name), data, settings.max_upload_mb, settings.max_rows), data
    return read_path(source, settings.max_upload_mb, settings.max_rows), Path(source)


def display_name(name: str) -> str:
    """An upload's own name as shown to the user: its last part, at most 200 characters."""
    name = Path(str(name).replace("\\", "/")).name or "upload"
    if len(name) <= 200:
        return name
    suffix = Path(name).suffix[:16]
    return name[: 199 - len(suffix)] + "…" + suffix


def stored_name(index: int, name: str) -> str:
    """The generated file name an upload is kept under (safe characters, short), e.g.
    '01-sentiment.csv'; the original name stays in version.json for display."""
    suffix = "".join(c for c in Path(name).suffix.lower() if c.isalnum() or c == ".")[:10]
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(name).stem).strip("._")[:60] or "upload"
    return f"{index:02d}-{stem}{suffix}"


def content_hash(examples: list[Example]) -> str:
    """sha256 of the accepted examples' meaningful fields, in order."""
    h = hashlib.sha256()
    for ex in examples:
        fields = [ex.style, ex.preamble, ex.instruction, ex.input, ex.output]
        h.update(json.dumps(fields, ensure_ascii=False).encode())
        h.update(b"\n")
    return h.hexdigest()


def _as_mapping(mapping: ColumnMapping | dict | None) -> ColumnMapping | None:
    if mapping is None or isinstance(mapping, ColumnMapping):
        return mapping
    return ColumnMapping(**{k: v or "" for k, v in mapping.items()})


def _no_examples(result: ValidationResult) -> DataError:
    if not result.rejects:
        return DataError("No examples were found in the upload.")
    first = "; ".join(f"row {r.row} of {r.source}: {r.reason}" for r in result.rejects[:3])
    return DataError(
        f"None of the {result.n_rows} rows was accepted, so no version was made. "
        f"First reasons: {first}. Fix the file or the column mapping."
    )


def unlisted_note(checked: ValidationResult) -> str:
    """One sentence for the rejected rows counted but not listed (past the cap)."""
    return (
        f"{checked.n_unlisted} more rejected rows are not listed (only the first "
        f"{len(checked.rejects)} are); the counts by reason cover all of them"
    )


def _write_folder(folder: Path, train, valid, checked: ValidationResult, originals, meta) -> None:
    (folder / "sources").mkdir(parents=True)
    write_examples(folder / "train.jsonl", train)
    write_examples(folder / "valid.jsonl", valid)
    rows = [[r.source, r.row, r.reason, printable(r.text)] for r in checked.rejects]
    if checked.n_unlisted:  # bounded: the rest are summarised, not listed
        rows.append(["", "", unlisted_note(checked), ""])
    write_csv(folder / "rejects.csv", ["source", "row", "reason", "text"], rows)
    for i, (name, original) in enumerate(originals):
        target = folder / "sources" / stored_name(i + 1, name)
        if isinstance(original, Path):
            shutil.copyfile(original, target)
        else:
            target.write_bytes(original)
    (folder / "version.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False))


def create_version(
    store: Store,
    settings: Settings,
    app_id: str,
    dataset_name: str,
    sources: list[Source],
    mapping: ColumnMapping | dict | None = None,
    valid_pct: float = 10,
    seed: int = 42,
    tokenizer: Any = None,
    token_note: str = "",
    tokenizer_name: str = "",
) -> tuple[dict, dict]:
    """Make the next version of `dataset_name` from files / (name, bytes) sources.

    `mapping` overrides the detected column mapping for every table/JSON source. With a
    tokenizer, token-length stats are stored too (else `token_note` says why not).
    Returns (version row, report).
    """
    store.get_app(app_id)  # NotFoundError before any work
    name = checked_name(dataset_name, "The dataset name", max_len=10**6)
    if not name or len(name) > MAX_NAME:
        raise DataError("A dataset needs a name of 1 to 80 characters: type one in Dataset name.")
    if not sources:
        raise DataError("Nothing to upload: choose one or more files or paste examples.")
    try:
        valid_pct, seed = float(valid_pct), int(seed)
    except (TypeError, ValueError, OverflowError):
        raise DataError("The validation share and the split seed must be numbers.") from None
    if not 0 <= valid_pct <= 50:  # NaN fails this too
        raise DataError(f"The validation share must be between 0 and 50 %, got {valid_pct}.")
    if not 0 <= seed < 2**32:
        raise DataError(f"The split seed must be a whole number from 0 to {2**32 - 1}.")
    override = _as_mapping(mapping)
    read, originals, mappings = [], [], {}
    for source in sources:
        result, original = read_source(source, settings)
        m = override if override and result.kind != "lines" else detect_mapping(result)
        m.check(result.columns if result.kind != "lines" else ["text"], result.name)
        read.append((result, m))
        originals.append((result.name, original))
        mappings[result.name] = m.to_dict()
    checked = validate_sources(read, settings.max_example_chars, settings.max_rejects_listed)
    if not checked.examples:
        raise _no_examples(checked)

    stats = basic_stats(checked.examples)
    stats["language"] = language_signals(tokens_of(checked.examples))
    labels = example_labels(checked.examples, stats["labels"]) if stats["labels"] else None
    train, valid = split_examples(checked.examples, float(valid_pct), int(seed), labels)
    if tokenizer is not None:
        stats["token_lengths"] = token_length_stats(checked.examples, tokenizer)
        if stats["token_lengths"] and tokenizer_name:
            stats["token_lengths"]["tokenizer"] = tokenizer_name
    elif token_note:
        stats["token_note"] = token_note
    stats.update(
        n_train=len(train),
        n_valid=len(valid),
        n_blank=checked.n_blank,
        reasons=checked.reason_counts(),
        mappings=mappings,
        stratified=labels is not None,
    )
    digest = content_hash(checked.examples)
    version_id = uuid.uuid4().hex[:12]
    rel_path = f"{app_id}/datasets/{version_id}"
    final = store.files_root / rel_path
    tmp = settings.tmp_dir / f"dataset-{version_id}"
    meta = {
        "dataset": name,
        "content_hash": digest,
        **checked.counts(),
        "valid_pct": valid_pct,
        "seed": seed,
        "sources": [n for n, _ in originals],
        "stats": stats,
    }
    moved = False
    try:
        _write_folder(tmp, train, valid, checked, originals, meta)
        final.parent.mkdir(parents=True, exist_ok=True)
        with store.transaction() as conn:
            dataset = store.get_or_create_dataset(app_id, name, conn=conn)
            same = store.version_with_hash(dataset["id"], digest, conn=conn)
            row = store.add_dataset_version(
                conn,
                dataset["id"],
                id=version_id,
                content_hash=digest,
                path=rel_path,
                source=", ".join(n for n, _ in originals),
                valid_pct=float(valid_pct),
                seed=int(seed),
                stats=stats,
                **{k: v for k, v in checked.counts().items() if k != "n_blank"},
            )
            os.rename(tmp, final)
            moved = True
    except BaseException:
        if moved:
            shutil.rmtree(final, ignore_errors=True)
        raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    row["dataset_name"], row["app_id"] = name, app_id
    notes = (
        [unlisted_note(checked) + " (rejects.csv lists the same)."] if (checked.n_unlisted) else []
    )
    if warning := noise_warning(stats["language"]):
        notes.insert(0, warning)
    if same is not None:
        notes.append(
            f"Same examples as {name} v{same} (content hash {digest[:12]}); "
            "a new version was made anyway."
        )
    report = {
        "version_id": version_id,
        "dataset": name,
        "version": row["version"],
        "content_hash": digest,
        **checked.counts(),
        "rejects": checked.rejects,
        "reasons": checked.reason_counts(),
        "mappings": mappings,
        "task": stats["task"],
        "same_as": same,
        "notes": notes,
    }
    return row, report


def version_folder(store: Store, version: dict) -> Path:
    """The folder of a version row."""
    path = Path(version["path"])
    return path if path.is_absolute() else store.files_root / path


def load_examples(
    store: Store, version_id: str, split: str = "train", limit: int | None = None
) -> list[Example]:
    """The examples of a version's split ("train", "valid" or "all" = train then valid),
    at most `limit` of them."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    folder = version_folder(store, store.get_dataset_version(version_id))
    out: list[Example] = []
    for part in ("train", "valid") if split == "all" else (split,):
        left = None if limit is None else limit - len(out)
        out += read_examples(folder / f"{part}.jsonl", ReadPolicy(missing_ok=False, limit=left))
    return out
