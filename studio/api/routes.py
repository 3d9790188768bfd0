"""The /v1 routes: who is asking (API key while sign-in is on), then the request-validation
layer (studio.api.request), then the generation engine behind the shared generation slots.

    router = build_openai_router(settings, store, engine=get_engine(settings, store),
                                 slots=GenerationSlots(...))   # the page's slots, shared
    fastapi_app.include_router(router)
"""

from __future__ import annotations

from fastapi import APIRouter, Request  # FastAPI resolves the handlers' annotations here
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool

from studio.api.admission import Admission
from studio.api.body import read_body
from studio.api.request import (
    APIError,
    known_model,
    model_name,
    options_from_request,
    parse_body,
    prompt_input,
)
from studio.api.responses import (
    full_response,
    generate_held,
    held_stream,
    sse_stream,
    translate_error,
)
from studio.generate.engine import Engine, get_engine
from studio.generate.refs import ensure_reachable, list_models
from studio.generate.slots import GenerationSlots
from studio.settings import Settings
from studio.signin import bearer_key, key_user
from studio.store import Store


def caller(request: Request, settings: Settings, store: Store) -> tuple[str, str | None, bool]:
    """(user, owner scope, may use server folders) of a request; APIError 401 without a
    valid key while sign-in is on. With sign-in off every model is reachable, as before."""
    if not settings.signed_in:
        return settings.owner, None, True
    user = key_user(bearer_key(request), store, settings)
    if user is None:
        raise APIError(
            401,
            "A valid API key is required: send 'Authorization: Bearer "
            "<key>' (create one in the Settings panel of the page).",
            kind="invalid_request_error",
            code="invalid_api_key",
        )
    admin = user in settings.admins
    return user, (None if admin else user), admin


def build_openai_router(
    settings: Settings,
    store: Store,
    engine: Engine | None = None,
    slots: GenerationSlots | None = None,
) -> APIRouter:
    """The /v1 routes over the studio's settings, store and generation engine (the process
    one for this studio home when not given). Pass the page's `slots` so page and API share
    one bound on concurrent generations."""
    router = APIRouter(prefix="/v1", tags=["OpenAI-compatible"])
    if slots is None:
        slots = GenerationSlots(settings.generate_workers, settings.signed_in)
    admission = Admission(slots, settings.api_queue_per_user)

    def the_engine() -> Engine:
        return engine if engine is not None else get_engine(settings, store)

    @router.get("/models")
    async def models(request: Request):
        try:
            _, scope, _ = await run_in_threadpool(caller, request, settings, store)
        except APIError as err:
            return JSONResponse(err.body(), status_code=err.status)
        rows = await run_in_threadpool(list_models, store, settings, None, scope)
        return {
            "object": "list",
            "data": [
                {
                    "id": r["id"],
                    "object": "model",
                    "created": r["created"],
                    "owned_by": "textgen-studio",
                    "name": r["name"],
                    "kind": r["kind"],
                }
                for r in rows
            ],
        }

    async def handle(request: Request, chat: bool):
        param = "messages" if chat else "prompt"
        who, ticket = "", None
        try:
            # Who is asking first: without a valid key (sign-in on) nothing else is read.
            who, scope, allow_folders = await run_in_threadpool(caller, request, settings, store)
            # The request-validation layer: body, prompt, options and model name are all
            # checked before any model is touched (studio.api.request).
            body = parse_body(await read_body(request))  # never more than the limit
            model = model_name(body)
            prompt = prompt_input(body, chat)
            await run_in_threadpool(ensure_reachable, model, store, scope, allow_folders)
            opts = options_from_request(body, default_max=256 if chat else 16)
            await run_in_threadpool(known_model, model, store, settings)
            # The user's turn: extra requests wait here (429 past the per-user queue).
            ticket = await admission.enter(who)
            # Load the model and check the prompt against the context before answering, so
            # errors are a clean 4xx rather than a broken stream.
            await run_in_threadpool(the_engine().check, model, prompt, opts)
            if body.get("stream"):
                stream_options = body.get("stream_options") or {}
                if not isinstance(stream_options, dict):
                    raise APIError(
                        400,
                        'stream_options must be an object, e.g. {"include_usage": true}.',
                        "stream_options",
                    )
                usage = bool(stream_options.get("include_usage"))
                chunks = held_stream(
                    slots, who, sse_stream(the_engine(), model, prompt, opts, chat, usage)
                )
                streamed, ticket = _released(iterate_in_threadpool(chunks), who, ticket), None
                return StreamingResponse(streamed, media_type="text/event-stream")
            result = await run_in_threadpool(
                generate_held, slots, who, the_engine(), model, prompt, opts
            )
            return full_response(result, model, chat)
        except Exception as exc:
            err = translate_error(exc, param)
            headers = None
            if err.status == 429:
                wait = getattr(err, "retry_after", None) or admission.retry_after_s(who)
                headers = {"Retry-After": str(wait)}
            return JSONResponse(err.body(), status_code=err.status, headers=headers)
        finally:
            if ticket is not None:
                admission.leave(who, ticket)

    async def _released(chunks, who: str, ticket: float):
        """The stream's chunks; the user's turn is given back when it ends or is dropped."""
        try:
            async for chunk in chunks:
                yield chunk
        finally:
            admission.leave(who, ticket)

    @router.post("/completions")
    async def completions(request: Request):
        return await handle(request, chat=False)

    @router.post("/chat/completions")
    async def chat_completions(request: Request):
        return await handle(request, chat=True)

    return router
