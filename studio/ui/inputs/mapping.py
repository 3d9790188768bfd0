"""The Inputs tab's mapping helper: what a detected guess was made from (the instruction
proposed for a sentence + label table is studio.data.instruction's)."""

from __future__ import annotations

import hashlib


def source_key(paths: list[str], text: str) -> str:
    """What a detected mapping was guessed from: the files and the pasted text."""
    raw = "\n".join([*paths, "--", (text or "").strip()])
    return hashlib.sha256(raw.encode("utf-8", "replace")).hexdigest()[:16]
