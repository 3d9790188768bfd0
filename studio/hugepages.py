"""Transparent huge pages for the fast engine's weights: the process starts once more with
glibc's allocator told to use them.

    if __name__ == "__main__":
        restart_with_huge_pages()   # first thing in an entry point, before heavy imports

The fast engine (ONNX Runtime GenAI) reads every weight of the model for every token, from
memory it allocates with malloc. With 4 KB pages that walk misses the TLB all the time; with
`glibc.malloc.hugetlb=1` (malloc asks the kernel for transparent huge pages) and allocations
of up to 32 MB kept on the heap, the same int8 SmolLM2-135M decoded about 1.5x faster here
(67-70 -> 106-107 tokens/s, bench/README.md, "Huge pages"). torch was measured unchanged.
glibc reads its tunables once, at process start, so an entry point re-executes itself with
them set. Nothing happens off Linux/glibc, when the kernel has transparent huge pages off,
when the setting is already there, or with STUDIO_HUGE_PAGES=0.
"""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path

TUNABLES = {"glibc.malloc.hugetlb": "1", "glibc.malloc.mmap_threshold": "33554432"}
THP_SETTING = Path("/sys/kernel/mm/transparent_hugepage/enabled")
_DONE = "STUDIO_HUGE_PAGES_SET"  # marks the re-executed process: never loop


def merged_tunables(current: str) -> str:
    """GLIBC_TUNABLES with ours added; a value the user set for the same name is kept."""
    pairs = [p for p in current.split(":") if p]
    names = {p.split("=", 1)[0] for p in pairs}
    pairs += [f"{name}={value}" for name, value in TUNABLES.items() if name not in names]
    return ":".join(pairs)


def wanted(env: dict[str, str], system: str | None = None, libc: str | None = None) -> bool:
    """Whether a process with `env` should restart with the tunables."""
    system = system or platform.system()
    libc = libc if libc is not None else platform.libc_ver()[0]
    if system != "Linux" or libc != "glibc":
        return False
    if env.get("STUDIO_HUGE_PAGES", "1").strip().lower() in ("0", "false", "no", "off"):
        return False
    if env.get(_DONE) or merged_tunables(env.get("GLIBC_TUNABLES", "")) == env.get(
        "GLIBC_TUNABLES", ""
    ):
        return False
    try:  # "[never]" means the kernel gives none: a restart would change nothing
        return "[never]" not in THP_SETTING.read_text()
    except OSError:
        return False


def restart_with_huge_pages(argv: list[str] | None = None) -> None:
    """Re-execute this Python process with the tunables set (see the module doc); returns
    only when nothing is to be done."""
    if not wanted(dict(os.environ)):
        return
    env = dict(os.environ)
    env["GLIBC_TUNABLES"] = merged_tunables(env.get("GLIBC_TUNABLES", ""))
    env[_DONE] = "1"
    args = [sys.executable, *(sys.argv if argv is None else argv)]
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, args, env)
