"""The one reader of an examples file (train.jsonl, valid.jsonl: one Example.to_dict() per
line), with an explicit policy for what it meets.

    read_examples(path)                                   # STRICT: a bad line is a DataError
    read_examples(path, ReadPolicy(skip_bad=True))        # a guess from the data: skip bad lines
    read_examples(path, ReadPolicy(limit=200))            # at most 200 examples, read lazily

Training, evaluation, a dataset version's examples, the prompt layout of a trained model and
the model card all read through here; write_examples writes them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from studio.errors import DataError
from studio.vocab.examples import Example


@dataclass(frozen=True)
class ReadPolicy:
    """What a read does with a bad line, a missing file, and how many examples it keeps."""

    skip_bad: bool = False  # False: a line that is no example is a DataError naming it
    missing_ok: bool = True  # a missing file reads as no examples (else a DataError)
    limit: int | None = None  # at most this many examples (the rest is not read)


STRICT = ReadPolicy()


def read_examples(path: str | Path, policy: ReadPolicy = STRICT) -> list[Example]:
    """The examples of a .jsonl file under `policy`; blank lines are skipped."""
    path = Path(path)
    if not path.is_file():
        if policy.missing_ok:
            return []
        raise DataError(f"The examples file {path.name} is missing; pick another dataset version.")
    out: list[Example] = []
    if policy.limit is not None and policy.limit <= 0:
        return out
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
                if not isinstance(data, dict):
                    raise TypeError(f"a line holds a JSON {type(data).__name__}, not an object")
                out.append(Example.from_dict(data))
            except (ValueError, TypeError) as exc:
                if policy.skip_bad:
                    continue
                raise DataError(f"{path.name} line {n} is not a valid example ({exc}).") from exc
            if policy.limit is not None and len(out) >= policy.limit:
                break
    return out


def write_examples(path: Path, examples: list[Example]) -> None:
    """One Example.to_dict() per line (what read_examples reads back)."""
    with path.open("w", encoding="utf-8") as f:
        for ex in examples:
            f.write(json.dumps(ex.to_dict(), ensure_ascii=False) + "\n")
