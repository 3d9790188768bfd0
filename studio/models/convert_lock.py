"""The lock that lets one process convert the packaged model while the others wait.

The lock file holds its holder's pid, start time, host and thread (`lock_text`), so a lock
left by a killed process is recognised and taken over at once (studio.models.resolve).
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from pathlib import Path

import psutil

from studio.errors import ModelUnavailableError

# How long to wait for a live converter (it takes ~30 s) before taking its lock anyway, and
# how old a lock written on another machine (a shared models dir) must be to count as stale.
LOCK_WAIT_S, REMOTE_STALE_S = 600.0, 900.0


def lock_text() -> str:
    """This process and thread, as written into a lock it holds: pid, start time, host."""
    started = psutil.Process().create_time()
    return json.dumps(
        {
            "pid": os.getpid(),
            "started": started,
            "host": socket.gethostname(),
            "thread": threading.get_ident(),
        }
    )


def acquire_lock(lock: Path, token: str) -> bool:
    """Create `lock` holding `token`; False when it exists already (someone holds it)."""
    try:
        fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w") as f:
        f.write(token)
    return True


def read_lock(lock: Path) -> str | None:
    """The lock's text; None when there is no lock, "" when it cannot be read."""
    try:
        return lock.read_text()
    except FileNotFoundError:
        return None
    except OSError:
        return ""


def lock_holder_alive(lock: Path, text: str) -> bool:
    """Whether the process that wrote `text` into `lock` may still be converting."""
    try:
        age = time.time() - lock.stat().st_mtime
    except FileNotFoundError:
        return False
    except OSError:
        return True  # cannot tell: wait (bounded by LOCK_WAIT_S)
    try:
        holder = json.loads(text)
        pid, started, host = int(holder["pid"]), float(holder["started"]), holder["host"]
    except (ValueError, TypeError, KeyError):
        return age < 10  # being written right now, or a lock from an older studio (no pid)
    if host != socket.gethostname():
        return age < REMOTE_STALE_S  # a pid from another machine means nothing here
    try:
        proc = psutil.Process(pid)
        # A zombie is dead; a different start time means the pid was reused.
        return proc.status() != psutil.STATUS_ZOMBIE and abs(proc.create_time() - started) < 1
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:
        return True


def break_lock(lock: Path, seen: str) -> None:
    """Remove a stale lock, unless it changed since it was judged (someone took it over)."""
    if read_lock(lock) != seen:
        return
    try:
        lock.unlink(missing_ok=True)
    except OSError as exc:
        raise ModelUnavailableError(
            f"Cannot remove the stale lock {lock} ({exc}); delete that file and start again."
        ) from exc
