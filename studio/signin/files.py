"""Who may download which file: Gradio's file route serves any file under its folders to
anyone signed in; this guard narrows it to the file's owner.

    api.add_middleware(FileGuard, who=auth_dependency, may_read=file_rule(store, settings))

An export (STUDIO_HOME/exports/<app id>/...) is readable by the app's owner and the
administrators only; a file in Gradio's upload folder by the user who uploaded it (and the
administrators). Anyone else gets the same 404 as for a file that does not exist. The path
is resolved (symlinks, `..`) before it is judged.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from fastapi.responses import PlainTextResponse
from starlette.requests import HTTPConnection

from studio.settings import Settings
from studio.signin.uploads import UploadOwners

FILE_ROUTES = ("/gradio_api/file=", "/gradio_api/file/", "/file=", "/file/")


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def file_rule(
    store, settings: Settings, uploads: UploadOwners | None = None
) -> Callable[[str, str], bool]:
    """may_read(user, path): whether `user` may download the server file `path`."""
    exports = os.path.realpath(settings.home / "exports")

    def may_read(user: str, raw: str) -> bool:
        if user in settings.admins:
            return True
        real = os.path.realpath(raw)
        if _inside(real, exports):
            parts = Path(real).relative_to(exports).parts
            return len(parts) > 1 and store.owner_of_app(parts[0]) == user
        if uploads is not None and uploads.holds(real):
            # Gradio's folder holds every user's uploads (and copies of files it served):
            # each is read by its uploader only.
            return uploads.owner_of(real) == user
        return True  # Gradio's own rules decide (only its folders are ever served)

    return may_read


class FileGuard:
    """Pure ASGI middleware: a file download the user may not read answers 404."""

    def __init__(self, app, who: Callable, may_read: Callable[[str, str], bool]):
        self.app, self.who, self.may_read = app, who, may_read

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["path"].startswith(FILE_ROUTES):
            path = scope["path"]
            raw = next(path[len(p) :] for p in FILE_ROUTES if path.startswith(p))
            user = self.who(HTTPConnection(scope))
            # No user: Gradio's own check answers 401.
            if user is not None and not self.may_read(user, raw):
                await PlainTextResponse("File not found.", status_code=404)(scope, receive, send)
                return
        await self.app(scope, receive, send)
