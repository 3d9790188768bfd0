"""Pieces of bench_generate.py: concurrency, the HTTP API under load, quality checks."""

from __future__ import annotations

import statistics
import threading
import time

from studio.generate.options import GenerationOptions
from studio.generate.prompting import PromptInput

# A fixed prompt set (also used by the fast-path agreement test).
PROMPTS = [
    "The history of the honey bee begins",
    "Write a short poem about the sea.",
    "What is the capital of France?",
    "Explain photosynthesis to a child.",
    "List three uses of a paperclip:",
    "The quarterly report shows that revenue",
    "Translate 'good morning' into Spanish.",
    "Once upon a time, in a small village,",
    "Give one tip for writing clean code.",
    "The main causes of inflation are",
    "How do I boil an egg?",
    "Summarise: the meeting was moved to Friday because the room was booked.",
]
LABELS = ("negative", "neutral", "positive")


def timed_plain(model, ids, n: int) -> tuple[float, float | None]:
    """(tokens/s, None) of plain greedy model.generate for exactly `n` tokens."""
    import torch

    start = time.perf_counter()
    model.generate(
        input_ids=ids,
        attention_mask=torch.ones_like(ids),
        max_new_tokens=n,
        min_new_tokens=n,
        do_sample=False,
        pad_token_id=0,
        temperature=None,
        top_p=None,
        top_k=None,
    )
    return n / (time.perf_counter() - start), None


def timed_engine(engine, ref, prompt, n: int, precision: str) -> tuple[float, float | None]:
    """(tokens/s, first token seconds) of the studio's streamed path for exactly `n` tokens."""
    opts = GenerationOptions(max_new_tokens=n, min_new_tokens=n, precision=precision)
    start = time.perf_counter()
    last = None
    for update in engine.generate_stream(ref, prompt, opts):
        last = update
    assert last.engine.startswith("fast" if precision == "fast" else "exact"), last.note
    return last.new_tokens / (time.perf_counter() - start), last.ttft


def concurrent(engine, ref: str, streams: int, tokens: int, precision: str) -> dict:
    """`streams` generations at once, each `tokens` long: aggregate tokens/s, slowest TTFT."""
    opts = GenerationOptions(max_new_tokens=tokens, min_new_tokens=tokens, precision=precision)
    counts, ttfts = [0] * streams, [0.0] * streams

    def one(i: int) -> None:
        prompt = PromptInput(mode="text", text=f"Story number {i}: once upon a time")
        for update in engine.generate_stream(ref, prompt, opts):
            counts[i], ttfts[i] = update.new_tokens, update.ttft or 0.0

    threads = [threading.Thread(target=one, args=(i,)) for i in range(streams)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"tok_s": sum(counts) / (time.perf_counter() - start), "max_ttft": max(ttfts)}


def late_arrival(engine, ref: str, lanes: int, tokens: int) -> dict:
    """A short request sent while a long one decodes, on a fresh fast model with `lanes`
    Engine lanes: seconds until each is done, and whether the short one finished first."""
    from studio.generate.fast_runtime import FastModel, FastTurn

    opts = GenerationOptions(max_new_tokens=2, precision="fast")
    p = engine.prepare(engine.spec(ref), PromptInput(mode="text", text=PROMPTS[0]), opts)
    fast = FastModel(engine.serving.fast_model(p, opts)[0].folder, lanes=lanes)
    ids = p.input_ids[0].tolist()
    done: dict[str, float] = {}
    start = time.perf_counter()

    decoding = threading.Event()

    def run(name: str, n: int) -> None:
        for i, _ in enumerate(fast.submit(ids, FastTurn(n, n))):
            if i == 3:
                decoding.set()
        done[name] = time.perf_counter() - start

    long = threading.Thread(target=run, args=("long", 2 * tokens))
    long.start()
    decoding.wait()  # the long one is decoding
    run("short", 16)
    long.join()
    return {**done, "short_first": done["short"] < done["long"]}


_server: dict = {}


def _url(engine) -> str:
    """The studio's server (page + /v1) on this engine's home, started once."""
    if "url" not in _server:
        import app
        from tests.helpers import serve

        fastapi_app, _, _ = app.create_server(engine.settings, start_runner=False)
        _server["ctx"] = serve(fastapi_app)
        _server["url"] = _server["ctx"].__enter__()
    return _server["url"]


def _client():
    """One HTTP client kept for every request, as an API client keeps its session: building
    a client per request (httpx makes an SSL context each time) cost about 25 ms here, which
    is the client's time, not the studio's."""
    import httpx

    if "client" not in _server:
        _server["client"] = httpx.Client(
            timeout=600, limits=httpx.Limits(max_connections=32, max_keepalive_connections=32)
        )
    return _server["client"]


def api_stream_speed(engine, ref: str, text: str, n: int) -> tuple[float, float]:
    """(tokens/s, first token seconds) of a streamed /v1/completions request, fast."""
    body = {"model": ref, "prompt": text, "max_tokens": n, "min_new_tokens": n}
    body.update(temperature=0, precision="fast", stream=True)
    url = _url(engine) + "/v1/completions"
    start, first = time.perf_counter(), None
    with _client().stream("POST", url, json=body) as r:
        for line in r.iter_lines():
            if line.startswith("data: {") and first is None:
                first = time.perf_counter() - start
    return n / (time.perf_counter() - start), first


def api_latency(engine, ref: str, n: int, tokens: int, precision: str) -> dict:
    """`n` concurrent /v1/completions requests against the real server: latencies."""
    url = _url(engine)
    client = _client()
    latencies: list[float] = []
    ok = [0]

    def call(i: int) -> None:
        body = {
            "model": ref,
            "prompt": f"Request {i}: the weather today is",
            "max_tokens": tokens,
            "temperature": 0,
            "precision": precision,
        }
        start = time.perf_counter()
        r = client.post(url + "/v1/completions", json=body)
        latencies.append(time.perf_counter() - start)
        ok[0] += r.status_code == 200 and r.json()["system_fingerprint"].startswith(precision)

    threads = [threading.Thread(target=call, args=(i,)) for i in range(n)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ranked = sorted(latencies)
    return {
        "ok": ok[0],
        "wall": time.perf_counter() - start,
        "p50": statistics.median(ranked),
        "p95": ranked[max(0, int(round(0.95 * len(ranked))) - 1)],
    }


def heldout_rows(rows: int) -> list[dict]:
    """The first `rows` of Financial PhraseBank's held-out part as bench_recipe.py splits it
    (15 %, seed 0, stratified): never seen by a model that bench trained."""
    from bench.bench_recipe import split_fpb

    return split_fpb(15.0, 0)[1][:rows]


def answers(engine, ref: str, precision: str, rows: int) -> list[tuple[str, str]]:
    """(the model's label, the true label) for each of the first `rows` held-out Financial
    PhraseBank rows; a tuned model gets the instruction it trained with, as the Generate
    tab pre-fills it."""
    instruction = _instruction(engine, ref)
    got = []
    for row in heldout_rows(rows):
        prompt = PromptInput(mode="instruction", instruction=instruction, input=row["sentence"])
        out = engine.generate(ref, prompt, GenerationOptions(max_new_tokens=4, precision=precision))
        words = out.text.strip().lower()
        got.append((next((label for label in LABELS if words.startswith(label)), ""), row["label"]))
    return got


def accuracy(engine, ref: str, precision: str, rows: int) -> float:
    """Label accuracy on held-out Financial PhraseBank rows (see `answers`)."""
    got = answers(engine, ref, precision, rows)
    return sum(guess == truth for guess, truth in got) / len(got)


def paired(exact: list[tuple[str, str]], fast: list[tuple[str, str]]) -> dict:
    """How two paths' answers to the same rows differ: accuracies, rows answered
    differently, rows only one of them gets right (the gap is (won - lost) / n), and the
    standard error of that gap in points (paired, from the discordant rows)."""
    n = len(exact)
    lost = sum(e == t != f for (e, t), (f, _) in zip(exact, fast, strict=True))
    won = sum(f == t != e for (e, t), (f, _) in zip(exact, fast, strict=True))
    gap = (won - lost) / n
    discordant = (lost + won) / n
    return {
        "exact": sum(e == t for e, t in exact) / n,
        "fast": sum(f == t for f, t in fast) / n,
        "differ": sum(e != f for (e, _), (f, _) in zip(exact, fast, strict=True)),
        "lost": lost,
        "won": won,
        "se_points": 100 * ((discordant - gap * gap) / n) ** 0.5,
    }


def fast_accuracies(engine, ref: str, rows: int, scratch) -> dict:
    """A tuned model's held-out accuracy three ways: exact; fast as the studio serves it (the
    LoRA adapter merged into the base, then converted); fast with the adapter kept as its own
    path in the converted graph (the builder's adapter_path). With conversion seconds."""
    from bench.fast_engines import convert_ort
    from studio.generate.fast_build import RECIPE, content_key
    from studio.generate.fast_runtime import FastModel, FastTurn
    from studio.models.resolve import resolve_model_path

    spec = engine.spec(ref)
    hi = PromptInput(mode="text", text="Hi")
    while not engine.generate(
        ref, hi, GenerationOptions(max_new_tokens=1, precision="fast")
    ).engine.startswith("fast"):
        time.sleep(1)
    source = resolve_model_path(spec.base_ref, engine.settings)
    state = engine.serving.builds.state(spec.ref, source, spec.adapter_dir)
    assert state.key == content_key(source, spec.adapter_dir) and state.ready
    folder = scratch / "adapter-path-ort"
    kept_s = convert_ort(source, folder, RECIPE, adapter=spec.adapter_dir)
    kept = FastModel(str(folder))
    exact = answers(engine, ref, "exact", rows)
    merged = answers(engine, ref, "fast", rows)
    guesses = []
    for row in heldout_rows(rows):
        prompt = PromptInput(
            mode="instruction", instruction=_instruction(engine, ref), input=row["sentence"]
        )
        p = engine.prepare(spec, prompt, GenerationOptions(max_new_tokens=4))
        ids = kept.generate(p.input_ids[0].tolist(), FastTurn(4, search={"do_sample": False}))[0]
        words = p.tokenizer.decode(ids, skip_special_tokens=True).strip().lower()
        guesses.append(next((label for label in LABELS if words.startswith(label)), ""))
    truth = [t for _, t in exact]
    n = len(truth)
    studio = "fast, merged then converted (the studio)"
    other = "fast, adapter kept as its own path (builder adapter_path)"
    return {
        "rows": n,
        "accuracy": {
            "exact (fp32)": sum(g == t for g, t in exact) / n,
            studio: sum(g == t for g, t in merged) / n,
            other: sum(g == t for g, t in zip(guesses, truth, strict=True)) / n,
        },
        "convert_s": {studio: state.seconds, other: kept_s},
    }


def _instruction(engine, ref: str) -> str:
    from studio.jobs.trained import most_common_instruction

    job = engine.store.get_job(ref.removeprefix("job:")) if ref.startswith("job:") else None
    return (most_common_instruction(engine.store, job) if job else "") or (
        "Classify the sentiment of this financial news sentence as negative, "
        "neutral or positive. Answer with one word."
    )
