"""LM head only at labelled positions vs today's training (the head over every position).

Both arms use the studio's length-grouped batches and the same model, data, seed and steps,
in this one process; they differ only in `trainer.head_only`. Two data shapes:
  fpb:    Financial PhraseBank sentences with one-word answers (short prompts, 2 labelled
          tokens per row: the shape where the head is most wasted)
  spread: the instruction data of bench_batching.py (3 to 200 words, 6-word answers)
A warm-up run comes first; the arms run in mirrored order (A B B A) and each figure is the
mean of its two runs. Prints real (non-padding) tokens per second of wall time and per
second of this process's CPU time (the fair figure on a machine other jobs are loading:
`--threads 1` makes CPU time the compute itself), the ratios, and the largest difference
between the two arms' per-step training losses (the loss curves must agree).

    python bench/bench_headonly.py                          # SmolLM2-135M (49k vocabulary)
    python bench/bench_headonly.py --examples 64 --data fpb
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_batching import make_examples  # noqa: E402

from studio.settings import Settings  # noqa: E402
from studio.vocab.examples import Example  # noqa: E402

THREADS = 0
FPB = ROOT.parent / "shared" / "datasets" / "financial_phrasebank_75agree_train.csv"


def fpb_examples(n: int) -> list[Example]:
    """The first n FPB rows as the Inputs tab reads them (sentence -> input, label -> output)."""
    with FPB.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))[:n]
    return [Example(input=r["sentence"], output=r["label"]) for r in rows]


def run(cfg: dict, settings: Settings, examples: list[Example], head_only: bool) -> dict:
    from transformers import set_seed

    from studio.configs.training_args import training_arguments
    from studio.train.data import tokenize_all
    from studio.train.model import build_model, build_tokenizer
    from studio.train.training import make_trainer, set_threads

    set_threads()
    if THREADS:
        import torch

        torch.set_num_threads(THREADS)
    set_seed(0)
    tok = build_tokenizer(cfg, settings)
    ds = tokenize_all(examples, tok, cfg)
    model = build_model(cfg, settings, tok)
    with tempfile.TemporaryDirectory() as tmp:
        args = training_arguments(cfg, Path(tmp), has_eval=False)
        trainer = make_trainer(cfg, model, tok, ds, None, args, [])
        trainer.head_only = head_only
        t0, c0 = time.perf_counter(), time.process_time()
        trainer.train()
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    real = sum(ds.lengths)
    return {
        "wall_s": wall,
        "tokens_per_s": real / wall,
        "tokens_per_cpu_s": real / cpu,
        "losses": losses,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="packaged:SmolLM2-135M-Instruct")
    parser.add_argument("--examples", type=int, default=96)
    parser.add_argument("--data", default="fpb,spread")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: all cores)")
    opts = parser.parse_args()
    global THREADS
    THREADS = opts.threads
    settings = Settings.from_env()
    settings.ensure_dirs()
    cfg = {
        "model_type": "causal",
        "method": "lora",
        "base_model": opts.model,
        "model": {"dtype": "float32"},
        "quantization": {},
        "peft": {
            "r": 16,
            "lora_alpha": 32,
            "lora_dropout": 0.0,
            "task_type": "CAUSAL_LM",
            "target_modules": [
                "q_proj",
                "k_proj",
                "v_proj",
                "o_proj",
                "gate_proj",
                "up_proj",
                "down_proj",
            ],
        },
        "tokenizer": {"max_length": 256, "prompt_format": "sections", "add_eos": True},
        "trainer": {
            "num_train_epochs": 1,
            "learning_rate": 5e-4,
            "logging_steps": 1,
            "per_device_train_batch_size": opts.batch_size,
            "save_strategy": "no",
            "seed": 0,
        },
        "data": {"response_only": True},
    }
    makers = {"fpb": fpb_examples, "spread": make_examples}
    print(
        f"model {opts.model}, {opts.examples} examples per data set, batch {opts.batch_size}, "
        "length-grouped, 1 epoch each, mirrored order, mean of 2 runs"
    )
    run(cfg, settings, fpb_examples(16), True)  # warm-up
    for data in opts.data.split(","):
        examples = makers[data](opts.examples)
        runs: dict[bool, list[dict]] = {False: [], True: []}
        for head_only in (False, True, True, False):
            runs[head_only].append(run(cfg, settings, examples, head_only))
        speed = {k: sum(r["tokens_per_s"] for r in rs) / 2 for k, rs in runs.items()}
        cpu = {k: sum(r["tokens_per_cpu_s"] for r in rs) / 2 for k, rs in runs.items()}
        wall = {k: sum(r["wall_s"] for r in rs) / 2 for k, rs in runs.items()}
        diff = max(
            abs(a - b)
            for a, b in zip(runs[False][0]["losses"], runs[True][0]["losses"], strict=True)
        )
        first, last = runs[False][0]["losses"][0], runs[False][0]["losses"][-1]
        for arm, label in ((False, "today (head everywhere)"), (True, "head only at labels")):
            print(
                f"{data:7s} {label:24s} wall {wall[arm]:7.1f} s {speed[arm]:7.1f} real "
                f"tokens/s {cpu[arm]:7.1f} real tokens/CPU-s"
            )
        print(
            f"{data:7s} speed-up {speed[True] / speed[False]:.2f}x wall, "
            f"{cpu[True] / cpu[False]:.2f}x CPU; loss curve {first:.3f} -> {last:.3f}, "
            f"largest per-step difference {diff:.2e}",
            flush=True,
        )


if __name__ == "__main__":
    main()
