"""QLoRA on a CPU vs LoRA: step time and memory of SmolLM2-135M on Financial PhraseBank rows.

Each mode trains the packaged SmolLM2-135M-Instruct through `python -m studio.train` with
the SmolLM2 templates' own settings (LoRA r16 on every linear layer, batch 8, max length 64,
no evaluation, no checkpoints) for a few steps on the same FPB rows, with the Inputs tab's
proposed instruction:

    lora       the "SmolLM2-135M-Instruct LoRA" template: fp32 base
    qlora      the "SmolLM2-135M-Instruct QLoRA" template: NF4 base, fp32 compute
    qlora-bf16 the same with bf16 compute (only on a CPU with AVX512-BF16 or AMX)
    int8       8-bit base (bitsandbytes LLM.int8 on its CPU backend)

Runs go in mirrored order (A B C D D C B A) so drift favours none; each figure is the mean
of its runs. Reported per mode: the mean step time (wall, steps 2..N: the first step pays
for warm-up), the training process's CPU seconds per step, the model's weight memory
(get_memory_footprint), the process's resident memory while training (the largest RSS the
metrics log) and its peak RSS (loading included, from the kernel's rusage).

    python bench/bench_qlora.py                       # 8 steps, 2 rounds, 1 thread
    python bench/bench_qlora.py --steps 12 --rounds 3 --threads 2 --modes lora,qlora
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import mean

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from fpb import fpb_table, proposed_mapping  # noqa: E402

MODES = {
    "lora": ("smollm2-135m-lora", {}),
    "qlora": ("smollm2-135m-qlora", {}),
    "qlora-bf16": ("smollm2-135m-qlora", {"bnb_4bit_compute_dtype": "bfloat16"}),
    "int8": ("smollm2-135m-qlora", None),  # None: the quantization dict is 8-bit
}
INT8 = {"load_in_8bit": True}


def models_dir() -> Path:
    """The studio's models folder (the packaged SmolLM2 is converted there once)."""
    from studio.models.resolve import ensure_packaged_model
    from studio.settings import Settings

    settings = Settings.from_env()
    ensure_packaged_model(settings)
    return settings.models_dir


def fpb_examples(n: int):
    """The first n FPB rows as the Inputs tab maps them (its proposed instruction)."""
    from studio.vocab.examples import Example

    instruction = proposed_mapping().instruction_text
    return [
        Example(instruction=instruction, input=row["sentence"], output=row["label"])
        for row in fpb_table()[:n]
    ]


def run_config(mode: str, data: Path, home: Path, steps: int) -> dict:
    """The template's run config for `mode`, on the FPB rows in `data`."""
    from studio.configs import CPU_ONLY
    from studio.configs.defaults import default_dicts, trained_method
    from studio.configs.runs import TrainRun
    from studio.templates import get_template

    key, quant = MODES[mode]
    template = get_template(key)
    dicts = default_dicts(template, hardware=CPU_ONLY)
    if quant is None:
        dicts["quantization"] = dict(INT8)
    else:
        dicts["quantization"].update(quant)
    dicts["tokenizer"]["max_length"] = 64
    dicts["trainer"].update(
        max_steps=steps,
        per_device_train_batch_size=8,
        gradient_accumulation_steps=1,
        eval_strategy="no",
        save_strategy="no",
        logging_steps=1,
    )
    n = sum(1 for _ in (data / "train.jsonl").open())
    return TrainRun(
        model_type="causal",
        method=trained_method(template.method, template.base_model, dicts),
        template=key,
        base_model=template.base_model,
        **dicts,
        data={
            "version_id": "fpb",
            "train": str(data / "train.jsonl"),
            "valid": str(data / "valid.jsonl"),
            "n_rows": n,
            "n_rejected": 0,
            "valid_pct": 0.0,
            "seed": 42,
            "response_only": True,
            "resplit": False,
        },
        studio_home=str(home),
        models_dir=str(models_dir()),
    ).to_dict()


def _train_lines(run_dir: Path) -> list[dict]:
    path = run_dir / "metrics.jsonl"
    if not path.is_file():
        return []
    lines = [json.loads(x) for x in path.read_text().splitlines() if x.strip()]
    return [m for m in lines if m.get("type") == "train"]


def train_once(cfg: dict, run_dir: Path, threads: int) -> dict:
    """Run the entry point: step time, CPU seconds per step (the process's CPU clock read
    when step 1 and the last step are logged), RSS while training, peak RSS."""
    import psutil

    run_dir.mkdir(parents=True)
    (run_dir / "config.json").write_text(json.dumps({**cfg, "run_dir": str(run_dir)}))
    env = {**os.environ, "STUDIO_TRAIN_THREADS": str(threads), "PYTHONPATH": str(ROOT)}
    cpu_at: dict[int, float] = {}
    with (run_dir / "train.log").open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "studio.train", str(run_dir)],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            env=env,
        )
        watched = psutil.Process(proc.pid)
        while True:
            done, _, usage = os.wait4(proc.pid, os.WNOHANG)  # this child's own rusage
            if done:
                break
            seen = len(_train_lines(run_dir))
            if seen and seen not in cpu_at:
                try:
                    times = watched.cpu_times()
                    cpu_at[seen] = times.user + times.system
                except psutil.Error:
                    pass
            time.sleep(0.05)
    result = json.loads((run_dir / "status.json").read_text())
    if result["status"] != "succeeded":
        log_tail = (run_dir / "train.log").read_text()[-2000:]
        raise SystemExit(f"{run_dir}: {result['reason']}\n{log_tail}")
    steps = _train_lines(run_dir)
    span = steps[-1]["elapsed_s"] - steps[0]["elapsed_s"]
    first, last = min(cpu_at), max(cpu_at)
    return {
        "step_s": span / (len(steps) - 1),
        "cpu_step_s": (cpu_at[last] - cpu_at[first]) / max(1, last - first),
        "train_rss_mb": max(m["memory_mb"] for m in steps),
        "peak_rss_mb": usage.ru_maxrss / 1024,
        "steps": len(steps),
    }


def weights_mb(mode: str, home: Path) -> float:
    """The loaded model's weight memory in this mode (in a child: one model at a time)."""
    code = (
        "import json, sys\n"
        "from studio.settings import Settings\n"
        "from studio.models.loading import load_model\n"
        "cfg = json.loads(sys.argv[1])\n"
        "s = Settings.from_env(home=__import__('pathlib').Path(cfg['studio_home']))\n"
        "m = load_model(cfg['base_model'], s, 'causal', cfg['model'], cfg['quantization'] or None)\n"
        "print('MB', m.get_memory_footprint() / 2**20)\n"
    )
    cfg = run_config(mode, home / "data", home / "home", 1)
    out = subprocess.run(
        [sys.executable, "-c", code, json.dumps(cfg)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    return float(out.stdout.split("MB", 1)[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--modes", default="lora,qlora,qlora-bf16,int8")
    opts = parser.parse_args()
    from studio.configs.hardware import cpu_bf16_support
    from studio.vocab.examples import Example  # noqa: F401 (fpb_examples)

    modes = [m for m in opts.modes.split(",") if m]
    if "qlora-bf16" in modes and not cpu_bf16_support():
        print("qlora-bf16 skipped: this CPU has no bf16 instructions")
        modes.remove("qlora-bf16")
    work = Path(tempfile.mkdtemp(prefix="bench-qlora-"))
    data = work / "data"
    data.mkdir()
    rows = fpb_examples(opts.steps * 8 + 8)
    for name, part in (("train", rows[:-8]), ("valid", rows[-8:])):
        (data / f"{name}.jsonl").write_text("".join(json.dumps(e.to_dict()) + "\n" for e in part))
    print(
        f"load: {os.getloadavg()[0]:.2f} (1 min), {os.cpu_count()} cores, {opts.threads} thread(s)"
    )
    results: dict[str, list[dict]] = {m: [] for m in modes}
    order = [m for r in range(opts.rounds) for m in (modes if r % 2 == 0 else modes[::-1])]
    for i, mode in enumerate(order):
        cfg = run_config(mode, data, work / "home", opts.steps)
        started = time.time()
        results[mode].append(train_once(cfg, work / f"run-{i}-{mode}", opts.threads))
        print(
            f"  {mode:<10} run {len(results[mode])}: {results[mode][-1]} "
            f"({time.time() - started:.0f} s, load {os.getloadavg()[0]:.2f})",
            flush=True,
        )
    base = mean(r["step_s"] for r in results[modes[0]])
    base_cpu = mean(r["cpu_step_s"] for r in results[modes[0]])
    print(
        f"\n| mode | weights | RSS training | peak RSS | step (wall) | vs {modes[0]} | CPU s/step | vs {modes[0]} |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for mode in modes:
        rs = results[mode]
        step, cpu = mean(r["step_s"] for r in rs), mean(r["cpu_step_s"] for r in rs)
        print(
            f"| {mode} | {weights_mb(mode, work):.0f} MB | "
            f"{mean(r['train_rss_mb'] for r in rs):.0f} MB | "
            f"{mean(r['peak_rss_mb'] for r in rs):.0f} MB | {step:.2f} s | {step / base:.2f}x | "
            f"{cpu:.2f} s | {cpu / base_cpu:.2f}x |"
        )
    print(f"load at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
