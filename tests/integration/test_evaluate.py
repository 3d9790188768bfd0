"""`python -m studio.evaluate RUN_DIR` as a subprocess on the tiny model, like the runner runs it."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from studio.actions.start_evaluation import build_eval_config
from studio.errors import ConfigError, StudioError
from studio.jobs.launch import child_env
from studio.jobs.outcome import job_outcome
from studio.jobs.trained import trained_model
from studio.settings import PROJECT_ROOT
from tests.support.trained import make_trained_run


def _run(run_dir, cfg):
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "config.json").write_text(json.dumps({**cfg, "run_dir": str(run_dir)}))
    return subprocess.run(
        [sys.executable, "-m", "studio.evaluate", str(run_dir)],
        cwd=PROJECT_ROOT,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_entry_point_writes_results_and_the_runner_stores_them(store, settings, tiny_causal_dir):
    run = make_trained_run(store, settings, tiny_causal_dir)
    cfg = build_eval_config(store, settings, trained_model(store, run["job_id"]), max_new_tokens=4)
    assert cfg["examples"].endswith("valid.jsonl") and cfg["labels"]
    job = store.create_job(run["app_id"], run["model_id"], "evaluate", {}, "")
    run_dir = store.app_dir(run["app_id"]) / "runs" / job["id"]
    proc = _run(run_dir, {**cfg, "job_id": job["id"]})
    status = json.loads((run_dir / "status.json").read_text())
    assert status["status"] == "succeeded", (status, proc.stdout[-2000:], proc.stderr[-2000:])
    results = json.loads((run_dir / "results.json").read_text())
    ppl = results["perplexity"]
    assert ppl["tuned"]["perplexity"] > 1 and ppl["base"]["perplexity"] > 1
    assert ppl["tuned"]["cross_entropy"] != ppl["base"]["cross_entropy"]
    assert 0 <= results["classification"]["tuned"]["accuracy"] <= 1
    assert len(results["batch"]["rows"]) == 6
    assert (run_dir / "batch.csv").read_text().startswith("prompt,expected")
    assert "rougeL" in results["text"]["tuned"]
    progress = [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert progress[-1]["phase"] == "done" and progress[-1]["step"] == progress[-1]["total"]
    assert status["summary"]["tuned_perplexity"] == pytest.approx(ppl["tuned"]["perplexity"])
    # The child never writes the database; the runner records what it left in RUN_DIR.
    assert store.list_evaluations(run["app_id"], run["model_id"]) == []
    job = store.update_job(job["id"], run_dir=str(run_dir))
    outcome = job_outcome(store, job, status)
    assert outcome["status"] == "succeeded" and "store_error" not in outcome["summary"]
    evals = store.list_evaluations(run["app_id"], run["model_id"])
    assert len(evals) == 1 and evals[0]["job_id"] == job["id"]
    assert (
        evals[0]["results"]["train_job_id"] == run["job_id"] and "batch" not in evals[0]["results"]
    )
    assert evals[0]["results"]["perplexity"]["tuned"]["perplexity"] == pytest.approx(
        ppl["tuned"]["perplexity"]
    )


def test_stop_file_cancels_and_bad_config_fails(store, settings, tiny_causal_dir, tmp_path):
    run = make_trained_run(store, settings, tiny_causal_dir)
    cfg = build_eval_config(
        store, settings, trained_model(store, run["job_id"]), metrics=["perplexity"]
    )
    run_dir = tmp_path / "stopped"
    run_dir.mkdir()
    (run_dir / "STOP").write_text("")
    _run(run_dir, cfg)
    assert json.loads((run_dir / "status.json").read_text())["status"] == "cancelled"
    bad = tmp_path / "bad"
    _run(bad, {**cfg, "examples": str(tmp_path / "missing.jsonl")})
    status = json.loads((bad / "status.json").read_text())
    assert status["status"] == "failed" and "missing.jsonl" in status["reason"]


def test_build_eval_config_checks(store, settings, tiny_causal_dir, tmp_path):
    run = make_trained_run(store, settings, tiny_causal_dir)
    with pytest.raises(ConfigError, match="unknown metric 'bogus'"):
        build_eval_config(store, settings, trained_model(store, run["job_id"]), metrics=["bogus"])
    running = store.create_job(run["app_id"], run["model_id"], "train", {}, str(tmp_path))
    with pytest.raises(StudioError, match="queued"):
        build_eval_config(store, settings, trained_model(store, running["id"]))
    prompts = tmp_path / "p.txt"
    prompts.write_text("hello\n")
    cfg = build_eval_config(
        store, settings, trained_model(store, run["job_id"]), prompts_file=prompts
    )
    assert cfg["prompts_file"].startswith(str(settings.apps_dir)) and cfg["examples"] == ""


def test_tab_api_evaluate_export_import(settings, tiny_causal_dir, tmp_path, monkeypatch):
    """Through the served page's API: evaluate as a job, export, import, a refused zip."""
    import time
    import zipfile

    from gradio_client import Client, handle_file

    from app import create_server
    from tests.helpers import serve

    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "gradio"))
    app, _, ctx = create_server(settings, start_runner=True)
    try:
        run = make_trained_run(ctx.store, settings, tiny_causal_dir)
        with serve(app) as url:
            client = Client(url, verbose=False)
            zip_path = client.predict(run["app_id"], run["job_id"], api_name="/export_adapter")
            with zipfile.ZipFile(zip_path) as zf:
                assert "adapter_config.json" in zf.namelist()
            ev_id, _ = client.predict(
                run["app_id"],
                run["job_id"],
                run["version_id"],
                None,
                ["perplexity", "batch"],
                3,
                4,
                api_name="/evaluate",
            )
            deadline = time.time() + 180
            while ctx.store.get_job(ev_id)["status"] in ("queued", "running"):
                assert time.time() < deadline, "evaluation job did not finish"
                time.sleep(0.5)
            job = ctx.store.get_job(ev_id)
            assert job["status"] == "succeeded", job["reason"]
            assert job["summary"]["n_examples"] == 3
            assert ctx.store.list_evaluations(run["app_id"], run["model_id"])
            # A reloaded page picks the model again and re-attaches to its evaluation.
            *_, restored = client.predict(run["app_id"], run["job_id"], api_name="/on_model")
            assert restored == ev_id
            msg, _ = client.predict(
                run["app_id"],
                handle_file(zip_path),
                str(tiny_causal_dir),
                api_name="/import_adapter",
            )
            assert "Imported as job" in msg
            bad = tmp_path / "bad.zip"
            with zipfile.ZipFile(bad, "w") as zf:
                zf.writestr("../evil.json", "{}")
            with pytest.raises(Exception, match="leaves its folder"):
                client.predict(run["app_id"], handle_file(str(bad)), "", api_name="/import_adapter")
    finally:
        ctx.runner.stop()
