"""The GPU check: the CUDA paths a CPU never reaches, one line each (ok, or the error).

    bash scripts/gpu_check.sh                  # on a CUDA machine; no network needed
    bash scripts/gpu_check.sh --cpu            # a dry run on a CPU: the script itself works

On each model (the packaged SmolLM2-135M and a tiny random Mistral built here; in --cpu
mode a tiny random Llama stands in for SmolLM2), through the studio's own entry points:
  qlora-nf4-bf16   QLoRA: NF4 base, bf16 compute and bf16 mixed precision
  lora-bf16        LoRA on a bf16 base with bf16 mixed precision
  prefix-ckpt-off  the shared prompt prefix, activation checkpointing off
  prefix-ckpt-on   the same with activation checkpointing on (prefix sharing steps aside)
  generate         Generate's exact and fast paths on the LoRA run
  evaluate         `python -m studio.evaluate` on the LoRA run (perplexity, accuracy)
  merged-export    the merged export, reloaded, answers as the LoRA run does
then a speed line: the studio's trainer against a plain transformers Trainer + PEFT on the
same data, model, LoRA settings, batch and steps. In --cpu mode bf16 becomes fp32 (a CPU
runs bf16 only with AVX512-BF16/AMX), the sizes are tiny, and the output says so.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never the network: everything is local

from scripts.gpu_check_runs import (  # noqa: E402
    DATA_ROWS,
    plain_trainer_steps,
    run_config,
    tiny_model,
    write_data,
)

PATHS = ("qlora-nf4-bf16", "lora-bf16", "prefix-ckpt-off", "prefix-ckpt-on")


class Check:
    """Runs the paths, prints one line each, keeps the tracebacks in gpu_check.log."""

    def __init__(self, work: Path, cpu: bool, steps: int):
        from studio.settings import Settings
        from studio.store import Store

        self.work, self.cpu, self.steps = work, cpu, steps
        self.settings = Settings.from_env(
            home=work / "home", models_root=Settings.from_env().models_dir
        )
        self.settings.ensure_dirs()
        self.store = Store(self.settings.db_path, files_root=self.settings.apps_dir)
        self.app = self.store.create_app("gpu-check")
        self.log = (work / "gpu_check.log").open("w")
        self.failed = 0
        self.lora_jobs: dict[str, dict] = {}

    def line(self, ok: bool, model: str, path: str, detail: str) -> None:
        self.failed += not ok
        print(f"{'ok  ' if ok else 'FAIL'}  {model:<8} {path:<16} {detail}", flush=True)

    def attempt(self, model: str, path: str, fn) -> object:
        start = time.perf_counter()
        try:
            detail = fn()
        except Exception as exc:  # noqa: BLE001 - every path reports, none stops the check
            traceback.print_exc(file=self.log)
            first = (str(exc).strip().splitlines() or [""])[0][:200]
            self.line(False, model, path, f"{type(exc).__name__}: {first}")
            return None
        self.line(True, model, path, f"({time.perf_counter() - start:.1f} s) {detail}")
        return detail

    # -- training through `python -m studio.train` --------------------------------------
    def train(self, model: str, base: str, path: str) -> str:
        cfg = run_config(path, base, self.work / "data", self.settings, self.cpu, self.steps)
        run = self.work / "runs" / f"{model}-{path}"
        run.mkdir(parents=True)
        (run / "config.json").write_text(json.dumps({**cfg, "run_dir": str(run)}))
        with (run / "train.log").open("wb") as log:
            subprocess.run(
                [sys.executable, "-m", "studio.train", str(run)],
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
                check=False,
                timeout=900,
            )
        status = json.loads((run / "status.json").read_text())
        if status["status"] != "succeeded":
            raise RuntimeError(status["reason"])
        summary = status["summary"]
        losses = [
            m["loss"]
            for m in map(json.loads, (run / "metrics.jsonl").read_text().splitlines())
            if m.get("type") == "train"
        ]
        if not losses or any(x != x for x in losses):
            raise RuntimeError(f"the losses are not numbers: {losses}")
        job = self.store.create_job(self.app["id"], None, "train", {}, str(run))
        job = self.store.update_job(job["id"], status="succeeded", run_dir=str(run))
        if path == "lora-bf16":
            self.lora_jobs[model] = {**job, "base": base, "summary": summary, "run": run}
        prefix = ""
        if path.startswith("prefix"):
            shared = summary.get("shared_prefix_batches") or 0
            prefix = f"; prefix shared in {shared} of {summary['steps']} batches"
            if not summary.get("share_prefix"):
                # Sliding-window attention (Mistral) and checkpointing compute every row.
                prefix += " (not applied: this model or checkpointing computes each row)"
            elif not shared:
                raise RuntimeError("prefix sharing was on but no batch shared its prefix")
            if path == "prefix-ckpt-off" and model != "mistral" and not summary.get("share_prefix"):
                raise RuntimeError("the shared prompt prefix was not applied")
        return f"loss {losses[0]:.3f} -> {losses[-1]:.3f}, {summary['steps']} steps{prefix}"

    # -- after training: generation, evaluation, the merged export -----------------------
    def generate(self, model: str) -> str:
        from studio.generate.engine import Engine
        from studio.generate.options import GenerationOptions
        from studio.generate.prompting import PromptInput

        job = self.lora_jobs[model]
        engine = Engine(self.settings, self.store)
        prompt = PromptInput(instruction=DATA_ROWS[0][0], input=DATA_ROWS[0][1])
        out = []
        for precision in ("exact", "fast"):
            options = GenerationOptions(max_new_tokens=8, precision=precision)
            result = engine.generate(f"job:{job['id']}", prompt, options)
            device = engine.load(engine.spec(f"job:{job['id']}"))[0].model.device
            out.append(f"{result.engine} on {device}: {result.new_tokens} tokens")
        job["exact_text"] = engine.generate(
            f"job:{job['id']}", prompt, GenerationOptions(max_new_tokens=8)
        ).text
        job["prompt"] = result.prompt
        return "; ".join(out)

    def evaluate(self, model: str) -> str:
        from studio.configs.runs import EvalRun

        job = self.lora_jobs[model]
        cfg = EvalRun(
            adapter_dir=str(job["run"] / "adapter"),
            metrics=["perplexity", "classification"],
            model_ref=f"job:{job['id']}",
            train_job_id=job["id"],
            train_run_dir=str(job["run"]),
            examples=str(self.work / "data" / "valid.jsonl"),
            split="valid",
            labels=["negative", "neutral", "positive"],
            task="classification",
            studio_home=str(self.settings.home),
            models_dir=str(self.settings.models_dir),
        ).to_dict()
        run = self.work / "evals" / model
        run.mkdir(parents=True)
        (run / "config.json").write_text(json.dumps({**cfg, "run_dir": str(run)}))
        subprocess.run(
            [sys.executable, "-m", "studio.evaluate", str(run)],
            capture_output=True,
            cwd=ROOT,
            check=False,
            timeout=900,
        )
        status = json.loads((run / "status.json").read_text())
        if status["status"] != "succeeded":
            raise RuntimeError(status["reason"])
        results = json.loads((run / "results.json").read_text())
        ppl = results["perplexity"]["tuned"]["perplexity"]
        accuracy = results["classification"]["tuned"]["accuracy"]
        return f"perplexity {ppl:.2f}, accuracy {accuracy:.2f}"

    def merged(self, model: str) -> str:
        import zipfile

        from transformers import AutoTokenizer

        from studio.evaluate.generation import greedy
        from studio.export import export_merged_zip
        from studio.models.loading import load_model

        job = self.lora_jobs[model]
        folder = self.work / "merged" / model
        with zipfile.ZipFile(export_merged_zip(self.store, self.settings, job["id"])) as zf:
            zf.extractall(folder)
        merged = load_model(str(folder), self.settings).eval()
        answer = greedy(merged, AutoTokenizer.from_pretrained(folder), job["prompt"], 8)
        if answer != job["exact_text"].strip():
            raise RuntimeError(f"merged {answer!r} != tuned {job['exact_text']!r}")
        return f"answers as the tuned model on {merged.device}"

    def speed(self, model: str) -> None:
        """The studio's trainer vs a plain Trainer + PEFT: seconds per step, same data."""
        job = self.lora_jobs.get(model)
        if job is None:
            return
        steps = [
            m
            for m in map(json.loads, (job["run"] / "metrics.jsonl").read_text().splitlines())
            if m.get("type") == "train"
        ]
        studio_s = (steps[-1]["elapsed_s"] - steps[0]["elapsed_s"]) / max(1, len(steps) - 1)
        try:
            plain_s = plain_trainer_steps(job["run"] / "config.json", self.work / "plain" / model)
        except Exception as exc:  # noqa: BLE001
            traceback.print_exc(file=self.log)
            print(f"speed {model}: the plain Trainer baseline failed: {exc}", flush=True)
            return
        print(
            f"speed {model:<8} studio trainer {studio_s:.3f} s/step vs plain Trainer + PEFT "
            f"{plain_s:.3f} s/step on the same data: {plain_s / studio_s:.2f}x",
            flush=True,
        )


def header(cpu: bool) -> str:
    import bitsandbytes
    import torch
    import transformers

    versions = (
        f"torch {torch.__version__}, transformers {transformers.__version__}, "
        f"bitsandbytes {bitsandbytes.__version__}"
    )
    if cpu:
        return (
            "DRY RUN on the CPU (--cpu): tiny sizes, fp32 where the GPU paths use bf16. It "
            f"proves the script runs end to end, not the GPU paths ({versions})."
        )
    name = torch.cuda.get_device_name(0)
    return f"GPU check on {name}, CUDA {torch.version.cuda} ({versions})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cpu", action="store_true", help="dry run on the CPU (tiny sizes)")
    parser.add_argument("--steps", type=int, default=0, help="training steps (default 20; --cpu 3)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    opts = parser.parse_args()
    from studio.models.hf import hf_ready

    hf_ready()
    import torch

    if not opts.cpu and not torch.cuda.is_available():
        print("No CUDA GPU here: run `bash scripts/gpu_check.sh --cpu` for a dry run.")
        return 2
    steps = opts.steps or (3 if opts.cpu else 20)
    print(header(opts.cpu), flush=True)
    work = Path(tempfile.mkdtemp(prefix="gpu-check-"))
    check = Check(work, opts.cpu, steps)
    write_data(work / "data")
    from studio.models.resolve import PACKAGED_REF

    first = (
        ("llama", str(tiny_model("llama", check.settings)))
        if opts.cpu
        else ("smollm2", PACKAGED_REF)
    )
    models = [first, ("mistral", str(tiny_model("mistral", check.settings)))]
    started = time.perf_counter()
    for model, base in models:
        for path in PATHS:
            check.attempt(model, path, lambda m=model, b=base, p=path: check.train(m, b, p))
        if model in check.lora_jobs:
            check.attempt(model, "generate", lambda m=model: check.generate(m))
            check.attempt(model, "evaluate", lambda m=model: check.evaluate(m))
            if "exact_text" in check.lora_jobs[model]:
                check.attempt(model, "merged-export", lambda m=model: check.merged(m))
        check.speed(model)
    print(
        f"done in {time.perf_counter() - started:.0f} s: {check.failed} failed"
        + (" (DRY RUN on the CPU)" if opts.cpu else "")
        + f"; tracebacks in {work / 'gpu_check.log'}",
        flush=True,
    )
    check.log.close()
    if not opts.keep and not check.failed:
        import shutil

        shutil.rmtree(work, ignore_errors=True)
    return 1 if check.failed else 0


if __name__ == "__main__":
    sys.exit(main())
