"""hf_ready(): the server's first transformers imports are safe from many threads at once."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from studio.settings import PROJECT_ROOT


def test_threads_importing_at_once_all_succeed_and_names_are_resolved():
    code = textwrap.dedent(
        """
        import sys, threading
        from studio.models.hf import TRANSFORMERS_NAMES, hf_ready
        assert "transformers" not in sys.modules
        errors, gate = [], threading.Barrier(8)

        def worker(i):
            try:
                gate.wait()
                hf_ready()
                name = TRANSFORMERS_NAMES[i % len(TRANSFORMERS_NAMES)]
                exec(f"from transformers import {name}")
            except Exception as exc:
                errors.append(repr(exc))

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
        [t.start() for t in threads]
        [t.join() for t in threads]
        import transformers
        unresolved = [n for n in TRANSFORMERS_NAMES if n not in vars(transformers)]
        print("ERRORS", errors, "UNRESOLVED", unresolved)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=300
    )
    assert "ERRORS [] UNRESOLVED []" in out.stdout, out.stdout + out.stderr
