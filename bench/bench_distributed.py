"""Data-parallel benchmark: one process vs two (accelerate launch, gloo) at the same global batch.

The real entry point on a run folder, as the job runner starts it: one process with
per-device batch 2B (all cores) against two processes with batch B each (the cores split
between them). Same data, same global batch, so the same number of optimizer steps; the
figure is the training time the run reports in metrics.jsonl (model loading and process
start excluded), in mirrored order (1 2 2 1), mean of 2 runs. On a CPU machine this shows
what the process group costs (gloo all-reduce, per-process overhead); on GPUs each process
gets its own device, which is where data parallelism pays.

    python bench/bench_distributed.py [--examples 256 --batch-size 4]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_batching import make_examples, tiny_model_dir  # noqa: E402
from studio.settings import PROJECT_ROOT, Settings  # noqa: E402


def write_run(run_dir: Path, base: str, data: Path, batch: int, processes: int) -> Path:
    run_dir.mkdir(parents=True)
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
        "tokenizer": {"max_length": 256, "prompt_format": "sections", "add_eos": True},
        "trainer": {
            "num_train_epochs": 1,
            "learning_rate": 2e-4,
            "logging_steps": 1,
            "per_device_train_batch_size": batch,
            "save_strategy": "no",
            "eval_strategy": "no",
            "seed": 0,
        },
        "studio": {"processes": processes, "response_only": True},
        "data": {"train": str(data), "n_rows": 0, "n_rejected": 0},
        "kind": "train",
        "run_dir": str(run_dir),
    }
    (run_dir / "config.json").write_text(json.dumps(cfg))
    return run_dir


def train(run_dir: Path) -> dict:
    from studio.jobs.launch import build_command, child_env

    with (run_dir / "train.log").open("ab") as log:
        subprocess.run(
            build_command("train", run_dir),
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=PROJECT_ROOT,
            env=child_env(),
            check=True,
        )
    status = json.loads((run_dir / "status.json").read_text())
    assert status["status"] == "succeeded", status
    train = [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines()]
    last = [m for m in train if m["type"] == "train"][-1]
    return {
        "train_s": last["elapsed_s"],
        "steps": status["summary"]["steps"],
        "tokens": status["summary"]["tokens_seen"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--examples", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=4, help="per process of the pair")
    opts = parser.parse_args()
    settings = Settings.from_env()
    settings.ensure_dirs()
    base = tiny_model_dir(settings)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "train.jsonl"
        data.write_text(
            "".join(json.dumps(e.to_dict()) + "\n" for e in make_examples(opts.examples))
        )
        runs: dict[int, list[dict]] = {1: [], 2: []}
        for i, procs in enumerate((1, 2, 2, 1)):
            batch = opts.batch_size * (2 // procs)
            runs[procs].append(train(write_run(Path(tmp) / f"r{i}", base, data, batch, procs)))
    mean = {p: {k: sum(r[k] for r in rs) / len(rs) for k in rs[0]} for p, rs in runs.items()}
    for p in (1, 2):
        r = mean[p]
        print(
            f"{p} process(es), batch {opts.batch_size * (2 // p)} each: {r['steps']:.0f} steps, "
            f"training {r['train_s']:.1f} s, {r['tokens'] / r['train_s']:.0f} tokens/s"
        )
    print(
        f"two processes / one process, training time: {mean[2]['train_s'] / mean[1]['train_s']:.2f}x"
    )


if __name__ == "__main__":
    main()
