"""One place for paths and limits. Every value can be overridden by an environment variable.

| variable                    | default                                   |
|-----------------------------|-------------------------------------------|
| STUDIO_HOME                 | ./studio_home beside app.py, or /data/textgen-studio on a Space with storage |
| STUDIO_HOST                 | 127.0.0.1 (0.0.0.0 on a Space)            |
| STUDIO_PORT                 | 7860                                      |
| STUDIO_MAX_UPLOAD_MB        | 50                                        |
| STUDIO_MAX_EXAMPLE_CHARS    | 20000                                     |
| STUDIO_MAX_ROWS             | 200000 (rows one uploaded file may hold)  |
| STUDIO_MAX_REJECTS_LISTED   | 10000 (rejected rows listed with their text; the rest counted) |
| STUDIO_MAX_CONCURRENT_JOBS  | 1                                         |
| STUDIO_MODEL_CACHE_SIZE     | 2 (models kept loaded for generation)     |
| STUDIO_OWNER                | local (owner recorded when sign-in is off)|
| STUDIO_MODELS_DIR           | STUDIO_HOME/models (converted base models; may be shared) |
| STUDIO_TRAIN_THREADS        | 0 = all cores but one (when there are 2+), so the page stays quick; training and evaluation jobs |
| STUDIO_SIGN_IN              | auto: `users` when STUDIO_USERS is set, `hf` on a Space with hf_oauth, else `off` |
| STUDIO_USERS                | users file (name + scrypt hash a line; `python -m studio.users add NAME`) |
| STUDIO_ADMINS               | comma-separated user names who see every app and can cancel any job |
| STUDIO_USER_MAX_RUNNING     | 1 (jobs one user may have running at once)  |
| STUDIO_USER_MAX_QUEUED      | 5 (jobs one user may have waiting)          |
| STUDIO_USER_MAX_STORAGE_MB  | 5000 (one user's apps + exports under STUDIO_HOME) |
| STUDIO_GENERATE_WORKERS     | 2 (generations served at once, page and /v1 together) |
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _default_home() -> Path:
    # On Hugging Face Spaces only /data (persistent storage) survives a restart.
    if os.environ.get("SPACE_ID") and Path("/data").is_dir() and os.access("/data", os.W_OK):
        return Path("/data/textgen-studio")
    return PROJECT_ROOT / "studio_home"


def _int_env(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"Environment variable {name}={raw!r} must be a whole number") from exc


def available_cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def training_threads(cores: int | None = None, requested: int | None = None) -> int:
    """Torch threads for a job process (training, evaluation): STUDIO_TRAIN_THREADS when set
    (> 0), else every core but one when there are two or more, so the page and generation
    keep a core."""
    cores = cores or available_cores()
    if requested is None:
        requested = _int_env("STUDIO_TRAIN_THREADS", 0)
    if requested > 0:
        return min(requested, cores)
    return max(1, cores - 1) if cores >= 2 else 1


def _sign_in_mode(has_users_file: bool, on_space: bool) -> str:
    mode = (os.environ.get("STUDIO_SIGN_IN") or "").strip().lower()
    if mode:
        if mode not in ("off", "users", "hf"):
            raise ValueError(f"STUDIO_SIGN_IN={mode!r} must be off, users or hf")
        return mode
    if has_users_file:
        return "users"
    # A Space with `hf_oauth: true` in its README gets OAUTH_CLIENT_ID from Hugging Face.
    if on_space and os.environ.get("OAUTH_CLIENT_ID"):
        return "hf"
    return "off"


@dataclass(frozen=True)
class Settings:
    """Resolved settings; build with `Settings.from_env()` (or pass values in tests)."""

    home: Path
    host: str = "127.0.0.1"
    port: int = 7860
    max_upload_mb: int = 50  # largest file the Inputs tab accepts
    max_example_chars: int = 20000  # longer examples are rejected with a reason
    # Bounds on work, not bytes: a small file of very short lines (or a Parquet file that
    # compresses a million rows into kilobytes) is refused past max_rows; past
    # max_rejects_listed rejected rows are counted by reason but not listed one by one.
    max_rows: int = 200_000
    max_rejects_listed: int = 10_000
    max_concurrent_jobs: int = 1  # jobs the queue runs at once
    model_cache_size: int = 2  # loaded models kept for generation
    owner: str = "local"  # recorded on every app; the signed-in user when sign-in is on
    models_root: Path | None = None  # where converted base models live; default home/models
    sign_in: str = "off"  # off | users (STUDIO_USERS file) | hf (Sign in with Hugging Face)
    users_file: Path | None = None
    admins: tuple[str, ...] = ()
    user_max_running: int = 1  # per-user limits, enforced only when sign-in is on
    user_max_queued: int = 5
    user_max_storage_mb: int = 5000
    # Generations at once, page and /v1 together: the engines decode them in one batch per
    # step, so this bounds memory (a cache per request), not CPU.
    generate_workers: int = 8
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_env(cls, **overrides) -> Settings:
        on_space = bool(os.environ.get("SPACE_ID"))
        values = dict(
            home=Path(os.environ.get("STUDIO_HOME") or _default_home()).expanduser().resolve(),
            host=os.environ.get("STUDIO_HOST") or ("0.0.0.0" if on_space else "127.0.0.1"),
            port=_int_env("STUDIO_PORT", 7860),
            max_upload_mb=_int_env("STUDIO_MAX_UPLOAD_MB", 50),
            max_example_chars=_int_env("STUDIO_MAX_EXAMPLE_CHARS", 20000),
            max_rows=_int_env("STUDIO_MAX_ROWS", 200_000),
            max_rejects_listed=_int_env("STUDIO_MAX_REJECTS_LISTED", 10_000),
            max_concurrent_jobs=_int_env("STUDIO_MAX_CONCURRENT_JOBS", 1),
            model_cache_size=_int_env("STUDIO_MODEL_CACHE_SIZE", 2),
            owner=os.environ.get("STUDIO_OWNER") or "local",
            models_root=Path(os.environ["STUDIO_MODELS_DIR"]).expanduser().resolve()
            if os.environ.get("STUDIO_MODELS_DIR")
            else None,
        )
        users = os.environ.get("STUDIO_USERS")
        values.update(
            users_file=Path(users).expanduser().resolve() if users else None,
            sign_in=_sign_in_mode(bool(users), on_space),
            admins=tuple(
                a.strip() for a in os.environ.get("STUDIO_ADMINS", "").split(",") if a.strip()
            ),
            user_max_running=_int_env("STUDIO_USER_MAX_RUNNING", 1),
            user_max_queued=_int_env("STUDIO_USER_MAX_QUEUED", 5),
            user_max_storage_mb=_int_env("STUDIO_USER_MAX_STORAGE_MB", 5000),
            generate_workers=_int_env("STUDIO_GENERATE_WORKERS", 8),
        )
        values.update(overrides)
        return cls(**values)

    @property
    def signed_in(self) -> bool:
        """True when every request must name a user (sign-in page or API key)."""
        return self.sign_in != "off"

    @property
    def loopback(self) -> bool:
        return self.host in ("127.0.0.1", "localhost", "::1")

    # Folders under STUDIO_HOME. Everything the studio writes lives under `home`.
    @property
    def db_path(self) -> Path:
        return self.home / "studio.db"

    @property
    def apps_dir(self) -> Path:
        return self.home / "apps"

    @property
    def models_dir(self) -> Path:
        """Converted / cached base models (e.g. the packaged SmolLM2 as safetensors)."""
        return self.models_root or self.home / "models"

    @property
    def tmp_dir(self) -> Path:
        return self.home / "tmp"

    def app_dir(self, app_id: str) -> Path:
        return self.apps_dir / app_id

    def ensure_dirs(self) -> None:
        for p in (self.home, self.apps_dir, self.models_dir, self.tmp_dir):
            p.mkdir(parents=True, exist_ok=True)

    def clean_tmp(self, older_than_s: float = 600) -> int:
        """Remove what a crash left in tmp/ (half-written versions, imports); returns how many.

        Only entries untouched for `older_than_s` go, so a second process sharing this
        STUDIO_HOME keeps the folder it is writing right now.
        """
        import shutil
        import time

        if not self.tmp_dir.is_dir():
            return 0
        removed, cutoff = 0, time.time() - older_than_s
        for entry in self.tmp_dir.iterdir():
            try:
                if entry.lstat().st_mtime > cutoff:
                    continue
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry)
                else:
                    entry.unlink()
                removed += 1
            except OSError:  # gone already, or not ours to remove: leave it
                continue
        return removed
