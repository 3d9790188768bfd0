"""An imported adapter zip (job kind "import") is listed and generates like a trained model,
in Generate and through the OpenAI-compatible /v1/models."""

from __future__ import annotations

import zipfile

import pytest

from studio.errors import NotFoundError
from studio.generate.options import GenerationOptions
from studio.generate.prompting import PromptInput
from studio.generate.refs import list_models, resolve_spec


@pytest.fixture
def imported(store, settings, tuned_run_dir, tiny_causal_dir, tmp_path):
    """(app_id, "job:<id>") of an adapter imported through the real importer."""
    from studio.export.importer import import_adapter_zip

    zip_path = tmp_path / "adapter.zip"
    with zipfile.ZipFile(zip_path, "w") as zf:
        for f in (tuned_run_dir / "adapter").iterdir():
            if f.name != "studio.json":
                zf.write(f, f"my-adapter/{f.name}")
    app = store.create_app("import-app")
    job = import_adapter_zip(
        store,
        settings,
        app["id"],
        zip_path,
        confirmed_base=str(tiny_causal_dir),
        name="fox adapter",
    )
    assert job["kind"] == "import" and job["status"] == "succeeded"
    return app["id"], f"job:{job['id']}"


def test_imported_adapter_resolves_lists_and_generates(
    engine, store, settings, imported, tiny_causal_dir
):
    app_id, ref = imported
    spec = resolve_spec(ref, store, settings)
    assert spec.adapter_dir and spec.base_ref == str(tiny_causal_dir)
    assert "fox adapter" in spec.label
    rows = {r["id"]: r for r in list_models(store, settings, app_id)}
    assert rows[ref]["kind"] == "trained" and "fox adapter" in rows[ref]["name"]
    opts = GenerationOptions(max_new_tokens=6, min_new_tokens=6)
    prompt = PromptInput(mode="text", text="The fox")
    tuned = engine.generate(ref, prompt, opts).text
    base = engine.generate(spec.base_spec_ref, prompt, opts).text
    assert tuned != base  # the imported (perturbed) adapter is really applied


def test_openai_models_lists_imports_and_other_kinds_stay_refused(store, settings, imported):
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from studio.api import build_openai_router

    app = FastAPI()
    app.include_router(build_openai_router(settings, store))
    data = TestClient(app).get("/v1/models").json()["data"]
    assert imported[1] in {m["id"] for m in data}
    other = store.create_job(imported[0], None, "evaluate", {}, "", status="succeeded")
    with pytest.raises(NotFoundError, match="No train or import job"):
        resolve_spec(f"job:{other['id']}", store, settings)
