"""Huge pages for the fast engine: the allocator setting is merged into the user's own, the
process restarts with it once (never in a loop), and never where it cannot help."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

from studio import hugepages
from studio.hugepages import merged_tunables, wanted

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def thp(tmp_path, monkeypatch):
    """A stand-in for the kernel's transparent huge page setting."""
    setting = tmp_path / "enabled"
    setting.write_text("always [madvise] never\n")
    monkeypatch.setattr(hugepages, "THP_SETTING", setting)
    return setting


def test_the_users_own_tunables_are_kept():
    assert merged_tunables("") == ("glibc.malloc.hugetlb=1:glibc.malloc.mmap_threshold=33554432")
    mine = "glibc.malloc.arena_max=2:glibc.malloc.hugetlb=0"
    merged = merged_tunables(mine)
    assert merged.startswith(mine)  # the user's hugetlb=0 stays, nothing else is lost
    assert merged.count("hugetlb") == 1 and "mmap_threshold=33554432" in merged
    assert merged_tunables(merged) == merged


def test_when_the_process_restarts(thp):
    linux = {"system": "Linux", "libc": "glibc"}
    assert wanted({}, **linux)
    assert not wanted({}, system="Darwin", libc="")
    assert not wanted({}, system="Linux", libc="musl")
    assert not wanted({"STUDIO_HUGE_PAGES": "0"}, **linux)
    assert not wanted({"STUDIO_HUGE_PAGES_SET": "1"}, **linux)  # the restarted process
    assert not wanted({"GLIBC_TUNABLES": merged_tunables("")}, **linux)  # already set
    thp.write_text("always madvise [never]\n")
    assert not wanted({}, **linux)  # the kernel gives none
    thp.unlink()
    assert not wanted({}, **linux)


@pytest.mark.skipif(
    platform.system() != "Linux" or platform.libc_ver()[0] != "glibc",
    reason="glibc tunables exist on Linux with glibc only",
)
def test_an_entry_point_restarts_once_with_the_setting(tmp_path):
    if "[never]" in Path("/sys/kernel/mm/transparent_hugepage/enabled").read_text():
        pytest.skip("this kernel has transparent huge pages off")
    script = tmp_path / "entry.py"
    script.write_text(
        "import os, sys\n"
        f"sys.path.insert(0, {str(ROOT)!r})\n"
        "print('start', flush=True)\n"
        "from studio.hugepages import restart_with_huge_pages\n"
        "restart_with_huge_pages()\n"
        "print(os.environ['GLIBC_TUNABLES'], sys.argv[1:])\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GLIBC_", "STUDIO_HUGE"))}
    env["GLIBC_TUNABLES"] = "glibc.malloc.arena_max=2"
    out = subprocess.run(
        [sys.executable, str(script), "--port", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.splitlines()
    assert out == [
        "start",
        "start",  # the restarted process, which does not restart again
        "glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1:glibc.malloc.mmap_threshold=33554432"
        " ['--port', '1']",
    ]
    env["STUDIO_HUGE_PAGES"] = "0"
    off = subprocess.run(
        [sys.executable, str(script)], env=env, capture_output=True, text=True, check=True
    )
    assert off.stdout.splitlines() == ["start", "glibc.malloc.arena_max=2 []"]
