"""Errors a user can cause. Each message says what was wrong and how to fix it.

The UI shows `str(error)` for a StudioError and never a traceback; anything else is a bug
and goes to the log.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# An absolute path of two or more parts (POSIX or Windows), as an OSError would show it; the
# HTTP API's own routes (/v1/...) and URLs (scheme://host/...) are not server paths.
_PATH = re.compile(r"(?<![\w:/])(?!/v1/)(?:[A-Za-z]:)?(?:[/\\][\w.~@+-]+){2,}[/\\]?")


def redact_paths(message: str) -> str:
    """`message` with server paths replaced by <path>, for whoever must not learn them."""
    return _PATH.sub("<path>", str(message))


def first_line(exc: BaseException, limit: int = 300) -> str:
    """An exception's first line (its type when it says nothing), cut at `limit`, for a
    message that quotes what a library said."""
    text = str(exc).strip()
    return (text.splitlines()[0] if text else type(exc).__name__)[:limit]


class StudioError(Exception):
    """A problem the user can fix; the message says what and how."""


class NotFoundError(StudioError):
    """An app, dataset, model or job that does not exist (or belongs to someone else)."""


class DataError(StudioError):
    """An uploaded file or pasted text that cannot be read at all."""


@dataclass(frozen=True)
class Problem:
    """One mistake in the settings: `key` names where it is ("trainer.learning_rate",
    "studio.valid_pct", a whole section "peft", or "" for the settings as a whole), so the
    page marks that field without reading the message; `message` says what and how to fix it.
    """

    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.key}: {self.message}" if self.key else self.message


class ConfigError(StudioError):
    """One or more invalid settings; `problems` lists every one of them."""

    def __init__(self, problems: list[Problem | str] | Problem | str):
        if isinstance(problems, Problem | str):
            problems = [problems]
        self.problems = [p if isinstance(p, Problem) else Problem("", p) for p in problems]
        bullet = "\n".join(f"- {p}" for p in self.problems)
        super().__init__(f"{len(self.problems)} problem(s) in the settings:\n{bullet}")


class ModelUnavailableError(StudioError):
    """Base weights that cannot be loaded here (not cached, no network, needs CUDA...)."""


class ImportRefused(StudioError):
    """An imported adapter zip that failed a safety or format check; the message says which
    and how to fix it."""


class JobError(StudioError):
    """A job that cannot be started, cancelled or resumed in its current state."""
