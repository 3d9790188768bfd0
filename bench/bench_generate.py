"""Generation benchmark: the studio's paths side by side with plain `model.generate`.

Everything runs in this one process on the same weights, in alternating order, repeated;
the table gives medians and ratios against plain fp32 `model.generate` (no streamer):
  plain        model.generate, fp32, greedy, no streamer (the baseline)
  hf-streamer  model.generate + TextIteratorStreamer in a thread (the studio's old path)
  studio       the studio's streamed path, exact (fp32): Engine.generate_stream
  fast         the studio's streamed path, fast (weight-only int4 copy, int8 head)
  fast-plain   the same fast copy through model.generate (no streamer, no batching)
  int8dyn-plain  the previous fast copy (torch dynamic int8: int8 weights and activations)
               through model.generate, for comparison
Then: 8 concurrent streams vs 1 (aggregate tokens/s, exact and fast), 20 concurrent /v1
requests of 8 tokens through the real HTTP server (latency), and quality: greedy agreement of
fast vs fp32 on a fixed prompt set, and classification accuracy on held-out Financial
PhraseBank rows (zero-shot, or a tuned model with --classify-model job:<id> --home DIR).

    python bench/bench_generate.py                    # SmolLM2-135M, 64 new tokens, 3 rounds
    python bench/bench_generate.py --tokens 128 --rounds 5 --skip-api
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.generate_parts import (  # noqa: E402
    PROMPTS,
    agreement,
    answers,
    api_latency,
    concurrent,
    paired,
)
from studio.generate.engine import Engine  # noqa: E402
from studio.generate.fast import fast_copy  # noqa: E402
from studio.generate.options import GenerationOptions  # noqa: E402
from studio.generate.prompting import PromptInput  # noqa: E402
from studio.settings import Settings  # noqa: E402
from studio.store import Store  # noqa: E402


def dynamic_int8_copy(model):
    """The previous fast path: torch's dynamic int8 quantization of every Linear (per-row
    weight scales, int8 activations), kept here as a point of comparison."""
    import copy
    import warnings

    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.ao.quantization is deprecated
        from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

        spec = {torch.nn.Linear: per_channel_dynamic_qconfig}
        return quantize_dynamic(copy.deepcopy(model), spec, dtype=torch.qint8).eval()


def greedy_kwargs(ids, n: int) -> dict:
    """`model.generate` arguments for exactly `n` greedy tokens after `ids`."""
    import torch

    return dict(
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


def timed_plain(model, ids, n: int) -> tuple[float, float | None]:
    start = time.perf_counter()
    model.generate(**greedy_kwargs(ids, n))
    return n / (time.perf_counter() - start), None


def timed_hf_streamer(model, tok, ids, n: int) -> tuple[float, float | None]:

    from studio.generate.stream import counting_streamer

    streamer = counting_streamer(tok)
    kw = dict(greedy_kwargs(ids, n), streamer=streamer)
    start = time.perf_counter()
    thread = threading.Thread(target=model.generate, kwargs=kw)
    thread.start()
    text = ""
    for chunk in streamer:
        text += chunk
    thread.join()
    return streamer.count / (time.perf_counter() - start), streamer.first_token_at - start


def timed_engine(engine, ref, prompt, n: int, precision: str) -> tuple[float, float | None]:
    opts = GenerationOptions(max_new_tokens=n, min_new_tokens=n, precision=precision)
    start = time.perf_counter()
    last = None
    for update in engine.generate_stream(ref, prompt, opts):
        last = update
    return last.new_tokens / (time.perf_counter() - start), last.ttft


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="packaged:SmolLM2-135M-Instruct")
    ap.add_argument("--tokens", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--home", default="", help="a studio home (for --classify-model job:<id>)")
    ap.add_argument("--classify-model", default="", help="default: the base model, zero-shot")
    ap.add_argument("--classify-rows", type=int, default=60)
    ap.add_argument("--models-root", default="", help="where converted base models are kept")
    ap.add_argument("--skip-api", action="store_true")
    ap.add_argument(
        "--quality-only", action="store_true", help="agreement and accuracy only, no timings"
    )
    args = ap.parse_args()

    import torch

    home = Path(args.home) if args.home else Path(tempfile.mkdtemp(prefix="bench-generate-"))
    roots = {"models_root": Path(args.models_root)} if args.models_root else {}
    settings = Settings.from_env(home=home, **roots)
    settings.ensure_dirs()
    store = Store(settings.db_path, files_root=settings.apps_dir)
    engine = Engine(settings, store)
    ref = f"base:{args.model}"
    prompt = PromptInput(mode="text", text=PROMPTS[0])
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, model {args.model}, "
        f"{args.tokens} new tokens, {args.rounds} rounds",
        flush=True,
    )

    same, total = agreement(engine, ref, 16)
    print(
        f"\nGreedy agreement, fast vs exact: {same}/{total} prompts identical for the first "
        "16 tokens",
        flush=True,
    )
    cref = args.classify_model or ref
    got = {p: answers(engine, cref, p, args.classify_rows) for p in ("exact", "fast")}
    pair = paired(got["exact"], got["fast"])
    print(
        f"Classification accuracy ({cref}, {len(got['exact'])} held-out Financial PhraseBank "
        f"rows): exact {pair['exact'] * 100:.1f}%, fast {pair['fast'] * 100:.1f}% (difference "
        f"{abs(pair['exact'] - pair['fast']) * 100:.1f} points, paired SE "
        f"{pair['se_points']:.1f}); {pair['differ']} rows answered differently, fast right "
        f"where exact is wrong on {pair['won']}, wrong where exact is right on {pair['lost']}"
    )

    if args.quality_only:
        return
    # Warm up: loads the model, builds the fast copy, and runs each path once.
    timed_engine(engine, ref, prompt, 4, "exact")
    timed_engine(engine, ref, prompt, 4, "fast")
    p = engine.prepare(engine.spec(ref), prompt, GenerationOptions())
    model, tok, ids = p.entry.model, p.tokenizer, p.input_ids
    fast_model = fast_copy(model)
    dynamic = dynamic_int8_copy(model)
    paths = {
        "plain": lambda: timed_plain(model, ids, args.tokens),
        "hf-streamer": lambda: timed_hf_streamer(model, tok, ids, args.tokens),
        "studio": lambda: timed_engine(engine, ref, prompt, args.tokens, "exact"),
        "fast": lambda: timed_engine(engine, ref, prompt, args.tokens, "fast"),
        "fast-plain": lambda: timed_plain(fast_model, ids, args.tokens),
        "int8dyn-plain": lambda: timed_plain(dynamic, ids, args.tokens),
    }
    for run in paths.values():
        run()
    results: dict[str, list[tuple[float, float | None]]] = {k: [] for k in paths}
    order = list(paths)
    for r in range(args.rounds):
        for name in order if r % 2 == 0 else order[::-1]:  # mirrored: drift favours nobody
            results[name].append(paths[name]())
    base = statistics.median(t for t, _ in results["plain"])
    print("\n| path | tokens/s (median) | × plain | time to first token |")
    print("|---|---|---|---|")
    for name, rows in results.items():
        speed = statistics.median(t for t, _ in rows)
        ttfts = [f for _, f in rows if f is not None]
        ttft = f"{statistics.median(ttfts) * 1000:.0f} ms" if ttfts else "-"
        print(f"| {name} | {speed:.1f} | {speed / base:.2f} | {ttft} |", flush=True)

    print(
        "\n| concurrency | precision | streams | aggregate tokens/s | × 1 stream "
        "| slowest first token |\n|---|---|---|---|---|---|"
    )
    for precision in ("exact", "fast"):
        one = concurrent(engine, ref, 1, args.tokens, precision)
        many = concurrent(engine, ref, 8, args.tokens, precision)
        for label, res in (("1", one), ("8", many)):
            print(
                f"| | {precision} | {label} | {res['tok_s']:.1f} | "
                f"{res['tok_s'] / one['tok_s']:.2f} | {res['max_ttft'] * 1000:.0f} ms |",
                flush=True,
            )

    if not args.skip_api:
        for precision in ("exact", "fast"):
            lat = api_latency(settings, ref, 20, 8, precision)
            print(
                f"\n20 concurrent /v1 requests of 8 tokens ({precision}): all "
                f"{lat['ok']}/20 ok in {lat['wall']:.1f} s; latency median "
                f"{lat['median']:.2f} s, max {lat['max']:.2f} s",
                flush=True,
            )


if __name__ == "__main__":
    main()
