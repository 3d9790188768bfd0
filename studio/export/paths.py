"""Where exports are written: settings.home/exports/<app_id>/ (served by Gradio via allowed_paths).

File names are built here from ids the studio made, never from user input, so a download
link can only point inside that folder; each also holds a random part, so it cannot be
guessed. The web layer serves these files only to the app's owner (studio.signin.files).
"""

from __future__ import annotations

import re
import secrets
import time
import zipfile
from pathlib import Path

from studio.settings import Settings

_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def exports_dir(settings: Settings, app_id: str) -> Path:
    """The app's export folder (created)."""
    folder = settings.home / "exports" / _SAFE.sub("_", app_id)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def export_name(job_id: str, kind: str, suffix: str = ".zip") -> str:
    """A new export's file name: what it is, its job, when, and 128 random bits, so that
    knowing a job id (or the time) is not enough to name its file."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    random_part = secrets.token_hex(16)
    return f"{_SAFE.sub('_', kind)}-{_SAFE.sub('_', job_id)[:12]}-{stamp}-{random_part}{suffix}"


def zip_folder(folder: Path, dest: Path) -> Path:
    """Zip a folder's regular files (relative names, no symlinks) atomically into `dest`."""
    tmp = dest.with_suffix(dest.suffix + ".part")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and not path.is_symlink():
                zf.write(path, path.relative_to(folder).as_posix())
    tmp.replace(dest)
    return dest
