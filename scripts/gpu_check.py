"""The GPU check: the CUDA paths a CPU never reaches, one line each (ok, or the error).

    bash scripts/gpu_check.sh                  # on a CUDA machine; no network needed
    bash scripts/gpu_check.sh --cpu            # a dry run on a CPU: the script itself works

On each model (the packaged SmolLM2-135M and a tiny random Mistral built here; in --cpu
mode a tiny random Llama stands in for SmolLM2), through the studio's own entry points:
  qlora-nf4-bf16   QLoRA: NF4 base, bf16 compute and bf16 mixed precision
  lora-bf16        LoRA on a bf16 base with bf16 mixed precision
  prefix-ckpt-off  the shared prompt prefix, activation checkpointing off
  prefix-ckpt-on   the same with activation checkpointing on (prefix sharing steps aside)
  generate         Generate's exact and fast paths on the LoRA run (fast: the exact model
                   on a GPU; ONNX Runtime GenAI on a CPU, once its copy is converted)
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
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# The studio's entry points the check goes through; none imports torch until it is called.
from scripts.gpu_check_runs import (  # noqa: E402
    DATA_ROWS,
    fast_answer,
    header,
    plain_trainer_steps,
    run_config,
    tiny_model,
    write_data,
)
from studio.configs.eval_run import EvalRun  # noqa: E402
from studio.evaluate.generation import greedy  # noqa: E402
from studio.export import export_merged_zip  # noqa: E402
from studio.generate.engine import Engine  # noqa: E402
from studio.generate.options import GenerationOptions  # noqa: E402
from studio.generate.prompting import PromptInput  # noqa: E402
from studio.jobs.trained import trained_model  # noqa: E402
from studio.models.hf import hf_ready  # noqa: E402
from studio.models.loading import load_model  # noqa: E402
from studio.models.resolve import PACKAGED_REF  # noqa: E402
from studio.settings import Settings  # noqa: E402
from studio.store import Store  # noqa: E402

PATHS = ("qlora-nf4-bf16", "lora-bf16", "prefix-ckpt-off", "prefix-ckpt-on")  # trained
AFTER = ("generate", "evaluate", "merged-export")  # on the lora-bf16 run
STEPS = (*PATHS, *AFTER)


class Check:
    """Runs the paths, prints one line each, keeps the tracebacks in gpu_check.log."""

    def __init__(self, work: Path, cpu: bool, steps: int):
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

    def ready_for(self, model: str, step: str) -> bool:
        """Whether `step` can run: generate and evaluate need the LoRA run, the merged export
        its exact answer."""
        if step in PATHS:
            return True
        job = self.lora_jobs.get(model)
        return job is not None and (step != "merged-export" or "exact_text" in job)

    def run(self, model: str, base: str, step: str) -> str:
        """One step of the plan: its line's detail, or an exception."""
        if step in PATHS:
            return self.train(model, base, step)
        after = {"generate": self.generate, "evaluate": self.evaluate, "merged-export": self.merged}
        return after[step](model)

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
        job = self.lora_jobs[model]
        ref = f"job:{job['id']}"
        engine = Engine(self.settings, self.store)
        prompt = PromptInput(instruction=DATA_ROWS[0][0], input=DATA_ROWS[0][1])
        exact = engine.generate(ref, prompt, GenerationOptions(max_new_tokens=8))
        fast = fast_answer(
            engine, ref, prompt, GenerationOptions(max_new_tokens=8, precision="fast")
        )
        device = engine.load(engine.spec(ref))[0].model.device
        job["exact_text"], job["prompt"] = exact.text, exact.prompt
        out = [f"{r.engine} on {device}: {r.new_tokens} tokens" for r in (exact, fast)]
        return "; ".join(out) + (f" ({fast.note})" if fast.note else "")

    def evaluate(self, model: str) -> str:
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
        from transformers import AutoTokenizer

        job = self.lora_jobs[model]
        folder = self.work / "merged" / model
        trained = trained_model(self.store, job["id"])
        with zipfile.ZipFile(export_merged_zip(self.store, self.settings, trained)) as zf:
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


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line; `steps` is filled in (20 on a GPU, 3 in the CPU dry run)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cpu", action="store_true", help="dry run on the CPU (tiny sizes)")
    parser.add_argument("--steps", type=int, default=0, help="training steps (default 20; --cpu 3)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    opts = parser.parse_args(argv)
    if opts.steps < 0:
        parser.error("--steps must be a positive number of training steps")
    opts.steps = opts.steps or (3 if opts.cpu else 20)
    return opts


def plan(cpu: bool) -> list[tuple[str, tuple[str, ...]]]:
    """(model, its steps in order) for each model the check runs."""
    first = "llama" if cpu else "smollm2"  # a tiny random Llama stands in for SmolLM2 on a CPU
    return [(model, STEPS) for model in (first, "mistral")]


def base_of(model: str, settings) -> str:
    """The model ref a check model trains from (the tiny ones are built once)."""
    return PACKAGED_REF if model == "smollm2" else str(tiny_model(model, settings))


def main(argv: list[str] | None = None) -> int:
    opts = parse_args(argv)
    # Never the network: everything is local (set before huggingface_hub is imported).
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    hf_ready()
    import torch

    if not opts.cpu and not torch.cuda.is_available():
        print("No CUDA GPU here: run `bash scripts/gpu_check.sh --cpu` for a dry run.")
        return 2
    print(header(opts.cpu), flush=True)
    work = Path(tempfile.mkdtemp(prefix="gpu-check-"))
    check = Check(work, opts.cpu, opts.steps)
    write_data(work / "data")
    started = time.perf_counter()
    for model, steps in plan(opts.cpu):
        base = base_of(model, check.settings)
        for step in steps:
            if check.ready_for(model, step):
                check.attempt(model, step, lambda m=model, b=base, s=step: check.run(m, b, s))
        check.speed(model)
    print(
        f"done in {time.perf_counter() - started:.0f} s: {check.failed} failed"
        + (" (DRY RUN on the CPU)" if opts.cpu else "")
        + f"; tracebacks in {work / 'gpu_check.log'}",
        flush=True,
    )
    check.log.close()
    if not opts.keep and not check.failed:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if check.failed else 0


if __name__ == "__main__":
    sys.exit(main())
