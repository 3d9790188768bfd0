"""trusted_upload: only paths Gradio's /upload route recorded, inside its upload folder."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from gradio.context import LocalContext

from studio.ui.uploads import UntrustedFileError, trusted_upload, trusted_uploads


@pytest.fixture
def upload_dir(tmp_path, monkeypatch):
    folder = tmp_path / "gradio"
    folder.mkdir()
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(folder))
    return folder


def _serve(received: set[str]):
    token = LocalContext.blocks.set(SimpleNamespace(upload_file_set=received))
    return token


def test_a_received_upload_is_trusted(upload_dir):
    f = upload_dir / "abc" / "data.csv"
    f.parent.mkdir()
    f.write_text("text\nx\n")
    token = _serve({str(f)})
    try:
        assert trusted_upload(str(f)) == str(f)
        assert trusted_uploads([{"path": str(f)}]) == [str(f)]
        assert trusted_uploads(None) == []
    finally:
        LocalContext.blocks.reset(token)


@pytest.mark.parametrize("where", ["outside", "in_folder_not_received", "symlink_out"])
def test_anything_else_is_refused(upload_dir, tmp_path, where):
    secret = tmp_path / "secret.csv"
    secret.write_text("text\nsecret\n")
    if where == "outside":
        path, received = secret, {str(secret)}  # even "received", it is not in the folder
    elif where == "in_folder_not_received":
        path = upload_dir / "x" / "cached.csv"  # e.g. a file the server put in the cache
        path.parent.mkdir()
        path.write_text("text\ncached\n")
        received = set()
    else:
        path = upload_dir / "link.csv"
        path.symlink_to(secret)
        received = {str(path)}
    token = _serve(received)
    try:
        with pytest.raises(UntrustedFileError, match="not uploaded through this studio"):
            trusted_upload(str(path))
    finally:
        LocalContext.blocks.reset(token)


def test_outside_an_event_nothing_is_trusted(upload_dir):
    f = upload_dir / "a.csv"
    f.write_text("x")
    with pytest.raises(UntrustedFileError):
        trusted_upload(str(f))
