"""Fuzz: the /v1 request-validation layer turns any body into a checked request or an
APIError with a 4xx status and a message; never another exception, never a server path."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from studio.api.request import (
    APIError,
    known_model,
    options_from_request,
    parse_body,
    prompt_input,
)
from studio.errors import redact_paths
from tests.unit.fuzz import FUZZ, json_texts, json_values

PARAMS = [
    "model",
    "prompt",
    "messages",
    "max_tokens",
    "max_completion_tokens",
    "temperature",
    "top_p",
    "n",
    "stop",
    "seed",
    "top_k",
    "min_p",
    "typical_p",
    "repetition_penalty",
    "no_repeat_ngram_size",
    "min_new_tokens",
    "stream",
]
messages = st.lists(
    st.fixed_dictionaries(
        {},
        optional={
            "role": st.sampled_from(["system", "user", "assistant", "developer", "tool", ""])
            | json_values,
            "content": st.text(max_size=20) | json_values,
        },
    )
    | json_values,
    max_size=3,
)
bodies = st.dictionaries(st.sampled_from(PARAMS), json_values | messages, max_size=8)


def _checked(raw: bytes, chat: bool):
    body = parse_body(raw)
    prompt = prompt_input(body, chat)
    opts = options_from_request(body, 16)
    return prompt, opts


@FUZZ
@given(
    raw=st.one_of(
        bodies.map(lambda b: json.dumps(b).encode()),
        json_texts().map(lambda t: t.encode("utf-8", "surrogatepass")),
        st.binary(max_size=200),
    ),
    chat=st.booleans(),
)
def test_any_body_is_a_checked_request_or_a_4xx(raw, chat):
    try:
        prompt, opts = _checked(raw, chat)
    except APIError as exc:
        assert 400 <= exc.status < 500 and len(exc.message) > 5
        assert "Traceback" not in exc.message and "set_int_max_str_digits" not in exc.message
        return
    assert opts.max_new_tokens >= 1
    if chat:
        assert prompt.messages and all(isinstance(m["content"], str) for m in prompt.messages)
    else:
        assert isinstance(prompt.text, str) and prompt.text


@pytest.mark.parametrize(
    "raw",
    [
        b'{"prompt": "x", "max_tokens": Infinity}',
        b'{"prompt": "x", "temperature": NaN}',
        b'{"prompt": "x", "a": ' + b"[" * 5000 + b"]" * 5000 + b"}",
        b'{"prompt": "x", "seed": ' + b"1" * 5000 + b"}",
        b"\xff\xfe",
        b"[]",
    ],
)
def test_hostile_bodies_are_400(raw):
    with pytest.raises(APIError) as err:
        _checked(raw, chat=False)
    assert err.value.status == 400


def test_errors_never_show_server_paths():
    err = APIError(400, "cannot read /home/someone/studio_home/apps/x/runs/y/adapter: gone")
    assert "/home" not in err.message and "<path>" in err.message
    assert redact_paths("GET /v1/models lists them") == "GET /v1/models lists them"


def test_unknown_models_and_folders_are_refused(store, settings, tmp_path):
    assert known_model("base:smollm2-135m-lora", store, settings)
    for ref in (f"base:{tmp_path}", "base:/etc", "job:nope", "base:someone/model"):
        with pytest.raises(APIError) as err:
            known_model(ref, store, settings)
        assert err.value.status == 404 and str(tmp_path) not in err.value.message
