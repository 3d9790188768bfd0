"""Test helpers: serve an ASGI app on a free loopback port for the length of a `with`."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve(asgi_app, port: int | None = None) -> Iterator[str]:
    """Run `asgi_app` with uvicorn in a thread; yields its base URL."""
    import uvicorn

    port = port or free_port()
    # A client's open event stream would hold a graceful shutdown for its full timeout.
    server = uvicorn.Server(
        uvicorn.Config(
            asgi_app, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=1
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 60
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    if not server.started:
        raise RuntimeError("test server did not start")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def run_coroutine(coro):
    """Run `coro` to completion on a fresh event loop in its own thread.

    The e2e suite's session-wide Playwright browser keeps an event loop running on the main
    thread, where `asyncio.run` refuses to start another.
    """
    import asyncio

    result: dict = {}

    def target():
        try:
            result["value"] = asyncio.run(coro)
        except BaseException as exc:  # re-raised on the caller's thread
            result["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in result:
        raise result["error"]
    return result["value"]
