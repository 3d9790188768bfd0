"""Evaluation scoring, side by side: label scoring one full row per (example, label) (before)
against each prompt run once with the batch's shared instruction prefix run once (now), and
perplexity rows in their order (before) against rows of like length with their shared prefix
run once (now).

FPB sentences with the instruction the Inputs tab proposes, the three labels scored for each
(SmolLM2-135M-Instruct, batch 8, the threads a job process gets: studio.jobs.child), in
mirrored order (A B B A); prints each run's wall and CPU seconds and sentences/s, the ratios,
the largest difference between the two arms' label probabilities (and perplexity sums), and
the load average before and after.

    python bench/bench_scoring.py [--examples 96] [--threads 1]

Set STUDIO_MODELS_DIR to a folder that already holds the converted base model.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from fpb import fpb_table, proposed_mapping  # noqa: E402

LABELS = ["negative", "neutral", "positive"]


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} {five:.2f} {fifteen:.2f}"


def _timed(fn):
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w0, time.process_time() - c0


def _side_by_side(name: str, arms: dict, n: int) -> dict:
    """Run the two arms A B B A; print each run and the mean ratio; return their outputs."""
    wall: dict[str, list[float]] = {a: [] for a in arms}
    cpu: dict[str, list[float]] = {a: [] for a in arms}
    out = {}
    first, second = list(arms)
    for arm in [first, second, second, first]:
        out[arm], w, c = _timed(arms[arm])
        wall[arm].append(w)
        cpu[arm].append(c)
        print(
            f"{name:12s} {arm:28s} {w:6.1f} s wall {c:6.1f} CPU-s  {n / w:5.2f} sentences/s",
            flush=True,
        )
    mean = {a: (sum(wall[a]) / 2, sum(cpu[a]) / 2) for a in arms}
    print(
        f"{name}: {first} {n / mean[first][0]:.2f} sentences/s, {second} "
        f"{n / mean[second][0]:.2f} sentences/s (wall); ratio {mean[first][0] / mean[second][0]:.2f}x "
        f"wall, {mean[first][1] / mean[second][1]:.2f}x CPU-time"
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--examples", type=int, default=96)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--threads", type=int, default=0, help="0: as a job process gets")
    opts = parser.parse_args()
    import torch

    from studio.evaluate.perplexity import encode_examples
    from studio.jobs.child import size_threads
    from studio.models.resolve import resolve_model_path
    from studio.scoring.grouped import grouped_target_logprobs
    from studio.scoring.labels import label_probabilities
    from studio.scoring.logprobs import target_logprobs
    from studio.settings import Settings
    from studio.vocab.examples import Example

    if opts.threads:
        torch.set_num_threads(opts.threads)
    else:
        size_threads()
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = resolve_model_path("packaged:SmolLM2-135M-Instruct", Settings.from_env())
    tok, model = AutoTokenizer.from_pretrained(path), AutoModelForCausalLM.from_pretrained(path)
    instruction = proposed_mapping().instruction_text
    examples = [
        Example(instruction=instruction, input=r["sentence"], output=r["label"])
        for r in fpb_table()[: opts.examples]
    ]
    n, meta = len(examples), {"max_length": 256}
    print(
        f"{n} FPB sentences x {len(LABELS)} labels, batch {opts.batch}, "
        f"{torch.get_num_threads()} thread(s); {_load()}",
        flush=True,
    )

    def scoring(once: bool):
        return lambda: label_probabilities(
            model, tok, examples, LABELS, meta, opts.batch, prompt_once=once
        )

    probs = _side_by_side(
        "labels",
        {"every (example, label) row": scoring(False), "each prompt once": scoring(True)},
        n,
    )
    before, now = probs.values()
    diff = max(
        abs(a - b) for ra, rb in zip(before, now, strict=True) for a, b in zip(ra, rb, strict=True)
    )
    print(f"labels: largest probability difference {diff:.2e}")

    rows = encode_examples(examples, tok, {**meta, "model_type": "causal"})
    pad = tok.pad_token_id or 0
    sums = _side_by_side(
        "perplexity",
        {
            "rows in order": lambda: target_logprobs(model, rows, pad, "causal", opts.batch),
            "grouped, prefix once": lambda: grouped_target_logprobs(
                model, rows, pad, "causal", opts.batch
            ),
        },
        n,
    )
    before, now = sums.values()
    diff = max(abs(a[0] - b[0]) for a, b in zip(before, now, strict=True))
    print(f"perplexity: largest difference in a row's summed log-probability {diff:.2e}")
    print(_load())


if __name__ == "__main__":
    main()
