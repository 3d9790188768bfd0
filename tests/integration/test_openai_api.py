"""The OpenAI python client talks to a tuned model on the studio's own server."""

from __future__ import annotations

import httpx
import pytest

from tests.helpers import serve
from tests.unit.generate.tuned import add_succeeded_job, build_run_dir


@pytest.fixture(scope="module")
def server(tmp_path_factory, tiny_causal_dir, models_cache):
    import app
    from studio.settings import Settings
    from studio.store import Store

    home = tmp_path_factory.mktemp("openai-home")
    settings = Settings.from_env(home=home, models_root=models_cache, port=0)
    settings.ensure_dirs()
    run_dir = build_run_dir(home / "run", tiny_causal_dir)
    _, job_id = add_succeeded_job(Store(settings.db_path, files_root=settings.apps_dir), run_dir)
    fastapi_app, _, _ = app.create_server(settings, start_runner=False)
    with serve(fastapi_app) as url:
        yield url, f"job:{job_id}", f"base:{tiny_causal_dir}"


@pytest.fixture
def client(server):
    from openai import OpenAI

    return OpenAI(base_url=server[0] + "/v1", api_key="x", max_retries=0, timeout=60)


def test_models_lists_the_trained_job(server, client):
    ids = {m.id for m in client.models.list().data}
    assert server[1] in ids
    assert any(i.startswith("base:") for i in ids)


def test_completion_streaming_and_not(server, client):
    url, job, _ = server
    out = client.completions.create(model=job, prompt="Hello there", max_tokens=5, temperature=0)
    assert out.choices[0].text and out.usage.completion_tokens <= 5
    pieces = list(
        client.completions.create(
            model=job, prompt="Hello there", max_tokens=8, temperature=0, stream=True
        )
    )
    streamed = "".join(p.choices[0].text for p in pieces)
    assert len(pieces) >= 3 and pieces[-1].choices[0].finish_reason in ("stop", "length")
    # Every chunk says which engine answered, as the whole answer does.
    assert {p.system_fingerprint for p in pieces} == {out.system_fingerprint} != {None}
    again = client.completions.create(model=job, prompt="Hello there", max_tokens=8, temperature=0)
    assert streamed == again.choices[0].text
    many = client.completions.create(model=job, prompt="Hi", max_tokens=4, n=3, seed=1)
    assert len(many.choices) == 3


def test_chat_completion_streaming_and_not(server, client):
    _, job, base = server
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi!"}]
    out = client.chat.completions.create(model=job, messages=messages, max_tokens=6, seed=3)
    assert out.choices[0].message.role == "assistant" and out.choices[0].message.content
    stream = client.chat.completions.create(
        model=base, messages=messages, max_tokens=6, temperature=0, stream=True
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert text and chunks[0].choices[0].delta.role == "assistant"
    counted = list(
        client.chat.completions.create(
            model=base,
            messages=messages,
            max_tokens=6,
            temperature=0,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    last = counted[-1]  # OpenAI's usage chunk: no choices, the token counts
    assert last.choices == [] and 0 < last.usage.completion_tokens <= 6
    assert last.usage.total_tokens == last.usage.prompt_tokens + last.usage.completion_tokens
    assert all(c.usage is None for c in counted[:-1]) and all(c.usage is None for c in chunks)
    tuned = client.chat.completions.create(
        model=job, messages=messages, max_tokens=6, temperature=0
    )
    assert tuned.choices[0].message.content != text  # the adapter is really applied


@pytest.mark.parametrize(
    "path,body,status,param",
    [
        ("/v1/completions", {"model": "job:nope", "prompt": "x"}, 404, "model"),
        ("/v1/completions", {"model": "JOB", "prompt": "x", "max_tokens": -5}, 400, "max_tokens"),
        ("/v1/completions", {"model": "JOB", "prompt": "x", "temperature": 3}, 400, "temperature"),
        ("/v1/completions", {"model": "JOB", "prompt": "word " * 600}, 400, "prompt"),
        (
            "/v1/completions",
            {"model": "JOB", "prompt": "x", "max_tokens": 10**6},
            400,
            "max_tokens",
        ),
        ("/v1/chat/completions", {"model": "JOB", "messages": []}, 400, "messages"),
        ("/v1/completions", {"model": "JOB", "prompt": "x", "n": 2, "temperature": 0}, 400, "n"),
        (
            "/v1/completions",
            {"model": "JOB", "prompt": "x", "stream": True, "stream_options": [1]},
            400,
            "stream_options",
        ),
    ],
)
def test_bad_requests_get_clear_4xx_and_server_survives(server, path, body, status, param):
    url, job, _ = server
    body = {k: (job if v == "JOB" else v) for k, v in body.items()}
    r = httpx.post(url + path, json=body, timeout=60)
    assert r.status_code == status, r.text
    error = r.json()["error"]
    assert error["param"] == param and len(error["message"]) > 10
    assert "max_new_tokens" not in error["message"]  # the API's names, not the studio's
    ok = httpx.post(
        url + "/v1/completions", json={"model": job, "prompt": "Hi", "max_tokens": 2}, timeout=60
    )
    assert ok.status_code == 200


def test_openai_client_raises_on_bad_model(client):
    import openai

    with pytest.raises(openai.NotFoundError, match="Unknown model"):
        client.completions.create(model="gpt-4", prompt="x")


def test_invalid_json_is_400(server):
    r = httpx.post(
        server[0] + "/v1/completions",
        content=b"{not json",
        timeout=30,
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 400 and "JSON" in r.json()["error"]["message"]


@pytest.mark.parametrize(
    "raw",
    [
        b'{"model": "JOB", "prompt": "x", "a": ' + b"[" * 5000 + b"]" * 5000 + b"}",
        b'{"model": "JOB", "prompt": "x", "max_tokens": Infinity}',
        b'{"model": "JOB", "prompt": "x", "temperature": NaN}',
        b'{"model": "JOB", "prompt": "x", "seed": ' + b"9" * 5000 + b"}",
        b'{"model": "JOB", "prompt": "\\ud800"}',
        b'{"model": "JOB", "messages": [{"role": {"x": 1}, "content": "hi"}]}',
        b"\xff\xfe\x00",
    ],
)
def test_hostile_bodies_are_400_with_a_message_never_500(server, raw):
    url, job, _ = server
    path = "/v1/chat/completions" if b"messages" in raw else "/v1/completions"
    r = httpx.post(
        url + path,
        content=raw.replace(b"JOB", job.encode()),
        timeout=60,
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 400, r.text
    message = r.json()["error"]["message"]
    assert len(message) > 10 and "set_int_max_str_digits" not in message


def test_only_models_the_studio_knows_can_be_named(server, tmp_path):
    url, job, base = server
    for ref in (f"base:{tmp_path}", "base:/etc", "base:gpt2", "job:../../etc"):
        r = httpx.post(url + "/v1/completions", json={"model": ref, "prompt": "x"}, timeout=60)
        assert r.status_code == 404, r.text
        assert str(tmp_path) not in r.text and "/etc" not in r.json()["error"]["message"]
    # The base a studio model was tuned from stays nameable (to compare with it).
    r = httpx.post(
        url + "/v1/completions", json={"model": base, "prompt": "Hi", "max_tokens": 2}, timeout=60
    )
    assert r.status_code == 200, r.text


@pytest.fixture(scope="module")
def hostile_model(tmp_path_factory, tiny_causal_dir, models_cache):
    """(url, model) of a studio whose only tuned model's chat template computes
    'x' * 400000000 (it took the server from 2.9 to 4.5 GB)."""
    import json
    import shutil

    import app
    from studio.settings import Settings
    from studio.store import Store

    home = tmp_path_factory.mktemp("hostile-home")
    settings = Settings.from_env(home=home, models_root=models_cache, port=0)
    settings.ensure_dirs()
    run_dir = home / "run"
    shutil.copytree(build_run_dir(home / "built", tiny_causal_dir), run_dir)
    config = run_dir / "adapter" / "tokenizer_config.json"
    data = json.loads(config.read_text())
    data["chat_template"] = "{{ 'x' * 400000000 }}"
    config.write_text(json.dumps(data))
    (run_dir / "adapter" / "chat_template.jinja").unlink(missing_ok=True)
    _, job_id = add_succeeded_job(Store(settings.db_path, files_root=settings.apps_dir), run_dir)
    fastapi_app, _, _ = app.create_server(settings, start_runner=False)
    with serve(fastapi_app) as url:
        yield url, f"job:{job_id}"


def test_a_hostile_chat_template_is_refused_and_the_server_keeps_its_memory(hostile_model):
    """The request is a 400 naming the bound; the server's own memory does not take the
    allocation (the template runs in a bounded worker); the model still answers prompts
    that do not use its template."""
    import resource

    url, model = hostile_model
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    body = {"model": model, "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 2}
    r = httpx.post(url + "/v1/chat/completions", json=body, timeout=120)
    assert r.status_code == 400 and "chat template" in r.json()["error"]["message"], r.text
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 100, grown_mb
    body = {"model": model, "prompt": "Hi", "max_tokens": 2}
    assert httpx.post(url + "/v1/completions", json=body, timeout=120).status_code == 200


def test_a_body_declared_over_the_limit_is_refused_before_it_is_sent(server):
    """A client announcing 200 MB gets 413 at once, without sending (or the server reading)
    a byte of the body."""
    import socket
    from urllib.parse import urlparse

    url = urlparse(server[0])
    with socket.create_connection((url.hostname, url.port), timeout=30) as sock:
        sock.sendall(
            b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 209715200\r\n\r\n"
        )
        head = sock.recv(4096).decode("latin-1")
    assert head.startswith("HTTP/1.1 413"), head[:200]
