"""Exporting a trained model: through the one ownership guard, and every format recorded in
the app's activity log (the GGUF export included)."""

from __future__ import annotations

import pytest

from studio.actions.export import FORMATS, export_model
from studio.actions.ownership import Caller
from studio.errors import NotFoundError, StudioError
from tests.support.trained import make_trained_run


def test_every_export_is_recorded_and_guarded(
    store, settings, tiny_causal_dir, monkeypatch, tmp_path
):
    run = make_trained_run(store, settings, tiny_causal_dir)
    local, job_id = Caller(settings.owner), run["job_id"]
    path = export_model(store, settings, local, run["app_id"], job_id, "adapter")
    assert path.is_file() and path.suffix == ".zip"
    # The GGUF writer itself is tested in tests/integration/test_gguf_export.py.
    monkeypatch.setitem(FORMATS, "gguf", ("GGUF {qtype}", lambda *args: tmp_path / "g.zip"))
    assert (
        export_model(store, settings, local, run["app_id"], job_id, "gguf", "Q4_1").name == "g.zip"
    )
    details = [a["detail"] for a in store.list_activity(run["app_id"]) if a["action"] == "exported"]
    assert details == [f"GGUF Q4_1 of job {job_id}", f"adapter of job {job_id}"]  # newest first
    with pytest.raises(StudioError, match="not offered"):
        export_model(store, settings, local, run["app_id"], job_id, "pdf")
    other = store.create_app("Other")
    with pytest.raises(StudioError, match="belongs to another app"):
        export_model(store, settings, local, other["id"], job_id, "adapter")
    bobs = store.create_app("Bob's", owner="bob")
    with pytest.raises(NotFoundError):
        export_model(store, settings, Caller("bob", "bob"), bobs["id"], job_id, "adapter")
