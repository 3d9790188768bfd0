"""`python -m studio.models.prepare`: convert the packaged default model now (once).

scripts/run.sh calls it before starting the page, and `python app.py` starts it in the
background (`prepare_in_background`), so the first demo app, upload, Train or Generate
click does not wait for the conversion (or waits less; the page says what it waits for).
A second run returns at once. It prints plain lines, no progress bars: its output often
goes to a log file, where a bar's carriage returns make one unreadable line.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

from studio.errors import StudioError
from studio.models.resolve import ensure_packaged_model, packaged_gguf_path, packaged_model_dir
from studio.settings import PROJECT_ROOT, Settings

MODEL_NAME = "SmolLM2-135M-Instruct"


def packaged_model_ready(settings: Settings) -> bool:
    """Whether the packaged model is converted already (nothing to wait for)."""
    return (packaged_model_dir(settings) / "config.json").is_file()


def prepare_in_background(settings: Settings) -> subprocess.Popen | None:
    """Start converting the packaged model in its own process, unless it is converted or
    not installed; the process, or None. Handlers that need the model meanwhile wait for it
    (the conversion lock) instead of converting it again."""
    if packaged_model_ready(settings) or packaged_gguf_path() is None:
        return None
    env = dict(os.environ, STUDIO_MODELS_DIR=str(settings.models_dir))
    return subprocess.Popen(
        [sys.executable, "-m", "studio.models.prepare"],
        cwd=PROJECT_ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
    )


def _quiet_progress_bars() -> None:
    # tqdm reads TQDM_DISABLE when a bar is made (transformers' GGUF reader uses tqdm
    # directly); the Hugging Face variable covers transformers' and the Hub's own bars.
    os.environ.setdefault("TQDM_DISABLE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")


def main() -> int:
    settings = Settings.from_env()
    if packaged_model_ready(settings):
        return 0
    _quiet_progress_bars()
    print(f"Preparing the embedded {MODEL_NAME} model (once)...", flush=True)
    started = time.monotonic()
    try:
        path = ensure_packaged_model(settings)
    except StudioError as exc:
        print(f"warning: {exc}", file=sys.stderr)
        return 0  # the studio still starts; templates show the model as unavailable
    print(f"Model ready in {path} ({time.monotonic() - started:.0f} s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
