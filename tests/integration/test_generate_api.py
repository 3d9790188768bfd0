"""Every generation the Generate tab offers answers through gradio_client."""

from __future__ import annotations

import pytest

from tests.helpers import serve
from tests.unit.generate.tuned import add_succeeded_job, build_run_dir


@pytest.fixture(scope="module")
def app_url(tmp_path_factory, tiny_causal_dir, models_cache):
    import os

    import app
    from studio.settings import Settings
    from studio.store import Store

    home = tmp_path_factory.mktemp("gen-home")
    os.environ["GRADIO_TEMP_DIR"] = str(home / "gradio-tmp")
    settings = Settings.from_env(home=home, models_root=models_cache, port=0)
    settings.ensure_dirs()
    run_dir = build_run_dir(home / "run", tiny_causal_dir)
    _, job_id = add_succeeded_job(Store(settings.db_path, files_root=settings.apps_dir), run_dir)
    fastapi_app, _, _ = app.create_server(settings, start_runner=False)
    with serve(fastapi_app) as url:
        yield url, f"job:{job_id}"


@pytest.fixture(scope="module")
def client(app_url):
    from gradio_client import Client

    return Client(app_url[0] + "/", verbose=False)


def test_generate_endpoint_streams_an_answer(app_url, client):
    _, job = app_url
    out, stats = client.predict(
        model=job,
        instruction="Describe the fox.",
        input_text="A fox.",
        max_new_tokens=6,
        min_new_tokens=6,
        api_name="/generate",
    )
    assert out and "6 tokens" in stats and "tokens/s" in stats
    # Streaming: the job yields several updates.
    updates = list(
        client.submit(
            model=job,
            instruction="Describe the fox.",
            max_new_tokens=12,
            min_new_tokens=12,
            api_name="/generate",
        )
    )
    assert len(updates) >= 3
    sampled = [
        client.predict(
            model=job,
            mode="Free text",
            text="Once upon",
            strategy="sample",
            seed=5,
            max_new_tokens=8,
            api_name="/generate",
        )[0]
        for _ in range(2)
    ]
    assert sampled[0] == sampled[1]


def test_compare_endpoint_puts_the_base_on_the_right(app_url, client):
    _, job = app_url
    left, right, left_stats, right_stats = client.predict(
        model=job,
        instruction="Describe the fox.",
        max_new_tokens=8,
        min_new_tokens=8,
        api_name="/compare",
    )
    assert left and right and left != right
    assert "job" in left_stats and "(base)" in right_stats


def test_chat_endpoint_answers(app_url, client):
    _, job = app_url
    history, cleared, stats = client.predict(
        model=job, history=[], message="Hello!", max_new_tokens=5, api_name="/chat"
    )
    assert cleared == "" and history[0]["role"] == "user"
    assert history[-1]["role"] == "assistant" and history[-1]["content"]


def test_bad_input_is_a_clear_error(app_url, client):
    from gradio_client.exceptions import AppError

    _, job = app_url
    with pytest.raises(AppError, match="num_return_sequences"):
        client.predict(
            model=job,
            instruction="x",
            strategy="beam",
            num_beams=2,
            num_return_sequences=3,
            api_name="/generate",
        )
    with pytest.raises(AppError, match="instruction or an input"):
        client.predict(model=job, api_name="/generate")
    with pytest.raises(AppError, match="Unknown model"):
        client.predict(model="nope", instruction="x", api_name="/generate")
