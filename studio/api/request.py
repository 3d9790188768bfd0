"""The /v1 request-validation layer: a client's body is checked here, before any model is
touched, so a bad request is a 400 with a message and never a 500.

    body = parse_body(await request.body())          # APIError(400) for anything but a JSON object
    prompt = prompt_input(body, chat=True)            # PromptInput, or APIError naming the param
    opts = options_from_request(body, default_max=16)  # GenerationOptions, or APIError
    known_model(body["model"], store, settings)       # only models the studio lists

Bodies are parsed with studio.jsonsafe (bounded nesting; Infinity / NaN / 5,000-digit numbers
refused in words). Model names are only those GET /v1/models could list: "job:<id>" of a
succeeded train or import job, "base:<template key>" (or the packaged model, or the base one
of the studio's trained / imported models was made from); a folder or a Hub id the studio
does not know is refused, so a client cannot make the server load an
arbitrary folder. Messages that reach a client never hold server paths (`redact_paths`).
"""

from __future__ import annotations

import math
import re
from typing import Any

from studio import jsonsafe
from studio.errors import redact_paths
from studio.generate.options import OPTION_TABLE, GenerationOptions, OptionsError
from studio.generate.prompting import PromptInput
from studio.generate.refs import (
    BASE_PREFIX,
    JOB_PREFIX,
    known_base_refs,
    list_models,
    trained_bases,
)
from studio.generate.strategies import STRATEGIES

MAX_BODY_BYTES = 8 * 1024 * 1024  # a prompt is text; 8 MB is far past any context length
# GenerationOptions field -> the OpenAI parameter a client sent.
PARAM_OF = {"max_new_tokens": "max_tokens", "num_return_sequences": "n", "stop": "stop"}
# The studio's extension parameters: every option the option table exposes to /v1 (top_k,
# min_p, repetition_penalty, num_beams, precision, ...), besides OpenAI's own.
_EXTENSIONS = {name: f for name, f in OPTION_TABLE.items() if f.api}
_ROLES = {"system": "system", "developer": "system", "user": "user", "assistant": "assistant"}


class APIError(Exception):
    """An HTTP error with OpenAI's error body."""

    def __init__(
        self,
        status: int,
        message: str,
        param: str | None = None,
        kind: str = "invalid_request_error",
        code: str | None = None,
    ):
        super().__init__(message)
        self.status, self.message, self.param, self.kind, self.code = (
            status,
            redact_paths(message),
            param,
            kind,
            code,
        )

    def body(self) -> dict:
        return {
            "error": {
                "message": self.message,
                "type": self.kind,
                "param": self.param,
                "code": self.code,
            }
        }


def parse_body(raw: bytes) -> dict[str, Any]:
    """The request body as a dict; APIError(400) for size, encoding, syntax, depth, numbers."""
    if len(raw) > MAX_BODY_BYTES:
        raise APIError(413, f"The request body is over {MAX_BODY_BYTES // 2**20} MB.")
    try:
        body = jsonsafe.loads(raw)
    except ValueError as exc:
        raise APIError(400, f"The request body must be JSON: {exc}.") from None
    if not isinstance(body, dict):
        raise APIError(400, "The request body must be a JSON object.")
    return body


def _text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, list):  # content parts: keep the text ones
        parts = [
            p.get("text") for p in value if isinstance(p, dict) and p.get("type", "text") == "text"
        ]
        if all(isinstance(p, str) for p in parts):
            return "".join(parts)
    return None


def chat_messages(body: dict) -> list[dict[str, str]]:
    """messages as [{role, content}] with known roles and text content, or APIError(400)."""
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise APIError(400, "messages must be a non-empty list of {role, content}.", "messages")
    out = []
    for i, m in enumerate(messages):
        role = m.get("role") if isinstance(m, dict) else None
        content = _text(m.get("content")) if isinstance(m, dict) else None
        if not isinstance(role, str) or role not in _ROLES:
            raise APIError(
                400, f"messages[{i}].role must be one of system, user, assistant.", "messages"
            )
        if content is None:
            raise APIError(
                400, f"messages[{i}].content must be text (or a list of text parts).", "messages"
            )
        out.append({"role": _ROLES[role], "content": content})
    return out


def prompt_input(body: dict, chat: bool) -> PromptInput:
    """The prompt of a chat or text completion request, checked."""
    if chat:
        return PromptInput(mode="chat", messages=chat_messages(body))
    text = body.get("prompt")
    if isinstance(text, list) and len(text) == 1 and isinstance(text[0], str):
        text = text[0]
    if not isinstance(text, str) or not text:
        raise APIError(400, "prompt must be one non-empty string.", "prompt")
    return PromptInput(mode="text", text=text)


def model_name(body: dict) -> str:
    """The model field, present and a short string."""
    model = body.get("model")
    if not isinstance(model, str) or not model.strip() or len(model) > 300:
        raise APIError(400, "model is required (GET /v1/models lists them).", "model")
    return model.strip()


def known_model(ref: str, store, settings) -> str:
    """`ref` when it names a model GET /v1/models lists; APIError(404) otherwise."""
    known = {m["id"] for m in list_models(store, settings, None)}
    if ref in known:
        return ref
    inner = ref[len(BASE_PREFIX) :] if ref.startswith(BASE_PREFIX) else None
    if inner is not None and (inner in known_base_refs(settings) or inner in trained_bases(store)):
        return ref  # a template's base, or the base one of the studio's models was tuned from
    what = "trained model" if ref.startswith(JOB_PREFIX) else "model"
    # A refused folder is not echoed: the answer says nothing about the server's files.
    shown = f" {ref[:80]!r}" if not re.search(r"[/\\~]|\.\.", ref) else ""
    raise APIError(
        404,
        f"Unknown {what}{shown}: name one that GET /v1/models lists (a "
        "template's base, or a trained or imported model).",
        "model",
        code="model_not_found",
    )


def _num(body: dict, name: str, kind=float) -> Any:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise APIError(400, f"{name} must be a finite number; got {str(value)[:40]}.", name)
    if kind is int and float(value) != int(value):
        raise APIError(400, f"{name} must be a whole number; got {value!r}.", name)
    return kind(value)


def options_from_request(body: dict, default_max: int) -> GenerationOptions:
    """OpenAI parameters -> GenerationOptions (validated; errors name the OpenAI param)."""
    opts = GenerationOptions(max_new_tokens=default_max)
    # max_completion_tokens (the newer name) wins; 0 is a value to refuse, not "absent".
    param = (
        "max_completion_tokens" if body.get("max_completion_tokens") is not None else ("max_tokens")
    )
    max_tokens = _num(body, param, int)
    if max_tokens is not None:
        if max_tokens < 1:
            raise APIError(400, f"{param} must be at least 1; got {max_tokens}.", param)
        opts.max_new_tokens = max_tokens
    temperature = _num(body, "temperature")
    if temperature is not None and not 0 <= temperature <= 2:
        raise APIError(400, f"temperature must be from 0 to 2; got {temperature}.", "temperature")
    n = _num(body, "n", int)
    n = 1 if n is None else n  # n: 0 reaches validate() and gets its 400
    top_p = _num(body, "top_p")
    # OpenAI's default temperature is 1 (sampling); 0 asks for the deterministic answer.
    if temperature == 0:
        opts.strategy = "greedy"
    else:
        opts.strategy, opts.temperature = "sample", temperature if temperature else 1.0
        opts.top_k = 0
        if top_p is not None:
            opts.top_p = top_p
    opts.num_return_sequences = n
    stop = body.get("stop")
    if stop is not None:
        stops = [stop] if isinstance(stop, str) else stop
        if not isinstance(stops, list) or not all(isinstance(s, str) for s in stops):
            raise APIError(400, "stop must be a string or a list of strings.", "stop")
        opts.stop = [s for s in stops if s]
    seed = _num(body, "seed", int)
    opts.seed = seed
    # An extension: any strategy of the table by name (its own options come below).
    strategy = body.get("strategy")
    if strategy is not None:
        if strategy not in STRATEGIES:
            names = ", ".join(STRATEGIES)
            raise APIError(
                400, f"strategy must be one of {names}; got {str(strategy)[:40]!r}.", "strategy"
            )
        opts.strategy = strategy
    for name, f in _EXTENSIONS.items():
        if body.get(name) is None:
            continue
        if f.kind in (int, float):
            setattr(opts, name, _num(body, name, f.kind))
        else:  # choices (precision, assistant) and flags: validate() names a wrong value
            setattr(opts, name, body[name])
    try:
        return opts.validate()
    except OptionsError as exc:
        raise options_error(exc) from exc


def options_error(exc: OptionsError) -> APIError:
    """The 400 of invalid options, in the API's words: its parameter names (max_tokens, n),
    not the studio's, in the message and in `param`."""
    lines = [
        f"{PARAM_OF.get(name, name)}: {problem}"
        for name, problem in (str(p).split(": ", 1) for p in exc.problems)
    ]
    field = exc.fields[0] if exc.fields else None
    message = lines[0] if len(lines) == 1 else "Invalid parameters: " + "; ".join(lines)
    return APIError(400, message, PARAM_OF.get(field, field))
