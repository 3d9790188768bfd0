"""bitsandbytes imports without reaching for the Hub's optional CPU kernel, and says nothing."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading

import pytest

from studio.settings import PROJECT_ROOT


class _Listener:
    """A local 'Hub' that counts the connections made to it and never answers."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.connections = 0
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def _accept(self):
        held = []
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            held.append(conn)  # never answered: a client waiting on it would hang
        for conn in held:
            conn.close()

    def close(self):
        self._stop.set()
        self.thread.join(timeout=2)
        self.sock.close()


def _run(code: str, endpoint: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "HF_HUB_OFFLINE"}
    env["HF_ENDPOINT"] = endpoint
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        env=env,
        timeout=240,
    )


@pytest.fixture
def hub():
    listener = _Listener()
    yield listener
    listener.close()


def test_first_import_asks_the_hub_nothing_and_prints_no_warning(hub):
    pytest.importorskip("bitsandbytes")
    out = _run(
        "import sys\n"
        "from studio.models.hf import hf_ready\n"
        "hf_ready()\n"
        "from huggingface_hub import constants\n"
        "print('BNB', 'bitsandbytes' in sys.modules, 'OFFLINE', constants.HF_HUB_OFFLINE)\n",
        hub.url,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    # Imported, and the Hub switch is back as it was (downloads of models still work).
    assert "BNB True OFFLINE False" in out.stdout
    assert hub.connections == 0
    assert "kernels-community" not in out.stderr and "publisher trust" not in out.stderr
