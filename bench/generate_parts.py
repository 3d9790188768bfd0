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


def api_latency(settings, ref: str, n: int, tokens: int, precision: str) -> dict:
    """`n` concurrent /v1/completions requests against the real server: latencies."""
    import httpx

    import app
    from tests.helpers import serve

    fastapi_app, _, _ = app.create_server(settings, start_runner=False)
    latencies: list[float] = []
    ok = [0]

    def call(url: str, i: int) -> None:
        body = {
            "model": ref,
            "prompt": f"Request {i}: the weather today is",
            "max_tokens": tokens,
            "temperature": 0,
            "precision": precision,
        }
        start = time.perf_counter()
        r = httpx.post(url + "/v1/completions", json=body, timeout=300)
        latencies.append(time.perf_counter() - start)
        ok[0] += r.status_code == 200

    with serve(fastapi_app) as url:
        threads = [threading.Thread(target=call, args=(url, i)) for i in range(n)]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - start
    return {
        "ok": ok[0],
        "wall": wall,
        "median": statistics.median(latencies),
        "max": max(latencies),
    }


def greedy_ids(engine, ref: str, text: str, n: int, precision: str) -> list[int]:
    """The first `n` greedy token ids (through the scheduler) for a free-text prompt."""
    from studio.generate.batcher import BatchScheduler

    seen: list = []
    original = BatchScheduler.submit

    def spy(self, *a, **k):
        request = original(self, *a, **k)
        seen.append(request)
        return request

    BatchScheduler.submit = spy
    try:
        engine.generate(
            ref,
            PromptInput(mode="text", text=text),
            GenerationOptions(max_new_tokens=n, precision=precision),
        )
    finally:
        BatchScheduler.submit = original
    return list(seen[-1].generated)


def agreement(engine, ref: str, n: int) -> tuple[int, int]:
    """(prompts whose first `n` greedy tokens are identical fast vs exact, prompts)."""
    same = sum(
        greedy_ids(engine, ref, p, n, "fast") == greedy_ids(engine, ref, p, n, "exact")
        for p in PROMPTS
    )
    return same, len(PROMPTS)


def heldout_rows(rows: int) -> list[dict]:
    """The first `rows` of Financial PhraseBank's held-out part as bench_recipe.py splits it
    (15 %, seed 0, stratified): never seen by a model that bench trained."""
    from bench.bench_recipe import split_fpb

    return split_fpb(15.0, 0)[1][:rows]


def answers(engine, ref: str, precision: str, rows: int) -> list[tuple[str, str]]:
    """(the model's label, the true label) for each of the first `rows` held-out Financial
    PhraseBank rows; a tuned model gets the instruction it trained with, as the Generate
    tab pre-fills it."""
    from studio.jobs.trained import most_common_instruction

    job = engine.store.get_job(ref.removeprefix("job:")) if ref.startswith("job:") else None
    instruction = (most_common_instruction(engine.store, job) if job else "") or (
        "Classify the sentiment of this financial news sentence as negative, "
        "neutral or positive. Answer with one word."
    )
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
