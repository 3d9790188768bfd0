"""What /v1 answers: OpenAI's completion objects, the server-sent event stream, and the
error a failure becomes. Generation holds one of the shared generation slots while it runs."""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Iterator

from studio.api.request import APIError, options_error
from studio.errors import NotFoundError, StudioError
from studio.generate.decoding import PromptTooLongError
from studio.generate.options import GenerationOptions, OptionsError
from studio.generate.prompting import PromptInput
from studio.generate.slots import GenerationBusyError

log = logging.getLogger(__name__)


def translate_error(exc: Exception, prompt_param: str) -> APIError:
    """The OpenAI error a failure becomes (a 500 for anything unexpected, logged)."""
    if isinstance(exc, APIError):
        return exc
    if isinstance(exc, NotFoundError):
        return APIError(404, str(exc), "model", code="model_not_found")
    if isinstance(exc, OptionsError):
        return options_error(exc)
    if isinstance(exc, GenerationBusyError):
        return APIError(429, str(exc), None, code="rate_limit_exceeded")
    if isinstance(exc, PromptTooLongError):
        return APIError(400, str(exc), prompt_param, code="context_length_exceeded")
    if isinstance(exc, StudioError):
        return APIError(400, str(exc), None)
    log.exception("OpenAI API request failed")
    return APIError(
        500, f"Internal error ({type(exc).__name__}); see the server log.", kind="server_error"
    )


def generate_held(slots, user: str, engine, model, prompt, opts):
    """One whole (non-streamed) generation while holding a generation slot."""
    with slots.hold(user):
        return engine.generate(model, prompt, opts)


def held_stream(slots, user: str, chunks: Iterator[str]) -> Iterator[str]:
    """A stream that holds one generation slot while it runs (released on disconnect)."""
    try:
        hold = slots.hold(user)
        hold.__enter__()
    except StudioError as exc:
        yield f"data: {json.dumps(APIError(429, str(exc), code='rate_limit_exceeded').body())}\n\n"
        yield "data: [DONE]\n\n"
        return
    try:
        yield from chunks
    finally:
        hold.__exit__(None, None, None)


def _reasons(result) -> list[str]:
    """One finish_reason per returned sequence ("stop" / "length"), each its own."""
    own = list(result.finish_reasons or [])
    fallback = result.finish_reason or "stop"
    return [own[i] if i < len(own) and own[i] else fallback for i in range(len(result.texts))]


def _usage(result) -> dict:
    return {
        "prompt_tokens": result.prompt_tokens,
        "completion_tokens": result.new_tokens,
        "total_tokens": result.prompt_tokens + result.new_tokens,
    }


def full_response(result, model: str, chat: bool) -> dict:
    """The completion (or chat completion) object of a finished generation."""
    reasons = _reasons(result)
    if chat:
        choices = [
            {
                "index": i,
                "message": {"role": "assistant", "content": t},
                "finish_reason": reasons[i],
            }
            for i, t in enumerate(result.texts)
        ]
    else:
        choices = [
            {"index": i, "text": t, "logprobs": None, "finish_reason": reasons[i]}
            for i, t in enumerate(result.texts)
        ]
    return {
        "id": ("chatcmpl-" if chat else "cmpl-") + uuid.uuid4().hex[:24],
        "object": "chat.completion" if chat else "text_completion",
        "created": int(time.time()),
        "model": model,
        "system_fingerprint": result.engine,  # which engine answered: fast (ONNX Runtime GenAI) / exact
        "choices": choices,
        "usage": _usage(result),
    }


def sse_stream(
    engine,
    model: str,
    prompt: PromptInput,
    opts: GenerationOptions,
    chat: bool,
    include_usage: bool = False,
) -> Iterator[str]:
    """Server-sent events: one chunk per new piece of text, then the finish, then (with
    OpenAI's stream_options.include_usage) a chunk with the token counts and no choices,
    then [DONE]."""
    ident = ("chatcmpl-" if chat else "cmpl-") + uuid.uuid4().hex[:24]
    created = int(time.time())

    engine_label = [""]  # which engine answered (the stats line's words), once it is known

    def envelope(choices: list, **extra) -> str:
        obj = {
            "id": ident,
            "object": "chat.completion.chunk" if chat else "text_completion",
            "created": created,
            "model": model,
            "system_fingerprint": engine_label[0] or None,
            "choices": choices,
            **extra,
        }
        return f"data: {json.dumps(obj)}\n\n"

    def chunk(index: int, delta: str, finish: str | None, first: bool = False) -> str:
        if chat:
            d = {"role": "assistant", "content": delta} if first else {"content": delta}
            choice = {"index": index, "delta": d, "finish_reason": finish}
        else:
            choice = {"index": index, "text": delta, "logprobs": None, "finish_reason": finish}
        return envelope([choice])

    sent = [""] * opts.num_return_sequences
    try:
        for update in engine.generate_stream(model, prompt, opts):
            if update.status == "loading":
                continue
            engine_label[0] = update.engine or engine_label[0]
            texts = update.texts if update.status == "done" else [update.text]
            for i, text in enumerate(texts):
                if len(text) > len(sent[i]) or (update.status == "done" and not sent[i]):
                    yield chunk(i, text[len(sent[i]) :], None, first=not sent[i])
                    sent[i] = text
            if update.status == "done":
                for i, reason in enumerate(_reasons(update)):
                    yield chunk(i, "", reason)
                if include_usage:
                    yield envelope([], usage=_usage(update))
    except Exception as exc:  # the stream has started: report in-band, then end cleanly
        err = translate_error(exc, "messages" if chat else "prompt")
        yield f"data: {json.dumps(err.body())}\n\n"
    yield "data: [DONE]\n\n"
