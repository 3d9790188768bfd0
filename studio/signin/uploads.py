"""Who uploaded which file: Gradio keeps every upload of every user in one folder and
one list; this registry remembers each file's uploader so a file is read only by the one
who sent it (studio.ui.uploads, studio.signin.files) and counts against their storage.

    owners = UploadOwners()
    api.add_middleware(UploadRecorder, who=auth_dependency, owners=owners)

The recorder reads the answer of Gradio's POST /gradio_api/upload (a JSON list of the
stored paths) and records them under the signed-in user. The registry lives in memory, as
Gradio's own list of received files does: after a restart both start empty.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable

from starlette.requests import HTTPConnection

UPLOAD_ROUTES = ("/gradio_api/upload", "/upload")
MAX_ANSWER_BYTES = 1 << 20  # an upload's answer lists a few paths


class UploadOwners:
    """path -> uploader, for the files of Gradio's upload folder. `folder()` names that
    folder (the web layer passes Gradio's own function; no Gradio import here)."""

    def __init__(self, folder: Callable[[], str] | None = None):
        self._owner: dict[str, str] = {}
        self._lock = threading.Lock()
        self._folder = folder

    def holds(self, path: str) -> bool:
        """Whether `path` lies in the upload folder (False when the folder is not known)."""
        if self._folder is None:
            return False
        folder = os.path.realpath(self._folder())
        real = os.path.realpath(path)
        return real == folder or real.startswith(folder.rstrip(os.sep) + os.sep)

    def record(self, paths: list[str], user: str) -> None:
        with self._lock:
            for path in paths:
                self._owner[os.path.realpath(path)] = user

    def owner_of(self, path: str) -> str | None:
        """Who uploaded `path` (None: not an upload this server recorded)."""
        with self._lock:
            return self._owner.get(os.path.realpath(path))

    def bytes_of(self, user: str) -> int:
        """Bytes of `user`'s uploads still on disk; forgets the files that are gone."""
        total, gone = 0, []
        with self._lock:
            items = [(p, u) for p, u in self._owner.items() if u == user]
        for path, _ in items:
            try:
                total += os.stat(path).st_size
            except OSError:
                gone.append(path)
        with self._lock:
            for path in gone:
                self._owner.pop(path, None)
        return total


class UploadRecorder:
    """Pure ASGI middleware: records the paths Gradio's upload route answers with."""

    def __init__(self, app, who: Callable, owners: UploadOwners):
        self.app, self.who, self.owners = app, who, owners

    async def __call__(self, scope, receive, send):
        if not (
            scope["type"] == "http"
            and scope["method"] == "POST"
            and scope["path"].rstrip("/").endswith(UPLOAD_ROUTES)
        ):
            await self.app(scope, receive, send)
            return
        user = self.who(HTTPConnection(scope))
        status, body = [0], bytearray()

        async def recording_send(message):
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            elif message["type"] == "http.response.body" and len(body) < MAX_ANSWER_BYTES:
                body.extend(message.get("body", b""))
                if not message.get("more_body") and user and status[0] == 200:
                    # Before the answer leaves: the client may use the paths at once.
                    self._record(bytes(body), user)
            await send(message)

        await self.app(scope, receive, recording_send)

    def _record(self, body: bytes, user: str) -> None:
        try:
            paths = json.loads(body)
        except ValueError:
            return
        if isinstance(paths, list):
            self.owners.record([p for p in paths if isinstance(p, str)], user)
