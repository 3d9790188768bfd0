"""Label scoring (the Evaluate tab's classification metrics): every position's logits
(before) against the labelled positions' only (now), side by side.

FPB sentences with the instruction the Inputs tab proposes, the three labels scored for each
(SmolLM2-135M-Instruct, batch 8, one thread), mirrored order (A B B A); prints the CPU
seconds of each run, the ratio, and the largest difference between the two arms' label
probabilities.

    python bench/bench_scoring.py [--examples 96]

Set STUDIO_MODELS_DIR to a folder that already holds the converted base model.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from fpb import fpb_table, proposed_mapping  # noqa: E402

LABELS = ["negative", "neutral", "positive"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--examples", type=int, default=96)
    opts = parser.parse_args()
    import torch

    from studio.models.resolve import resolve_model_path
    from studio.scoring import logprobs
    from studio.scoring.labels import label_probabilities
    from studio.settings import Settings
    from studio.vocab.examples import Example

    torch.set_num_threads(1)
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = resolve_model_path("packaged:SmolLM2-135M-Instruct", Settings.from_env())
    tok, model = AutoTokenizer.from_pretrained(path), AutoModelForCausalLM.from_pretrained(path)
    instruction = proposed_mapping().instruction_text
    examples = [
        Example(instruction=instruction, input=r["sentence"], output=r["label"])
        for r in fpb_table()[: opts.examples]
    ]
    keeps = logprobs.keeps_positions
    arms = {"every position": lambda m: False, "labelled positions": keeps}
    cpu: dict[str, list[float]] = {a: [] for a in arms}
    probs = {}
    for arm in ["every position", "labelled positions", "labelled positions", "every position"]:
        logprobs.keeps_positions = arms[arm]
        c0 = time.process_time()
        probs[arm] = label_probabilities(model, tok, examples, LABELS, {"max_length": 256})
        cpu[arm].append(time.process_time() - c0)
        print(f"{arm:20s} {cpu[arm][-1]:6.1f} CPU-s", flush=True)
    logprobs.keeps_positions = keeps
    diff = max(
        abs(a - b)
        for ra, rb in zip(probs["every position"], probs["labelled positions"], strict=True)
        for a, b in zip(ra, rb, strict=True)
    )
    before, now = (sum(cpu[a]) / 2 for a in arms)
    n = len(examples) * len(LABELS)
    print(f"{n} scored rows: every position {before:.1f} CPU-s, labelled only {now:.1f} CPU-s")
    print(f"ratio {before / now:.2f}x; largest probability difference {diff:.2e}")


if __name__ == "__main__":
    main()
