"""Batching benchmark: the studio's length-grouped batches vs two plain-Trainer baselines.

Same model, same data, same Trainer settings, one epoch each, in this one process:
  padded:   random order, every example padded to max_length (a fixed-shape recipe)
  dynamic:  random order, each batch padded to its own longest row (a plain Trainer with
            DataCollatorWithPadding: the fair baseline)
  grouped:  the studio: length-grouped batches padded to their own longest row
A short warm-up run comes first, and the runs go in mirrored order (A B C C B A) so neither
warm-up nor drift favours one; each figure is the mean of its two runs. Prints wall time,
tokens/s (real, non-padding tokens), the padding share of each, and the ratios.

    python bench/bench_batching.py                       # tiny Llama (fast)
    python bench/bench_batching.py --model packaged:SmolLM2-135M-Instruct --examples 64
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from studio.settings import Settings  # noqa: E402
from studio.vocab.examples import Example  # noqa: E402

WORDS = "the bees forage on clover while the hive keeps its brood warm and the keeper".split()


def make_examples(n: int, seed: int = 0) -> list[Example]:
    """Instruction data with a realistic spread of lengths (a few words to ~200)."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        n_words = int(min(200, max(3, rng.lognormvariate(3.2, 0.9))))
        text = " ".join(rng.choice(WORDS) for _ in range(n_words))
        out.append(
            Example(
                instruction="Summarise the note.", input=text, output=" ".join(text.split()[:6])
            )
        )
    return out


def tiny_model_dir(settings: Settings) -> str:
    """A tiny random Llama with the packaged tokenizer (built once under models_dir)."""
    out = settings.models_dir / "bench-tiny-llama"
    if (out / "config.json").is_file():
        return str(out)
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    from studio.models.loading import load_tokenizer
    from studio.models.resolve import PACKAGED_REF

    tok = load_tokenizer(PACKAGED_REF, settings)
    torch.manual_seed(0)
    cfg = LlamaConfig(
        vocab_size=len(tok),
        hidden_size=128,
        intermediate_size=384,
        num_hidden_layers=4,
        num_attention_heads=4,
        num_key_value_heads=4,
        max_position_embeddings=1024,
        pad_token_id=tok.pad_token_id,
        eos_token_id=tok.eos_token_id,
        tie_word_embeddings=True,
    )
    LlamaForCausalLM(cfg).save_pretrained(out)
    tok.save_pretrained(out)
    return str(out)


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


def run(cfg: dict, settings: Settings, batching: str, examples: list[Example]) -> dict:
    from transformers import set_seed

    from studio.configs.training_args import training_arguments
    from studio.jobs.child import size_threads
    from studio.train.batching import LengthGroupedSampler, padding_fraction
    from studio.train.data import tokenize_all
    from studio.train.model import build_model, build_tokenizer
    from studio.train.training import make_trainer

    size_threads()  # the threads a training job runs with
    set_seed(0)
    run = as_run(cfg)
    tok = build_tokenizer(run, settings)
    ds = tokenize_all(examples, tok, run.tokenizer, run.model_type, run.studio.response_only)
    model = build_model(run, settings, tok)
    with tempfile.TemporaryDirectory() as tmp:
        args = training_arguments(run.trainer, run.method, Path(tmp), has_eval=False)
        trainer = make_trainer(run, model, tok, ds, None, args, [], batching=batching)
        t0 = time.perf_counter()
        trainer.train()
        wall = time.perf_counter() - t0
    bs = cfg["trainer"]["per_device_train_batch_size"]
    if batching == "grouped":
        pad = padding_fraction(LengthGroupedSampler(ds.lengths, bs, 0).batches(), ds.lengths)
    else:
        idx = list(range(len(ds)))
        random.Random(0).shuffle(idx)
        batches = [idx[i : i + bs] for i in range(0, len(idx), bs)]
        pad_to = cfg["tokenizer"]["max_length"] if batching == "padded" else None
        pad = padding_fraction(batches, ds.lengths, pad_to=pad_to)
    real = sum(ds.lengths)
    return {"wall_s": wall, "tokens_per_s": real / wall, "padding": pad}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="", help="model ref (default: a tiny random Llama)")
    parser.add_argument("--examples", type=int, default=256)
    parser.add_argument("--max-length", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=8)
    opts = parser.parse_args()
    settings = Settings.from_env()
    settings.ensure_dirs()
    base = opts.model or tiny_model_dir(settings)
    cfg = {
        "model_type": "causal",
        "method": "lora",
        "base_model": base,
        "model": {"dtype": "float32"},
        "quantization": {},
        "peft": {
            "r": 8,
            "lora_alpha": 16,
            "lora_dropout": 0.0,
            "target_modules": ["q_proj", "v_proj"],
            "task_type": "CAUSAL_LM",
        },
        "tokenizer": {"max_length": opts.max_length, "prompt_format": "sections", "add_eos": True},
        "trainer": {
            "num_train_epochs": 1,
            "learning_rate": 2e-4,
            "logging_steps": 10**6,
            "per_device_train_batch_size": opts.batch_size,
            "save_strategy": "no",
            "seed": 0,
        },
        "studio": {"response_only": True},
    }
    examples = make_examples(opts.examples)
    print(
        f"model {base}, {len(examples)} examples, max_length {opts.max_length}, "
        f"batch {opts.batch_size}, 1 epoch each, mirrored order, mean of 2 runs"
    )
    names = {
        "padded": "pad to max_length, random order",
        "dynamic": "plain Trainer: pad per batch, random order",
        "grouped": "studio: length-grouped, pad per batch",
    }
    run(cfg, settings, "grouped", examples[:16])  # warm-up: first-call costs land here
    runs: dict[str, list[dict]] = {k: [] for k in names}
    for batching in [*names, *reversed(names)]:
        runs[batching].append(run(cfg, settings, batching, examples))
    mean = {k: {m: sum(r[m] for r in rs) / len(rs) for m in rs[0]} for k, rs in runs.items()}
    for key, label in names.items():
        r = mean[key]
        print(
            f"{label:45s} wall {r['wall_s']:7.2f} s  {r['tokens_per_s']:8.0f} real tokens/s  "
            f"padding {100 * r['padding']:5.1f}%"
        )
    for key in ("padded", "dynamic"):
        ratio = mean[key]["wall_s"] / mean["grouped"]["wall_s"]
        print(f"speed-up of the studio over '{names[key]}': {ratio:.2f}x")


if __name__ == "__main__":
    main()
