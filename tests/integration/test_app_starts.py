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


def test_deleting_an_app_through_the_page_stops_its_running_job(settings, tmp_path, monkeypatch):
    import psutil
    from gradio_client import Client

    import app
    import studio.jobs.scheduler as runner_mod
    from studio.export.paths import exports_dir

    # A stand-in training process: waits for the STOP file the cancel writes, writing metrics.
    child = (
        "import pathlib, sys, time; p = pathlib.Path(sys.argv[1])\n"
        "while not (p / 'STOP').exists():\n"
        "    (p / 'metrics.jsonl').write_text('{}'); time.sleep(0.05)"
    )

    def command(_kind, run_dir, resume=False):
        return [sys.executable, "-c", child, str(run_dir)]

    monkeypatch.setattr(runner_mod, "build_command", command)
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "gradio"))
    fastapi_app, _, ctx = app.create_server(settings, start_runner=False)
    doomed = ctx.store.create_app("Doomed")
    job = ctx.runner.submit(doomed["id"], None, "train", {})
    ctx.runner.tick()  # launches it (the runner's own loop is off in this test)
    pid = ctx.store.get_job(job["id"])["pid"]
    assert pid and psutil.pid_exists(pid)
    (exports_dir(settings, doomed["id"]) / "adapter.zip").write_bytes(b"zip")
    try:
        with serve(fastapi_app) as url:
            out = Client(url, verbose=False).predict(doomed["id"], True, api_name="/delete_app")
    finally:
        alive = psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
        if alive:
            psutil.Process(pid).kill()
    assert not alive, "the job's process outlived its app"
    assert out[0] == "" and "stopped 1 running job" in out[-1]
    assert ctx.store.list_apps() == [] and ctx.store.counts()["jobs"] == 0
    assert not ctx.store.app_dir(doomed["id"]).exists()
    assert not (settings.home / "exports" / doomed["id"]).exists()
