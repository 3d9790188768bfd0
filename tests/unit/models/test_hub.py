"""Hub downloads as a Space user meets them: offline refused at once, a local folder and a
model already in the Hub cache found with no network, the user's token reaching the
download and never the disk, and a gated model without access naming its page."""

from __future__ import annotations

import json
import shutil
import socket
import time
from pathlib import Path

import pytest

from studio.download import download_progress, queue_download
from studio.download.__main__ import download_run
from studio.errors import StudioError
from studio.jobs.run_folder import RunFolder
from studio.jobs.scheduler import JobRunner
from studio.models import hub
from studio.models.hub import HubAccessError, HubOffline, cached_snapshot, check_online
from studio.models.resolve import model_availability, resolve_model_path

REPO = "someone/tiny-model"
GATED = "meta-llama/Llama-3.2-1B-Instruct"
COMMIT = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture
def no_network(monkeypatch):
    """Every attempt to open a connection is recorded and refused."""
    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(args[:1])
        raise OSError("network used in a test that must not use it")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", lambda self, *a: refuse(*a))
    return attempts


@pytest.fixture
def settings(tmp_path):
    """A models folder of this test's own (downloads land there)."""
    from studio.settings import Settings

    s = Settings.from_env(home=tmp_path / "home", models_root=tmp_path / "models", port=0)
    s.ensure_dirs()
    return s


@pytest.fixture
def online(monkeypatch):
    """The Hub reachable, as far as the studio's checks can tell (nothing is downloaded)."""
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(hub, "hub_answers", lambda timeout=2.0: True)


@pytest.fixture
def app_id(store):
    return store.create_app("downloads")["id"]


def lay_out_hub_cache(cache, repo_id: str, model_dir) -> None:
    """`model_dir`'s files in the Hub cache layout: blobs, snapshots/<commit> links, refs."""
    repo = cache / f"models--{repo_id.replace('/', '--')}"
    snapshot = repo / "snapshots" / COMMIT
    (repo / "blobs").mkdir(parents=True)
    snapshot.mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(COMMIT)
    for i, path in enumerate(sorted(model_dir.iterdir())):
        blob = repo / "blobs" / f"{i:040x}"
        shutil.copyfile(path, blob)
        (snapshot / path.name).symlink_to(f"../../blobs/{blob.name}")


def test_offline_is_refused_at_once_and_nothing_is_queued(
    settings, store, app_id, monkeypatch, no_network
):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    runner = JobRunner(store, settings)
    start = time.monotonic()
    with pytest.raises(HubOffline, match="offline .HF_HUB_OFFLINE is set."):
        queue_download(runner, store, settings, app_id, GATED)
    assert time.monotonic() - start < 5 and no_network == []
    assert store.list_jobs(app_id=app_id) == []


def test_an_unreachable_hub_says_so_within_the_probe(monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    with socket.socket() as s:  # a port nobody listens on: refused at once
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    with pytest.raises(HubOffline, match=r"\(127.0.0.1\) cannot be reached"):
        check_online(REPO, timeout=1.0)


def test_a_local_folder_needs_no_download(settings, store, app_id, tiny_causal_dir):
    assert model_availability(str(tiny_causal_dir), settings)[0]
    with pytest.raises(StudioError, match="local folder needs no download"):
        queue_download(JobRunner(store, settings), store, settings, app_id, str(tiny_causal_dir))


@pytest.mark.parametrize("where", ["models folder", "user cache"])
def test_a_model_in_the_hub_cache_resolves_and_loads_with_no_network(
    settings, tiny_causal_dir, tmp_path, monkeypatch, no_network, where
):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    cache = hub.hub_cache_dir(settings) if where == "models folder" else tmp_path / "hf-cache"
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    lay_out_hub_cache(cache, REPO, tiny_causal_dir)
    folder = cached_snapshot(REPO, settings)
    assert folder and folder.endswith(f"snapshots/{COMMIT}")
    ok, reason = model_availability(REPO, settings)
    assert ok and "cache" in reason
    assert resolve_model_path(REPO, settings) == folder
    from studio.models.loading import load_model

    model = load_model(REPO, settings)
    assert model.config.num_hidden_layers == 2
    assert no_network == []


def test_a_half_downloaded_model_is_not_taken_for_a_cached_one(settings, tiny_causal_dir):
    lay_out_hub_cache(hub.hub_cache_dir(settings), REPO, tiny_causal_dir)
    snapshot = hub.hub_cache_dir(settings) / f"models--{REPO.replace('/', '--')}" / "snapshots"
    (snapshot / COMMIT / "model.safetensors").unlink()  # the weights never arrived
    assert cached_snapshot(REPO, settings) is None


def test_the_users_token_reaches_the_download_child_and_never_the_disk(
    settings, store, app_id, monkeypatch, online
):
    launched = {}

    def fake_launch(cmd, run_dir, extra_env=None):
        launched.update(cmd=cmd, env=extra_env)
        raise OSError("not started in this test")

    monkeypatch.setattr("studio.jobs.scheduler.launch", fake_launch)
    runner = JobRunner(store, settings)
    job = queue_download(runner, store, settings, app_id, GATED, token="hf_userTOKEN")
    assert job["kind"] == "download" and job["status"] == "queued"
    assert "hf_userTOKEN" not in (RunFolder(job["run_dir"]).config_path).read_text()
    assert queue_download(runner, store, settings, app_id, GATED)["id"] == job["id"]  # queued once
    runner.tick()
    assert launched["cmd"][-2:] == ["studio.download", job["run_dir"]]
    assert launched["env"] == {"HF_TOKEN": "hf_userTOKEN"}


def test_the_signed_in_users_token_wins_over_hf_token(monkeypatch):
    monkeypatch.setenv("HF_TOKEN", "hf_server")
    assert hub.user_token("hf_oauth_user") == "hf_oauth_user"
    assert hub.user_token(None) == "hf_server"
    monkeypatch.delenv("HF_TOKEN")
    assert hub.user_token("") is None


def _gated_error():
    import httpx
    from huggingface_hub.errors import GatedRepoError

    response = httpx.Response(401, request=httpx.Request("GET", f"https://huggingface.co/{GATED}"))
    return GatedRepoError(f"Access to model {GATED} is restricted.", response=response)


def test_a_gated_model_without_a_token_names_the_page_that_grants_access(
    settings, monkeypatch, tmp_path, online
):
    monkeypatch.delenv("HF_TOKEN", raising=False)

    def gated(*args, **kwargs):
        raise _gated_error()

    monkeypatch.setattr("huggingface_hub.snapshot_download", gated)
    with pytest.raises(HubAccessError) as err:
        hub.download(GATED, settings, token=None)
    message = str(err.value)
    assert f"accept its licence at https://huggingface.co/{GATED}" in message
    assert "sign in (or set HF_TOKEN)" in message

    # The same through the download job's process: its status says it in one line.
    run = RunFolder(tmp_path / "run")
    run.path.mkdir()
    run.write_config(
        {
            "repo_id": GATED,
            "studio_home": str(settings.home),
            "models_dir": str(settings.models_dir),
        }
    )
    from studio.download.__main__ import main

    assert main([str(run.path)]) == 1
    status = run.status()
    assert status["status"] == "failed" and f"https://huggingface.co/{GATED}" in status["reason"]


def test_the_download_job_reports_progress_and_stops_on_request(
    settings, monkeypatch, tmp_path, tiny_causal_dir, online
):
    files = sorted(tiny_causal_dir.iterdir())
    total = sum(p.stat().st_size for p in files)

    def fake_snapshot(repo_id, *, cache_dir, tqdm_class, **kwargs):
        """Write the files as snapshot_download does, driving its progress bars."""
        lay_out_hub_cache(cache_dir, repo_id, tiny_causal_dir)
        with tqdm_class(desc=f"Fetching {len(files)} files", total=len(files)) as count:
            size = tqdm_class(desc="Reconstructing (incomplete total...)", total=0, unit="B")
            size.total = total
            for path in files:
                size.update(path.stat().st_size)
                count.update(1)
            size.close()
        return str(cache_dir / f"models--{repo_id.replace('/', '--')}" / "snapshots" / COMMIT)

    monkeypatch.setattr("huggingface_hub.snapshot_download", fake_snapshot)
    run = RunFolder(tmp_path / "run")
    run.path.mkdir()
    run.write_config(
        {"repo_id": REPO, "studio_home": str(settings.home), "models_dir": str(settings.models_dir)}
    )
    status = download_run(run, False)
    assert status["status"] == "succeeded" and status["summary"]["bytes"] == total
    progress = download_progress({"status": "succeeded", "run_dir": str(run.path)})
    assert progress["bytes_total"] == total and progress["fraction"] == 1.0
    assert progress["files"] == progress["files_total"] == len(files)
    assert hub._complete(Path(status["summary"]["path"]))  # a loadable snapshot

    run.request_stop(time.time())  # Cancel: the next progress update stops the download
    shutil.rmtree(hub.hub_cache_dir(settings))
    stopped = download_run(run, False)
    assert stopped["status"] == "cancelled" and "download it again" in stopped["reason"]
    json.dumps(stopped)  # the status is written as JSON
