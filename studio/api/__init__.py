"""The OpenAI-compatible HTTP API on the studio's own server: existing OpenAI clients can
talk to a tuned model.

    POST /v1/completions        {"model": "job:<id>", "prompt": "...", "max_tokens": 32}
    POST /v1/chat/completions   {"model": "base:smollm2-135m-lora", "messages": [...]}
    (only models GET /v1/models lists may be named; see studio.api.request)
    GET  /v1/models             succeeded train jobs ("job:<id>") and base models ("base:<key>")

Both POSTs stream with "stream": true (server-sent events, `data: {...}` ... `data: [DONE]`).
OpenAI parameters map onto GenerationOptions (temperature 0 = greedy; n; stop; seed; top_p;
max_tokens); the studio extensions top_k, min_p, typical_p, repetition_penalty are accepted;
other unknown fields are ignored. A bad request gets a 4xx JSON error
{"error": {"message", "type", "param", "code"}} and the server carries on. Generation is
blocking work and runs in worker threads so the event loop stays free.

Layout: `routes` (the /v1 router, built from settings, store and the generation engine),
`request` (the request-validation layer: body, prompt, model name, options) and `responses`
(OpenAI's response and stream shapes, and the error a failure becomes).
"""

from studio.api.routes import build_openai_router

__all__ = ["build_openai_router"]
