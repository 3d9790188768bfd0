"""Generation benchmark: the CPU engines and the studio's paths, side by side in one run.

One process, one model (SmolLM2-135M by default), the same prompt and greedy settings; rounds
alternate in mirrored order, the table gives medians and ratios to plain fp32 generate():
  plain            model.generate, fp32, no streamer (the baseline)
  old-int4         the previous hand-written int4 copy (from git history) through generate()
  ct2-int8         CTranslate2 int8 (when installed)
  ort-*            ONNX Runtime GenAI alone, three builder recipes (see bench/fast_engines.py)
  studio-fast      the studio's streamed fast path: Engine.generate_stream, precision fast
  studio-fast-v1   the same through /v1/completions, streamed (server-sent events)
  studio-exact     the studio's streamed exact path (the batch scheduler, fp32)
Each row's perplexity is on held-out Financial PhraseBank sentences (the validation split).
Then: 1 vs 8 concurrent fast streams, one Engine lane vs the studio's lanes (a short request
arriving behind a long one), 20 concurrent /v1 requests (p50 / p95), and with
--classify-model job:<id> --home DIR a tuned classifier's held-out accuracy: exact, fast with
the adapter kept in the converted graph (the studio's way), and merged before converting.

    python bench/bench_generate.py                      # everything, 128 tokens, 3 rounds
    python bench/bench_generate.py --tokens 64 --rounds 2 --skip-api --engines ort-int8
    python bench/bench_generate.py --home H --classify-model job:<id> --classify-rows 200
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from studio.hugepages import restart_with_huge_pages  # noqa: E402

if __name__ == "__main__":  # measure the engine as the studio runs it (studio/hugepages.py)
    restart_with_huge_pages()

from bench import fast_engines as fe  # noqa: E402
from bench.generate_parts import (  # noqa: E402
    PROMPTS,
    api_latency,
    api_stream_speed,
    concurrent,
    fast_accuracies,
    heldout_rows,
    late_arrival,
    timed_engine,
    timed_plain,
)
from studio.generate.engine import get_engine  # noqa: E402
from studio.generate.options import GenerationOptions  # noqa: E402
from studio.generate.prompting import PromptInput  # noqa: E402
from studio.models.resolve import resolve_model_path  # noqa: E402
from studio.settings import Settings  # noqa: E402
from studio.store import Store  # noqa: E402

ALL_ENGINES = ("old-int4", "ct2-int8", *fe.ORT_RECIPES)


def build_paths(args, engine, ref, source, scratch) -> tuple[dict, dict, dict]:
    """(timed paths, perplexity functions, conversion seconds) of every engine asked for."""
    prompt = PromptInput(mode="text", text=PROMPTS[0])
    p = engine.prepare(engine.spec(ref), prompt, GenerationOptions())
    model, tok, ids = p.entry.model, p.tokenizer, p.input_ids
    n = args.tokens
    rows = [tok(r["sentence"])["input_ids"] for r in heldout_rows(args.ppl_rows)]
    paths = {"plain": lambda: timed_plain(model, ids, n)}
    ppl = {"plain": lambda: fe.torch_perplexity(model, rows)}
    built: dict[str, float] = {}
    wanted = args.engines.split(",") if args.engines else ALL_ENGINES
    if "old-int4" in wanted and (old := fe.old_fast_copy(scratch)) is not None:
        start = time.perf_counter()
        copy = old(model)
        built["old-int4"] = time.perf_counter() - start
        paths["old-int4"] = lambda: timed_plain(copy, ids, n)
    if "ct2-int8" in wanted and (ct2 := fe.ct2_engine(source, scratch / "ct2")) is not None:
        pieces = tok.convert_ids_to_tokens(ids[0].tolist())
        paths["ct2-int8"] = lambda: fe.ct2_speed(ct2, pieces, n)
        ppl["ct2-int8"] = lambda: fe.ct2_perplexity(
            ct2, [tok.convert_ids_to_tokens(r) for r in rows]
        )
    for name, recipe in fe.ORT_RECIPES.items():
        if name in wanted:
            folder = scratch / "ort" / name
            built[name] = fe.convert_ort(source, folder, recipe)
            paths[name] = lambda f=folder: fe.ort_speed(f, ids[0].tolist(), n)
            ppl[name] = lambda f=folder: fe.ort_perplexity(f, rows)
    paths["studio-fast"] = lambda: timed_engine(engine, ref, prompt, n, "fast")
    paths["studio-exact"] = lambda: timed_engine(engine, ref, prompt, n, "exact")
    if not args.skip_api:
        paths["studio-fast-v1"] = lambda: api_stream_speed(engine, ref, PROMPTS[0], n)
    return paths, ppl, built


def wait_fast(engine, ref: str) -> float:
    """Ask for a fast answer until the studio's conversion is ready; its seconds."""
    start = time.perf_counter()
    while True:
        out = engine.generate(
            ref,
            PromptInput(mode="text", text="Hi"),
            GenerationOptions(max_new_tokens=2, precision="fast"),
        )
        if out.engine.startswith("fast"):
            return time.perf_counter() - start
        time.sleep(1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="packaged:SmolLM2-135M-Instruct")
    ap.add_argument("--tokens", type=int, default=128)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument(
        "--engines", default="", help=f"comma list of {','.join(ALL_ENGINES)} (default all)"
    )
    ap.add_argument(
        "--ppl-rows", type=int, default=60, help="held-out FPB sentences for perplexity"
    )
    ap.add_argument("--home", default="", help="a studio home (for --classify-model job:<id>)")
    ap.add_argument("--classify-model", default="", help="a tuned model: exact vs fast accuracy")
    ap.add_argument("--classify-rows", type=int, default=100)
    ap.add_argument("--models-root", default="", help="where converted base models are kept")
    ap.add_argument("--scratch", default="", help="where the bench keeps its converted copies")
    ap.add_argument("--skip-api", action="store_true")
    ap.add_argument(
        "--sections",
        default="table,concurrency,api,tuned",
        help="which parts to run (comma list of table, concurrency, api, tuned)",
    )
    args = ap.parse_args()

    import torch

    home = Path(args.home) if args.home else Path(tempfile.mkdtemp(prefix="bench-generate-"))
    scratch = Path(args.scratch or tempfile.mkdtemp(prefix="bench-engines-"))
    roots = {"models_root": Path(args.models_root)} if args.models_root else {}
    settings = Settings.from_env(home=home, **roots)
    settings.ensure_dirs()
    store = Store(settings.db_path, files_root=settings.apps_dir)
    engine = get_engine(settings, store)  # the one /v1 uses too
    ref = f"base:{args.model}"
    source = resolve_model_path(args.model, settings)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, model {args.model}, "
        f"{args.tokens} new tokens, {args.rounds} rounds; load {os.getloadavg()[0]:.1f} "
        f"on {os.cpu_count()} CPUs",
        flush=True,
    )
    sections = set(args.sections.split(","))
    if args.skip_api:
        sections.discard("api")
    studio_build = wait_fast(engine, ref)
    print(f"\nStudio fast copy ready after {studio_build:.1f} s (load {os.getloadavg()[0]:.1f})")
    if "table" in sections:
        table(args, engine, ref, source, scratch)
    if "concurrency" in sections:
        concurrency(args, engine, ref)
    if "api" in sections:
        lat = api_latency(engine, ref, 20, 16, "fast")
        print(
            f"\n20 concurrent /v1 requests of 16 tokens (fast): {lat['ok']}/20 ok in "
            f"{lat['wall']:.1f} s; latency p50 {lat['p50']:.2f} s, p95 {lat['p95']:.2f} s",
            flush=True,
        )
    if "tuned" in sections and args.classify_model:
        acc = fast_accuracies(engine, args.classify_model, args.classify_rows, scratch)
        print(f"\nTuned classifier ({args.classify_model}, {acc['rows']} held-out FPB rows):")
        for name, value in acc["accuracy"].items():
            took = acc["convert_s"].get(name)
            extra = f", converted in {took:.1f} s" if took else ""
            print(f"  {name}: accuracy {value * 100:.1f}%{extra}")
    print(f"\nload at the end: {os.getloadavg()[0]:.1f}")


def table(args, engine, ref, source, scratch) -> None:
    """The side-by-side table: tokens/s, first token, perplexity, conversion time."""
    paths, ppl, built = build_paths(args, engine, ref, source, scratch)
    for run in paths.values():  # warm every path once
        run()
    results: dict[str, list] = {k: [] for k in paths}
    order = list(paths)
    for r in range(args.rounds):
        for name in order if r % 2 == 0 else order[::-1]:  # mirrored: drift favours nobody
            results[name].append(paths[name]())
    scores = {name: f() for name, f in ppl.items()}
    base = statistics.median(t for t, _ in results["plain"])
    print("\n| path | tokens/s (median) | × plain | first token | perplexity | converted in |")
    print("|---|---|---|---|---|---|")
    for name, rows in results.items():
        speed = statistics.median(t for t, _ in rows)
        ttfts = [f for _, f in rows if f is not None]
        ttft = f"{statistics.median(ttfts) * 1000:.0f} ms" if ttfts else "-"
        score = f"{scores[name]:.1f}" if name in scores else "-"
        took = f"{built[name]:.1f} s" if built.get(name) else "-"
        print(
            f"| {name} | {speed:.1f} | {speed / base:.2f} | {ttft} | {score} | {took} |", flush=True
        )
    print(f"load after the table: {os.getloadavg()[0]:.1f}")


def concurrency(args, engine, ref) -> None:
    """1 vs 8 streams (fast: the Engine lanes; exact: the batch scheduler), and a short
    request arriving behind a long one with one Engine lane vs the studio's lanes."""
    print("\n| streams | precision | aggregate tokens/s | × 1 stream | slowest first token |")
    print("|---|---|---|---|---|")
    for precision in ("fast", "exact"):
        one = concurrent(engine, ref, 1, args.tokens, precision)
        many = concurrent(engine, ref, 8, args.tokens, precision)
        for label, res in (("1", one), ("8", many)):
            print(
                f"| {label} | {precision} | {res['tok_s']:.1f} | "
                f"{res['tok_s'] / one['tok_s']:.2f} | {res['max_ttft'] * 1000:.0f} ms |",
                flush=True,
            )
    for lanes in (1, 2):
        late = late_arrival(engine, ref, lanes, args.tokens)
        print(
            f"\nA 16-token request arriving while a {args.tokens * 2}-token one decodes, "
            f"{lanes} Engine lane(s): done after {late['short']:.2f} s, the long one after "
            f"{late['long']:.2f} s (short finished first: {late['short_first']})",
            flush=True,
        )


if __name__ == "__main__":
    main()
