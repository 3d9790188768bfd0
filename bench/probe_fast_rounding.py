"""Probe: how the fast copy's rounding choices change its answers (one process, fp32 as the
reference, every variant built from the same weights).

For each variant: greedy agreement with fp32 on the 12 bench prompts (16 tokens, the base
model), a tuned classifier's accuracy on held-out Financial PhraseBank rows (the first word of
a 4-token greedy answer), how many rows it answers differently from fp32 (paired), and
optionally decode tokens per CPU-second of this thread against fp32 (interleaved rounds).

    python bench/probe_fast_rounding.py --home HOME --job JOB_ID --rows 414 --speed
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402
from torch import nn  # noqa: E402

from bench.bench_generate import greedy_kwargs  # noqa: E402
from bench.generate_parts import LABELS, PROMPTS, heldout_rows, paired  # noqa: E402
from studio.generate import fast, rounding  # noqa: E402
from studio.generate.engine import Engine  # noqa: E402
from studio.generate.prompting import PromptInput  # noqa: E402
from studio.jobs.trained import most_common_instruction  # noqa: E402
from studio.settings import Settings  # noqa: E402
from studio.store import Store  # noqa: E402

PLAIN = dict(CLIP_RATIOS=())
SEARCH = dict(CLIP_RATIOS=rounding.CLIP_RATIOS)
# name: (rounding settings, activation-weighted?, head: int8 / exact-top (shipped) / fp32)
VARIANTS = {
    "plain": (PLAIN, False, "int8"),
    "search": (SEARCH, False, "int8"),
    "search-weighted": (SEARCH, True, "int8"),
    "search-exact-top-head": (SEARCH, False, "exact-top"),
    "search-fp32-head": (SEARCH, False, "fp32"),
}


# Generic text for measuring input sizes: chat turns, prose, a list, numbers and code, so
# that no single task's words decide how every model is rounded.
CALIBRATION_TEXTS = (
    "Can you explain how a refrigerator keeps food cold?",
    "The committee met on Tuesday to review the budget. After a long discussion, members "
    "agreed to postpone the vote until the auditors had finished their report.",
    "Ingredients: 2 cups of flour, 1 teaspoon of salt, 3 eggs, 250 ml of milk. Whisk the "
    "eggs and milk, then fold in the flour slowly.",
    "def mean(values):\n    return sum(values) / len(values) if values else 0.0",
    "Sales rose 12% in the third quarter to EUR 4.5 million, while operating costs fell.",
    "Summarize the following paragraph in one sentence: The river flooded the valley twice "
    "this spring, and the town council is now debating whether to build a new levee.",
)


def calibration_ids(tokenizer, limit: int = 96) -> list[torch.Tensor]:
    """CALIBRATION_TEXTS as token ids (1-D, one per text, at most `limit` tokens each), in
    the model's chat format when it has one (the markers there carry large activations)."""
    rows = []
    for text in CALIBRATION_TEXTS:
        ids = None
        if getattr(tokenizer, "chat_template", None):
            try:
                ids = tokenizer.apply_chat_template(
                    [{"role": "user", "content": text}], add_generation_prompt=True
                )
            except Exception:  # noqa: BLE001 - a template that rejects this shape: plain text
                ids = None
            if ids is not None and not isinstance(ids, list):
                ids = ids["input_ids"] if "input_ids" in ids else list(ids)
        if ids is None:
            ids = tokenizer(text)["input_ids"]
        rows.append(torch.tensor(ids[:limit], dtype=torch.long))
    return rows


def ids_for(engine, spec, prompt: PromptInput) -> torch.Tensor:
    rendered = engine.rendered(spec, prompt)
    tok = engine.tokenizer(spec)
    return tok(rendered.text, return_tensors="pt", add_special_tokens=rendered.special)["input_ids"]


def build(model_fn, settings: dict, calibrate: bool, head: str, cal) -> nn.Module:
    for name, value in settings.items():
        setattr(rounding, name, value)
    model = model_fn()
    keep = model.get_output_embeddings()
    out = fast.fast_copy(model, inplace=True, calibration=cal if calibrate else None)
    if head == "fp32":
        out.set_output_embeddings(keep)
    elif head == "int8":
        out.set_output_embeddings(fast.Int8Linear(keep))
    return out


def answers(model, prompts: list[torch.Tensor], tok, n: int) -> list[list[int]]:
    with torch.no_grad():
        return [
            model.generate(**greedy_kwargs(ids, n))[0, ids.shape[1] :].tolist() for ids in prompts
        ]


def label(tok, row: list[int]) -> str:
    words = tok.decode(row, skip_special_tokens=True).strip().lower()
    return next((x for x in LABELS if words.startswith(x)), "")


def speed(models: dict, ids: torch.Tensor, n: int, rounds: int) -> dict[str, float]:
    """Decode tokens per CPU-second of this thread, medians of interleaved rounds."""
    got: dict[str, list[float]] = {k: [] for k in models}
    order = list(models)
    for r in range(rounds):
        for name in order if r % 2 == 0 else order[::-1]:
            start = time.thread_time()
            with torch.no_grad():
                models[name].generate(**greedy_kwargs(ids, n))
            got[name].append(n / (time.thread_time() - start))
    return {k: statistics.median(v) for k, v in got.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--home", required=True)
    ap.add_argument("--job", required=True)
    ap.add_argument("--rows", type=int, default=414)
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--speed", action="store_true")
    ap.add_argument("--speed-only", action="store_true", help="build times and speed only")
    ap.add_argument("--rounds", type=int, default=3, help="speed rounds (interleaved)")
    ap.add_argument("--exact-cache", default="", help="a JSON file keeping fp32's answers")
    args = ap.parse_args()
    torch.set_num_threads(1)
    settings = Settings.from_env(home=Path(args.home))
    store = Store(settings.db_path, files_root=settings.apps_dir)
    engine = Engine(settings, store)
    from studio.generate.fast import adapted_copy
    from studio.models.loading import load_model

    tuned_ref, base_ref = f"job:{args.job}", "base:packaged:SmolLM2-135M-Instruct"
    tspec, bspec = engine.spec(tuned_ref), engine.spec(base_ref)
    tok = engine.tokenizer(tspec)
    base = load_model(tspec.base_ref, settings).eval()
    instruction = most_common_instruction(store, store.get_job(args.job))
    rows = heldout_rows(args.rows)
    cls_ids = [
        ids_for(
            engine,
            tspec,
            PromptInput(mode="instruction", instruction=instruction, input=r["sentence"]),
        )
        for r in rows
    ]
    free_ids = [ids_for(engine, bspec, PromptInput(mode="text", text=p)) for p in PROMPTS]
    cal = calibration_ids(tok)

    import copy

    def tuned_fn():
        return adapted_copy(base, tspec.adapter_dir)

    def base_fn():
        return copy.deepcopy(base)

    t0 = time.process_time()
    cache = Path(args.exact_cache) if args.exact_cache else None
    key = f"{args.job}:{args.rows}"
    if cache and cache.exists() and json.loads(cache.read_text()).get("key") == key:
        saved = json.loads(cache.read_text())
        ref_free, ref_cls = saved["free"], saved["cls"]
    else:
        ref_free = answers(base, free_ids, tok, 16)
        ref_cls = [label(tok, a) for a in answers(tuned_fn(), cls_ids, tok, 4)]
        if cache:
            cache.write_text(json.dumps({"key": key, "free": ref_free, "cls": ref_cls}))
    truth = [r["label"] for r in rows]
    acc_exact = sum(a == t for a, t in zip(ref_cls, truth, strict=True)) / len(rows)
    print(
        f"exact: accuracy {acc_exact * 100:.1f}% ({time.process_time() - t0:.0f} CPU-s)", flush=True
    )
    print("\n| variant | agreement /12 | accuracy exact | fast | paired disagreements | build s |")
    print("|---|---|---|---|---|---|", flush=True)
    built = {}
    for name in args.variants.split(","):
        settings_, calibrate, head = VARIANTS[name]
        t0 = time.perf_counter()
        fb = build(base_fn, settings_, calibrate, head, cal)
        seconds = time.perf_counter() - t0
        built[name] = fb
        if args.speed_only:
            continue
        ft = build(tuned_fn, settings_, calibrate, head, cal)
        same = sum(a == b for a, b in zip(answers(fb, free_ids, tok, 16), ref_free, strict=True))
        got = [label(tok, a) for a in answers(ft, cls_ids, tok, 4)]
        pair = paired(list(zip(ref_cls, truth, strict=True)), list(zip(got, truth, strict=True)))
        print(
            f"| {name} | {same}/12 | {pair['exact'] * 100:.1f}% | {pair['fast'] * 100:.1f}% | "
            f"{pair['differ']} (fast lost {pair['lost']}, won {pair['won']}; gap SE "
            f"{pair['se_points']:.1f} pt) | {seconds:.1f} |",
            flush=True,
        )
    if args.speed or args.speed_only:
        models = {"fp32": base, **built}
        result = speed(models, free_ids[0], 64, args.rounds)
        print("\n| copy | tokens per CPU-second | × fp32 |\n|---|---|---|")
        for name, value in result.items():
            print(f"| {name} | {value:.1f} | {value / result['fp32']:.2f} |", flush=True)


if __name__ == "__main__":
    main()
