"""scripts/setup.sh: a second run installs nothing, and torch comes from the right place (the
CPU index on a machine without an NVIDIA GPU, unless the wanted torch is at hand locally)."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

from studio.settings import PROJECT_ROOT

CPU_INDEX = "--index-url https://download.pytorch.org/whl/cpu"


def _setup(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", "scripts/setup.sh", *args],
        cwd=PROJECT_ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_second_run_installs_nothing():
    """What this checkout's .venv has (torch included, from this machine's own wheels) is
    kept: setup.sh says nothing and installs nothing."""
    venv = PROJECT_ROOT / ".venv"
    if not (venv / "bin" / "python").exists():
        pytest.skip("no .venv here (scripts/setup.sh makes it)")
    before = sorted(p.name for p in venv.iterdir())
    out = _setup()
    assert out.returncode == 0, out.stderr
    assert "installing" not in out.stdout + out.stderr
    assert sorted(p.name for p in venv.iterdir()) == before


def _no_local_wheels() -> dict[str, str]:
    """pip with no configuration files and no find-links: nothing at hand locally."""
    return {"PIP_CONFIG_FILE": os.devnull, "PIP_FIND_LINKS": ""}


def test_torch_comes_from_the_cpu_index_without_a_gpu():
    out = _setup("--torch-args", PATH="/usr/bin:/bin", **_no_local_wheels())
    assert out.returncode == 0 and out.stdout.strip() == CPU_INDEX, out.stderr


def test_torch_comes_from_the_default_index_with_a_gpu(tmp_path):
    fake = tmp_path / "nvidia-smi"
    fake.write_text("#!/bin/sh\nexit 0\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    out = _setup("--torch-args", PATH=f"{tmp_path}:/usr/bin:/bin", **_no_local_wheels())
    assert out.returncode == 0 and out.stdout.strip() == "", out.stderr


def test_a_chosen_index_wins():
    out = _setup("--torch-args", TORCH_INDEX_URL="https://example.org/whl")
    assert out.stdout.strip() == "--index-url https://example.org/whl"


def test_torch_at_hand_locally_is_used_as_it_is():
    """This machine keeps the pinned torch in pip's find-links: no index is forced."""
    folders = [Path(d) for d in os.environ.get("PIP_FIND_LINKS", "").split()]
    if not any(p.name.startswith("torch-") for d in folders if d.is_dir() for p in d.iterdir()):
        pytest.skip("no local torch wheel on this machine")
    out = _setup("--torch-args")
    assert out.returncode == 0 and out.stdout.strip() == "", out.stderr
