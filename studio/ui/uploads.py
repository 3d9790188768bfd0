"""Which server files a handler may read: only those this server's upload endpoint received.

A file input reaches a handler as a path. Through the HTTP API a caller can send any path
({"path": "/etc/passwd", "meta": {"_type": "gradio.FileData"}}), and because the page is
mounted with `gr.mount_gradio_app` (which never sets `blocks.has_launched`), Gradio's own
"was it uploaded?" check in processing_utils._check_allowed is skipped. So every handler
that takes a file passes it through `trusted_upload` first: the path must be one that
Gradio's /upload route recorded in `blocks.upload_file_set` for this server, and it must
still lie inside Gradio's upload folder (GRADIO_TEMP_DIR). Anything else is refused before
a byte of it is read. Pasted text arrives as a string and needs no check.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from gradio.context import LocalContext
from gradio.utils import get_upload_folder

from studio.errors import StudioError


class UntrustedFileError(StudioError):
    """A file path that was not uploaded through this server's page or API."""


def _received() -> set[str]:
    blocks = LocalContext.blocks.get(None)
    return getattr(blocks, "upload_file_set", None) or set()


def _name(item: Any) -> str | None:
    if item is None or isinstance(item, str):
        return item
    if isinstance(item, dict):
        return item.get("path")
    return getattr(item, "path", None) or getattr(item, "name", None)


def trusted_upload(item: Any) -> str:
    """The path of a file this server received through its upload endpoint, else refused.

    `item` is what a gr.File hands a handler (a path string, a FileData dict or object).
    """
    raw = _name(item)
    if not raw:
        raise UntrustedFileError("No file was received; choose the file again.")
    folder = os.path.realpath(get_upload_folder())
    real = os.path.realpath(raw)
    inside = real == folder or real.startswith(folder.rstrip(os.sep) + os.sep)
    received = _received()
    known = raw in received or real in {os.path.realpath(x) for x in received}
    if not inside or not known or not os.path.isfile(real):
        raise UntrustedFileError(
            f"{Path(raw).name or raw!r} was not uploaded through this studio, so it is not "
            "read: only files sent with the page's upload button (or gradio_client's "
            "handle_file) are accepted. Upload the file again."
        )
    return raw


def trusted_uploads(files: Any) -> list[str]:
    """trusted_upload for each file of a (possibly multiple) file input; [] when empty."""
    if not files:
        return []
    items = files if isinstance(files, (list, tuple)) else [files]
    return [trusted_upload(f) for f in items]
