"""The app builds without heavy imports and serves its page with all six tabs."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import httpx

from tests.helpers import serve


def test_page_is_served_with_every_tab(settings):
    import app

    fastapi_app, _, ctx = app.create_server(settings, start_runner=False)
    with serve(fastapi_app) as url:
        page = httpx.get(url + "/", timeout=30)
        assert page.status_code == 200
        config = httpx.get(url + "/config", timeout=30).json()
    labels = {c.get("props", {}).get("label") for c in config["components"]}
    for tab in ("Apps", "Inputs", "Models", "Train", "Generate", "Evaluate / Export"):
        assert tab in labels, f"tab {tab!r} missing"


def test_building_the_page_imports_no_torch(tmp_path):
    code = textwrap.dedent(
        f"""
        import sys, app
        from studio.settings import Settings
        app.create_server(Settings.from_env(home=__import__("pathlib").Path({str(tmp_path)!r})),
                          start_runner=False)
        heavy = [m for m in ("torch", "transformers", "peft") if m in sys.modules]
        print("HEAVY", heavy)
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "HEAVY []" in out.stdout, out.stdout + out.stderr


def test_create_demo_app_through_the_page(settings, tmp_path, monkeypatch):
    from gradio_client import Client

    import app

    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "gradio"))
    fastapi_app, _, ctx = app.create_server(settings, start_runner=False)
    with serve(fastapi_app) as url:
        client = Client(url, verbose=False)
        app_id, table, chooser, _current, note, *_bumps = client.predict(
            "sentiment", api_name="/create_demo_app"
        )
    made = ctx.store.get_app(app_id)
    assert made["name"] == "Demo: Sentiment classification"
    assert [row[0] for row in table["value"]["data"]] == [made["name"]]
    assert "72 examples" in note and "sentiment-demo" in note
    [model] = ctx.store.list_models(app_id)
    assert model["dataset_version_id"] == ctx.store.list_dataset_versions(app_id)[0]["id"]
