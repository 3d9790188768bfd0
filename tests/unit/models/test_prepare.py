"""`python -m studio.models.prepare` and its background start: nothing to do once the model
is converted, and plain lines (no carriage-return bars) when it converts."""

from __future__ import annotations

import os
import subprocess
import sys

from studio.models import prepare
from studio.settings import PROJECT_ROOT, Settings


def test_nothing_starts_when_the_model_is_converted(packaged_model_dir, models_cache, tmp_path):
    settings = Settings.from_env(home=tmp_path, models_root=models_cache)
    assert prepare.packaged_model_ready(settings)
    assert prepare.prepare_in_background(settings) is None


def test_nothing_starts_without_the_packaged_model(tmp_path, monkeypatch):
    settings = Settings.from_env(home=tmp_path, models_root=tmp_path / "models")
    monkeypatch.setattr(prepare, "packaged_gguf_path", lambda: None)
    assert not prepare.packaged_model_ready(settings)
    assert prepare.prepare_in_background(settings) is None


def test_a_second_run_returns_at_once_and_quietly(packaged_model_dir, models_cache, tmp_path):
    env = dict(os.environ, STUDIO_HOME=str(tmp_path), STUDIO_MODELS_DIR=str(models_cache))
    out = subprocess.run(
        [sys.executable, "-m", "studio.models.prepare"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0 and out.stdout == "" and "\r" not in out.stderr


def test_bars_are_off_before_the_conversion_runs(monkeypatch):
    monkeypatch.delenv("TQDM_DISABLE", raising=False)
    monkeypatch.delenv("HF_HUB_DISABLE_PROGRESS_BARS", raising=False)
    prepare._quiet_progress_bars()
    assert os.environ["TQDM_DISABLE"] == "1" and os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] == "1"
