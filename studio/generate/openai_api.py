"""An OpenAI-compatible HTTP API on the studio's own server: existing OpenAI clients can
talk to a tuned model.

    POST /v1/completions        {"model": "job:<id>", "prompt": "...", "max_tokens": 32}
    POST /v1/chat/completions   {"model": "base:smollm2-135m-lora", "messages": [...]}
    (only models GET /v1/models lists may be named; see studio.generate.api_request)
    GET  /v1/models             succeeded train jobs ("job:<id>") and base models ("base:<key>")

Both POSTs stream with "stream": true (server-sent events, `data: {...}` ... `data: [DONE]`).
OpenAI parameters map onto GenerationOptions (temperature 0 = greedy; n; stop; seed; top_p;
max_tokens); the studio extensions top_k, min_p, typical_p, repetition_penalty are accepted;
other unknown fields are ignored. A bad request gets a 4xx JSON error
{"error": {"message", "type", "param", "code"}} and the server carries on. Generation is
blocking work and runs in worker threads so the event loop stays free.
"""

from __future__ import annotations

import json
import logging
import math
import time
import uuid
from collections.abc import Iterator
from typing import Any

from fastapi import Request  # at module level: FastAPI resolves the handlers' annotations here

from studio.errors import NotFoundError, StudioError
from studio.generate.api_request import (
    APIError,
    known_model,
    model_name,
    parse_body,
    prompt_input,
)
from studio.generate.options import PRECISIONS, GenerationOptions, OptionsError
from studio.generate.prompting import PromptInput

log = logging.getLogger(__name__)

# GenerationOptions field -> the OpenAI parameter a client sent.
_PARAM = {"max_new_tokens": "max_tokens", "num_return_sequences": "n", "stop": "stop"}
_EXTENSIONS = ("top_k", "min_p", "typical_p", "repetition_penalty", "no_repeat_ngram_size",
               "min_new_tokens")  # fmt: skip


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
    param = "max_completion_tokens" if body.get("max_completion_tokens") is not None else (
        "max_tokens")  # fmt: skip
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
    for name in _EXTENSIONS:
        value = _num(body, name, int if name in ("top_k", "no_repeat_ngram_size",
                                                 "min_new_tokens") else float)  # fmt: skip
        if value is not None:
            setattr(opts, name, value)
    precision = body.get("precision")  # extension: "fast" (int8 on a CPU) or "exact" (default)
    if precision is not None:
        if precision not in PRECISIONS:
            raise APIError(400, f'precision must be "fast" or "exact"; got {precision!r}.',
                           "precision")  # fmt: skip
        opts.precision = precision
    try:
        return opts.validate()
    except OptionsError as exc:
        field = exc.fields[0] if exc.fields else None
        raise APIError(400, str(exc), _PARAM.get(field, field)) from exc


def _translate(exc: Exception, prompt_param: str) -> APIError:
    from studio.generate.engine import PromptTooLongError
    from studio.generate.slots import GenerationBusyError

    if isinstance(exc, APIError):
        return exc
    if isinstance(exc, NotFoundError):
        return APIError(404, str(exc), "model", code="model_not_found")
    if isinstance(exc, OptionsError):
        field = exc.fields[0] if exc.fields else None
        return APIError(400, str(exc), _PARAM.get(field, field))
    if isinstance(exc, GenerationBusyError):
        return APIError(429, str(exc), None, code="rate_limit_exceeded")
    if isinstance(exc, PromptTooLongError):
        return APIError(400, str(exc), prompt_param, code="context_length_exceeded")
    if isinstance(exc, StudioError):
        return APIError(400, str(exc), None)
    log.exception("OpenAI API request failed")
    return APIError(500, f"Internal error ({type(exc).__name__}); see the server log.",
                    kind="server_error")  # fmt: skip


def build_openai_router(ctx):
    """The /v1 routes, bound to the studio's store and settings (ctx: UIContext)."""
    from fastapi import APIRouter
    from fastapi.responses import JSONResponse, StreamingResponse
    from starlette.concurrency import iterate_in_threadpool, run_in_threadpool

    from studio.generate.engine import get_engine
    from studio.generate.refs import ensure_reachable, list_models
    from studio.signin import bearer_key

    router = APIRouter(prefix="/v1", tags=["OpenAI-compatible"])
    settings = ctx.settings

    def engine():
        return get_engine(ctx.settings, ctx.store)

    def caller(request: Request) -> tuple[str, str | None, bool]:
        """(user, owner scope, may use server folders) of a request; APIError 401 without a
        valid key while sign-in is on. With sign-in off every model is reachable, as before."""
        if not settings.signed_in:
            return settings.owner, None, True
        key = bearer_key(request)
        user = ctx.store.user_for_key(key) if key else None
        if user is None:
            raise APIError(401, "A valid API key is required: send 'Authorization: Bearer "
                           "<key>' (create one in the Settings panel of the page).",
                           kind="invalid_request_error", code="invalid_api_key")  # fmt: skip
        admin = user in settings.admins
        return user, (None if admin else user), admin

    @router.get("/models")
    async def models(request: Request):
        try:
            _, scope, _ = await run_in_threadpool(caller, request)
        except APIError as err:
            return JSONResponse(err.body(), status_code=err.status)
        rows = await run_in_threadpool(list_models, ctx.store, ctx.settings, None, scope)
        return {"object": "list", "data": [
            {"id": r["id"], "object": "model", "created": r["created"],
             "owned_by": "textgen-studio", "name": r["name"], "kind": r["kind"]} for r in rows
        ]}  # fmt: skip

    async def handle(request: Request, chat: bool):
        param = "messages" if chat else "prompt"
        try:
            # Who is asking first: without a valid key (sign-in on) nothing else is read.
            who, scope, allow_folders = await run_in_threadpool(caller, request)
            # The request-validation layer: body, prompt, options and model name are all
            # checked before any model is touched (studio.generate.api_request).
            body = parse_body(await request.body())
            model = model_name(body)
            prompt = prompt_input(body, chat)
            await run_in_threadpool(ensure_reachable, model, ctx.store, scope, allow_folders)
            opts = options_from_request(body, default_max=256 if chat else 16)
            await run_in_threadpool(known_model, model, ctx.store, ctx.settings)
            # Load the model and check the prompt against the context before answering, so
            # errors are a clean 4xx rather than a broken stream.
            await run_in_threadpool(engine().check, model, prompt, opts)
            if body.get("stream"):
                chunks = _held(ctx.slots, who, _sse(engine(), model, prompt, opts, chat))
                return StreamingResponse(iterate_in_threadpool(chunks),
                                         media_type="text/event-stream")  # fmt: skip
            result = await run_in_threadpool(_generate_held, ctx.slots, who, engine(), model,
                                             prompt, opts)  # fmt: skip
            return _full_response(result, model, chat)
        except Exception as exc:
            err = _translate(exc, param)
            return JSONResponse(err.body(), status_code=err.status)

    @router.post("/completions")
    async def completions(request: Request):
        return await handle(request, chat=False)

    @router.post("/chat/completions")
    async def chat_completions(request: Request):
        return await handle(request, chat=True)

    return router


def _generate_held(slots, user: str, engine, model, prompt, opts):
    with slots.hold(user):
        return engine.generate(model, prompt, opts)


def _held(slots, user: str, chunks: Iterator[str]) -> Iterator[str]:
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


def _full_response(result, model: str, chat: bool) -> dict:
    reasons = _reasons(result)
    if chat:
        choices = [{"index": i, "message": {"role": "assistant", "content": t},
                    "finish_reason": reasons[i]} for i, t in enumerate(result.texts)]  # fmt: skip
    else:
        choices = [{"index": i, "text": t, "logprobs": None, "finish_reason": reasons[i]}
                   for i, t in enumerate(result.texts)]  # fmt: skip
    return {
        "id": ("chatcmpl-" if chat else "cmpl-") + uuid.uuid4().hex[:24],
        "object": "chat.completion" if chat else "text_completion",
        "created": int(time.time()),
        "model": model,
        "system_fingerprint": result.engine,  # which weights answered: fast (int8) / exact
        "choices": choices,
        "usage": {
            "prompt_tokens": result.prompt_tokens,
            "completion_tokens": result.new_tokens,
            "total_tokens": result.prompt_tokens + result.new_tokens,
        },  # fmt: skip
    }


def _sse(engine, model: str, prompt: PromptInput, opts: GenerationOptions,
         chat: bool) -> Iterator[str]:  # fmt: skip
    """Server-sent events: one chunk per new piece of text, then the finish, then [DONE]."""
    ident = ("chatcmpl-" if chat else "cmpl-") + uuid.uuid4().hex[:24]
    created = int(time.time())

    def chunk(index: int, delta: str, finish: str | None, first: bool = False) -> str:
        if chat:
            d = {"role": "assistant", "content": delta} if first else {"content": delta}
            choice = {"index": index, "delta": d, "finish_reason": finish}
        else:
            choice = {"index": index, "text": delta, "logprobs": None, "finish_reason": finish}
        obj = {"id": ident, "object": "chat.completion.chunk" if chat else "text_completion",
               "created": created, "model": model, "choices": [choice]}  # fmt: skip
        return f"data: {json.dumps(obj)}\n\n"

    sent = [""] * opts.num_return_sequences
    try:
        for update in engine.generate_stream(model, prompt, opts):
            if update.status == "loading":
                continue
            texts = update.texts if update.status == "done" else [update.text]
            for i, text in enumerate(texts):
                if len(text) > len(sent[i]) or (update.status == "done" and not sent[i]):
                    yield chunk(i, text[len(sent[i]) :], None, first=not sent[i])
                    sent[i] = text
            if update.status == "done":
                for i, reason in enumerate(_reasons(update)):
                    yield chunk(i, "", reason)
    except Exception as exc:  # the stream has started: report in-band, then end cleanly
        err = _translate(exc, "messages" if chat else "prompt")
        yield f"data: {json.dumps(err.body())}\n\n"
    yield "data: [DONE]\n\n"
