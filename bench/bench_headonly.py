"""Less compute per step: today's training vs the head only at labelled positions vs that
plus packing (several examples per row, block-diagonal causal mask) vs that plus the prompt
prefix every row of a batch shares computed once per batch.

Every arm uses the studio's length-grouped batches and the same model, data, seed and steps
(the same examples in every step), in this one process; they differ only in
`trainer.head_only`, `trainer.packer` and `trainer.share_prefix`. Two data shapes:
  fpb:    Financial PhraseBank sentences with one-word answers (short prompts, 2 labelled
          tokens per row: the shape where the head is most wasted); `--instruction proposed`
          gives every row the instruction the Inputs tab proposes for the FPB table (then
          every prompt starts with the same 23 SmolLM2 tokens; without it, only the 3 of
          `### Human:`, too few to share)
  spread: the instruction data of bench_batching.py (3 to 200 words, 6-word answers)
A warm-up run comes first; the arms run in mirrored order (A B C C B A) and each figure is
the mean of its two runs. Prints real (non-padding) tokens per second of wall time and per
second of this process's CPU time (the fair figure on a machine other jobs are loading:
`--threads 1` makes CPU time the compute itself), the load average beside each run, the
ratios against today's training, the rows and padding share of the packed arm, and the
largest difference between each arm's per-step training losses and today's (the loss
curves must agree).

    python bench/bench_headonly.py                          # SmolLM2-135M (49k vocabulary)
    python bench/bench_headonly.py --examples 64 --data fpb --arms today,head,pack
    python bench/bench_headonly.py --data fpb --examples 2000 --max-steps 6 --threads 1 \
        --arms today,head,head-bf16                   # bf16 autocast on an AMX / AVX512-BF16 CPU
    python bench/bench_headonly.py --data fpb --examples 2000 --max-steps 6 --threads 1 \
        --instruction proposed --arms today,head,prefix   # the shared instruction once per batch
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_batching import make_examples  # noqa: E402
from fpb import fpb_table, proposed_mapping  # noqa: E402

from studio.settings import Settings  # noqa: E402
from studio.vocab.examples import Example  # noqa: E402

THREADS = 0
INSTRUCTION = ""  # every FPB row's instruction


def fpb_examples(n: int) -> list[Example]:
    """The first n FPB rows as the Inputs tab reads them (sentence -> input, label -> output),
    with INSTRUCTION as each row's instruction."""
    rows = fpb_table()[:n]
    return [Example(instruction=INSTRUCTION, input=r["sentence"], output=r["label"]) for r in rows]


ARMS = {  # name: (head only at labels, packing, shared prefix once, label)
    # "-random": random batches, not grouped
    "today": (False, False, False, "today (head everywhere)"),
    "head": (True, False, False, "head only at labels"),
    "pack": (True, True, False, "head only + packing"),
    "prefix": (True, False, True, "head only + shared prefix"),
    "head-random": (True, False, False, "head only, random batches"),
    "pack-random": (True, True, False, "head only + packing, random"),
    # trainer.bf16 on a CPU with AVX512-BF16 / AMX: the Trainer's own bf16 autocast (weights
    # stay fp32), the path a run with Precision "bf16" takes.
    "head-bf16": (True, False, False, "head only + bf16 autocast"),
    "today-bf16": (False, False, False, "today + bf16 autocast"),
}


def _autocasts(trainer) -> bool:
    """Whether the Trainer's accelerator will run the forward under bf16 autocast."""
    acc = trainer.accelerator
    return bool(acc.native_amp) and acc.mixed_precision == "bf16"


def as_run(cfg: dict):
    """The TrainRun the training code reads, from this bench's config (its defaults from the
    settings table; no data files: the bench tokenizes its own examples)."""
    from studio.configs.runs import RunData, TrainRun
    from studio.configs.table import StudioSettings, run_defaults

    return TrainRun(
        model_type=cfg["model_type"],
        method=cfg["method"],
        base_model=cfg["base_model"],
        data=RunData(train=""),
        model=cfg["model"],
        quantization=cfg["quantization"],
        peft=cfg["peft"],
        tokenizer={**run_defaults("tokenizer"), **cfg["tokenizer"]},
        trainer={**run_defaults("trainer"), **cfg["trainer"]},
        studio=StudioSettings.from_dict(cfg.get("studio")),
    )


def run(cfg: dict, settings: Settings, examples: list[Example], arm: str) -> dict:
    from transformers import set_seed

    from studio.configs.training_args import training_arguments
    from studio.jobs.child import size_threads
    from studio.train.data import tokenize_all
    from studio.train.model import build_model, build_tokenizer
    from studio.train.packing import PackCollator, attention_kind
    from studio.train.sharedprefix import supports_prefix_share
    from studio.train.training import make_trainer

    size_threads()  # the threads a training job runs with
    if THREADS:
        import torch

        torch.set_num_threads(THREADS)
    set_seed(0)
    if arm.endswith("-bf16"):
        cfg = {**cfg, "trainer": {**cfg["trainer"], "bf16": True}}
    if arm.endswith("-random"):
        cfg = {**cfg, "trainer": {**cfg["trainer"], "train_sampling_strategy": "random"}}
    run = as_run(cfg)
    tok = build_tokenizer(run, settings)
    ds = tokenize_all(examples, tok, run.tokenizer, run.model_type, run.studio.response_only)
    model = build_model(run, settings, tok)
    with tempfile.TemporaryDirectory() as tmp:
        args = training_arguments(run.trainer, run.method, Path(tmp), has_eval=False)
        trainer = make_trainer(run, model, tok, ds, None, args, [])
        if arm.endswith("-bf16") and not _autocasts(trainer):
            raise SystemExit("bf16 arm: the Trainer does not autocast on this machine")
        head_only, packing, share_prefix, _ = ARMS[arm]
        trainer.head_only = head_only
        trainer.share_prefix = share_prefix and supports_prefix_share(model, cfg["model_type"])
        if share_prefix and not trainer.share_prefix:
            raise SystemExit("prefix arm: this model does not support a shared prefix")
        shapes: list[tuple[int, int, int]] = []  # (rows, width, real tokens) per packed batch
        if packing:
            packer = PackCollator(
                tok.pad_token_id, int(cfg["tokenizer"]["max_length"]), attention_kind(model)
            )

            def collate(rows_in, packer=packer):
                batch = packer(rows_in)
                rows, width = batch["input_ids"].shape
                shapes.append((rows, width, sum(len(r["input_ids"]) for r in rows_in)))
                return batch

            trainer.packer = collate
        load = os.getloadavg()[0]
        t0, c0 = time.perf_counter(), time.process_time()
        trainer.train()
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    real = trainer.state.num_input_tokens_seen  # the non-padding tokens the steps trained on
    # The loader collates one batch ahead of the training loop: count the trained ones only.
    steps = trainer.state.global_step
    trained = shapes[:steps]
    cells = sum(r * w for r, w, _ in trained)
    return {
        "wall_s": wall,
        "cpu_s": cpu,
        "load": load,
        "tokens_per_s": real / wall,
        "tokens_per_cpu_s": real / cpu,
        "losses": losses,
        "rows": sum(r for r, _, _ in trained),
        "examples": steps * trainer.args.train_batch_size,
        "padding": 1 - sum(t for _, _, t in trained) / cells if cells else None,
        "shared": trainer.shared_batches,  # steps whose loss ran the shared prefix once
        "steps": steps,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="packaged:SmolLM2-135M-Instruct")
    parser.add_argument("--examples", type=int, default=96)
    parser.add_argument(
        "--max-steps",
        type=int,
        default=-1,
        help="train this many steps of the epoch (-1: all); with many --examples, the batches "
        "are length-grouped as in a real run (sorted within mega-batches of 256)",
    )
    parser.add_argument("--data", default="fpb,spread")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: all cores)")
    parser.add_argument("--max-length", type=int, default=512, help="the SmolLM2 template's")
    parser.add_argument("--arms", default="today,head,pack", help=f"from {sorted(ARMS)}")
    parser.add_argument(
        "--instruction",
        default="",
        help="every fpb row's instruction: 'proposed' (the Inputs tab's proposal for the FPB "
        "table), any other text as it is, or none (the default)",
    )
    parser.add_argument(
        "--lora-dropout",
        type=float,
        default=0.0,
        help="LoRA dropout (the templates' is 0.05); 0 keeps the arms' loss curves comparable",
    )
    opts = parser.parse_args()
    global THREADS, INSTRUCTION
    THREADS, INSTRUCTION = opts.threads, opts.instruction
    if INSTRUCTION == "proposed":
        INSTRUCTION = proposed_mapping().instruction_text
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
            "lora_dropout": opts.lora_dropout,
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
        "tokenizer": {"max_length": opts.max_length, "prompt_format": "sections", "add_eos": True},
        "trainer": {
            "num_train_epochs": 1,
            "max_steps": opts.max_steps,
            "learning_rate": 5e-4,
            "logging_steps": 1,
            "per_device_train_batch_size": opts.batch_size,
            "save_strategy": "no",
            "seed": 0,
        },
        "studio": {"response_only": True},
    }
    makers = {"fpb": fpb_examples, "spread": make_examples}
    arms = opts.arms.split(",")
    print(
        f"model {opts.model}, {opts.examples} examples per data set, batch {opts.batch_size}, "
        f"max steps {opts.max_steps}, "
        f"max_length {opts.max_length}, length-grouped, 1 epoch each, mirrored order, "
        f"mean of 2 runs, LoRA dropout {opts.lora_dropout}, fpb instruction "
        f"{INSTRUCTION or 'none'!r}",
        flush=True,
    )
    run(cfg, settings, fpb_examples(16), arms[-1])  # warm-up
    for data in opts.data.split(","):
        examples = makers[data](opts.examples)
        runs: dict[str, list[dict]] = {a: [] for a in arms}
        for arm in arms + arms[::-1]:
            runs[arm].append(run(cfg, settings, examples, arm))
            r = runs[arm][-1]
            print(
                f"  {data} {arm}: wall {r['wall_s']:.1f} s, CPU {r['cpu_s']:.1f} s, "
                f"load {r['load']:.1f}",
                flush=True,
            )
        speed = {a: sum(r["tokens_per_s"] for r in rs) / 2 for a, rs in runs.items()}
        cpu = {a: sum(r["tokens_per_cpu_s"] for r in rs) / 2 for a, rs in runs.items()}
        wall = {a: sum(r["wall_s"] for r in rs) / 2 for a, rs in runs.items()}
        load = {a: sum(r["load"] for r in rs) / 2 for a, rs in runs.items()}
        base = runs[arms[0]][0]["losses"]
        print(f"{data}: loss curve {base[0]:.3f} -> {base[-1]:.3f} over {len(base)} steps")
        for arm in arms:
            diff = max(abs(a - b) for a, b in zip(base, runs[arm][0]["losses"], strict=True))
            extra = ""
            if ARMS[arm][2]:
                extra = (
                    f", prefix shared in {runs[arm][0]['shared']} of {runs[arm][0]['steps']} steps"
                )
            if runs[arm][0]["rows"]:
                extra = (
                    f", {runs[arm][0]['rows']} rows for "
                    f"{runs[arm][0]['examples']} examples, "
                    f"padding {runs[arm][0]['padding']:.1%}"
                )
            print(
                f"{data:7s} {ARMS[arm][3]:26s} wall {wall[arm]:7.1f} s {speed[arm]:7.1f} real "
                f"tokens/s {cpu[arm]:7.1f} real tokens/CPU-s (load {load[arm]:.1f}); "
                f"vs {arms[0]}: {speed[arm] / speed[arms[0]]:.2f}x wall, "
                f"{cpu[arm] / cpu[arms[0]]:.2f}x CPU; loss difference {diff:.2e}{extra}",
                flush=True,
            )


if __name__ == "__main__":
    main()
