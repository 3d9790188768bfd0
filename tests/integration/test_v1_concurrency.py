"""Parallel /v1 requests from one key wait their turn (they share a batch), up to the
per-user queue bound; past it a request gets 429 with a Retry-After header, as documented."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from studio.settings import Settings
from studio.users import add_user
from tests.helpers import serve
from tests.unit.generate.tuned import add_succeeded_job, build_run_dir


def _server(tmp_path_factory, models_cache, tiny_causal_dir, **limits):
    import app
    from studio.store import Store

    home = tmp_path_factory.mktemp("v1-concurrency")
    users = home / "users.txt"
    add_user(users, "ann", "ann-password")
    settings = Settings.from_env(
        home=home / "home",
        models_root=models_cache,
        port=0,
        sign_in="users",
        users_file=users,
        **limits,
    )
    settings.ensure_dirs()
    store = Store(settings.db_path, files_root=settings.apps_dir)
    _, job_id = add_succeeded_job(store, build_run_dir(home / "run", tiny_causal_dir))
    with store.transaction() as conn:
        conn.execute("UPDATE apps SET owner = 'ann'")
    fastapi_app, _, ctx = app.create_server(settings, start_runner=False)
    key = ctx.store.create_api_key("ann", "ci")[1]
    return fastapi_app, key, f"job:{job_id}"


def _burst(url: str, key: str, model: str, n: int) -> list[httpx.Response]:
    body = {"model": model, "prompt": "Hello", "max_tokens": 4, "temperature": 0}
    headers = {"Authorization": f"Bearer {key}"}

    def one(_):
        return httpx.post(url + "/v1/completions", json=body, headers=headers, timeout=300)

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(one, range(n)))


@pytest.fixture(scope="module")
def defaults(tmp_path_factory, models_cache, tiny_causal_dir):
    fastapi_app, key, model = _server(tmp_path_factory, models_cache, tiny_causal_dir)
    with serve(fastapi_app) as url:
        yield url, key, model


def test_twenty_parallel_requests_from_one_key_all_complete_with_the_defaults(defaults):
    url, key, model = defaults
    replies = _burst(url, key, model, 20)
    assert [r.status_code for r in replies] == [200] * 20, [r.text[:200] for r in replies]
    texts = {r.json()["choices"][0]["text"] for r in replies}
    assert len(texts) == 1  # the same greedy answer, batched or not


def test_past_the_per_user_queue_a_request_gets_429_with_retry_after(
    tmp_path_factory, models_cache, tiny_causal_dir
):
    fastapi_app, key, model = _server(
        tmp_path_factory, models_cache, tiny_causal_dir, api_queue_per_user=3
    )
    with serve(fastapi_app) as url:
        replies = _burst(url, key, model, 12)
    codes = [r.status_code for r in replies]
    assert set(codes) <= {200, 429} and codes.count(200) >= 3, codes
    refused = [r for r in replies if r.status_code == 429]
    assert refused, codes
    for r in refused:
        assert int(r.headers["retry-after"]) >= 1
        assert "STUDIO_API_QUEUE_PER_USER" in r.json()["error"]["message"]
