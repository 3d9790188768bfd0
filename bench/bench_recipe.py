"""Recipe benchmark: which template defaults give the best model in a few minutes of CPU.

Financial PhraseBank (the train file in ../shared/datasets/) is split once, seeded and
stratified by label, into a tuning part and a held-out part. Each recipe is trained on the
tuning part exactly as the Train button does it (dataset version created from the CSV as an
upload, model saved from the template's defaults + the recipe's overrides, run config from
start_training (the checks, then the job queued), then `python -m studio.train RUN_DIR`), and scored on the held-out
part with the studio's own evaluation (label probabilities, studio.evaluate.run). A
generation-style task (the summarisation sample) is scored the same way with the studio's
text metrics (ROUGE / BLEU), so the winner is not tuned to classification alone.

    python bench/bench_recipe.py --recipes default,lr5e-4 --max-steps 60   # the sweep
    python bench/bench_recipe.py --recipes default                         # 10-minute budget
    python bench/bench_recipe.py --task summarisation --recipes default --max-steps 40

Results are appended to bench/results/recipe.jsonl (git-ignored), one line per run.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from fpb import fpb_table, proposed_mapping  # noqa: E402

SUMMARIES = ROOT / "sample_data" / "summarization.jsonl"
RESULTS = ROOT / "bench" / "results"

# Overrides of the template's form values (studio.configs.hyper names), by recipe name.
RECIPES: dict[str, dict] = {
    "default": {},
    # The SmolLM2 template before this benchmark: all linear layers, r=8, lr 2e-4, no warm-up.
    "old-default": {
        "learning_rate": 2e-4,
        "lora_r": 8,
        "lora_alpha": 16,
        "warmup_steps": 0,
        "lr_scheduler": "linear",
    },
    "lr2e-4": {"learning_rate": 2e-4},
    "lr5e-4": {"learning_rate": 5e-4},
    "lr1e-3": {"learning_rate": 1e-3},
    "r8": {"lora_r": 8, "lora_alpha": 16},
    "r16": {"lora_r": 16, "lora_alpha": 32},
    "attn-only": {"target_modules": ["q_proj", "k_proj", "v_proj", "o_proj"]},
    "cosine": {"lr_scheduler": "cosine"},
    "linear": {"lr_scheduler": "linear"},
    "warmup0": {"warmup_steps": 0},
    "warmup10": {"warmup_steps": 10},
    # Batch size at an equal number of examples (800 at the sweep's 100 steps of 8).
    "bs4": {"batch_size": 4, "max_steps": 200},
    "bs16": {"batch_size": 16, "max_steps": 50},
    # Precision, the rest as the defaults: bf16 autocast needs a bf16 GPU or a CPU with
    # AVX512-BF16 / AMX (validation refuses it elsewhere).
    "default-bf16": {"precision": "bf16"},
    "default-fp32": {"precision": "fp32"},
}


def split_fpb(heldout_pct: float, seed: int) -> tuple[list[dict], list[dict]]:
    """(tuning rows, held-out rows) of the FPB CSV, stratified by label, seeded."""
    rows = fpb_table()
    by_label: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        by_label[row["label"]].append(row)
    rng = random.Random(seed)
    tuning, heldout = [], []
    for label in sorted(by_label):
        group = by_label[label]
        rng.shuffle(group)
        cut = round(len(group) * heldout_pct / 100)
        heldout += group[:cut]
        tuning += group[cut:]
    rng.shuffle(tuning)
    rng.shuffle(heldout)
    return tuning, heldout


def write_csv(path: Path, rows: list[dict]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def studio(home: Path):
    from studio.jobs.scheduler import JobRunner
    from studio.settings import Settings
    from studio.store import Store

    settings = Settings.from_env(home=home)
    settings.ensure_dirs()
    store = Store(settings.db_path, settings.apps_dir)
    store.migrate()
    return settings, store, JobRunner(store, settings)


def upload(
    store, settings, app_id: str, name: str, path: Path, valid_pct: float, mapping=None
) -> dict:
    """A dataset version made from the file as the Inputs tab makes it (detected mapping,
    or `mapping`)."""
    from studio.data.versions import create_version

    version, _ = create_version(store, settings, app_id, name, [path], mapping, valid_pct=valid_pct)
    return version


def train(
    store,
    settings,
    runner,
    app_id: str,
    version_id: str,
    name: str,
    overrides: dict,
    budget_min: float | None,
    max_steps: int | None,
) -> dict:
    """Save the model from the default template + overrides, queue it, train it; the job."""
    from studio.actions.ownership import Caller
    from studio.actions.save_model import save_model
    from studio.actions.start_training import start_training
    from studio.configs import default_dicts, default_hyper
    from studio.configs.hyper import apply_hyperparameters
    from studio.jobs.launch import build_command, child_env
    from studio.templates import DEFAULT_TEMPLATE, get_template

    template = get_template(DEFAULT_TEMPLATE)
    hyper = {**default_hyper(template), **overrides}
    # The form takes the validation share from the chosen version (no re-split).
    hyper["valid_pct"] = float(store.get_dataset_version(version_id)["valid_pct"])
    if budget_min is not None:
        hyper["time_budget_min"] = budget_min
    if max_steps:
        # A recipe may fix its own step count (batch size compared at equal examples).
        hyper["max_steps"] = overrides.get("max_steps", max_steps)
        hyper["time_budget_min"] = 0.0
    dicts = apply_hyperparameters(default_dicts(template, "causal"), hyper)
    caller = Caller.local(settings)
    model = save_model(
        store, settings, caller, app_id, name, template.key, "causal", version_id, hyper, dicts
    )
    job = start_training(store, settings, runner, caller, app_id, model["id"])
    run_dir = Path(job["run_dir"])
    store.update_job(job["id"], status="running", started_at=time.time())
    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    with (run_dir / "train.log").open("ab") as log:
        subprocess.run(
            build_command("train", run_dir),
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=str(ROOT),
            env=child_env(),
            check=False,
        )
    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    # The training process's CPU time: a fairer speed figure than wall time on a busy machine.
    train_cpu_s = (cpu1.ru_utime + cpu1.ru_stime) - (cpu0.ru_utime + cpu0.ru_stime)
    status = json.loads((run_dir / "status.json").read_text())
    store.update_job(
        job["id"],
        status=status["status"],
        reason=status["reason"],
        summary=status["summary"],
        finished_at=time.time(),
    )
    return {**store.get_job(job["id"]), "status_json": status, "train_cpu_s": train_cpu_s}


def evaluate(
    store, settings, job_id: str, version_id: str, metrics: list[str], max_examples: int
) -> dict:
    """The Evaluate tab's evaluation of the job on a dataset version (tuned model only)."""
    from studio.actions.start_evaluation import build_eval_config
    from studio.evaluate.pair import ModelPair
    from studio.evaluate.run import evaluate as run_evaluation
    from studio.jobs.child import size_threads
    from studio.jobs.trained import trained_model

    size_threads()  # the threads an evaluation job runs with

    # The base model scores the same for every recipe and would double each evaluation's
    # time (the tab compares tuned vs base): score the tuned model only.
    ModelPair.has_base = property(lambda self: False)

    model = trained_model(store, job_id)
    cfg = build_eval_config(store, settings, model, version_id, metrics, max_examples=max_examples)
    run_dir = settings.home / "bench-evals" / job_id
    run_dir.mkdir(parents=True, exist_ok=True)
    return run_evaluation(run_dir, cfg)


def evaluate_runs(store, settings, opts) -> None:
    """Score finished training jobs on the held-out version of their own app."""
    task = "fpb" if opts.task == "fpb" else "sum"
    metrics = ["classification"] if opts.task == "fpb" else ["text"]
    for job_id in opts.evaluate_runs.split(","):
        job = store.get_job(job_id)
        held = next(
            v
            for v in store.list_dataset_versions(job["app_id"])
            if v["dataset_name"] == f"{task}-heldout"
        )
        results = evaluate(store, settings, job_id, held["id"], metrics, opts.heldout_max)
        key = "classification" if opts.task == "fpb" else "text"
        print(json.dumps({"job": job_id, **results[key]["tuned"]}, default=str), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--recipes", default="default", help=f"comma list of {sorted(RECIPES)}")
    parser.add_argument("--task", choices=("fpb", "summarisation"), default="fpb")
    parser.add_argument(
        "--budget-min",
        type=float,
        default=None,
        help="time budget (default: the template's, 10 minutes on CPU)",
    )
    parser.add_argument(
        "--max-steps",
        type=int,
        default=0,
        help="a fixed number of steps instead of the budget (fair sweep "
        "on a machine whose load changes)",
    )
    parser.add_argument(
        "--instruction",
        choices=("none", "proposed"),
        default="none",
        help="fpb: give every row the instruction the Inputs tab proposes for the table "
        "(what a user who keeps it trains on); none: the bare sentence",
    )
    parser.add_argument("--heldout-pct", type=float, default=15.0)
    parser.add_argument(
        "--valid-pct",
        type=float,
        default=10.0,
        help="validation share of the tuning version (the in-training "
        "evaluation; smaller = cheaper on a slow machine)",
    )
    parser.add_argument("--heldout-max", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--base-model",
        default="",
        help="another base (a quick check of the "
        "bench itself on a tiny model); default: the template's",
    )
    parser.add_argument("--home", default=str(RESULTS / "recipe_home"))
    parser.add_argument(
        "--evaluate-runs",
        default="",
        help="comma list of finished training job ids in --home: score them on the held-out "
        "part instead of training (an evaluation that was interrupted)",
    )
    opts = parser.parse_args()
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    RESULTS.mkdir(parents=True, exist_ok=True)
    settings, store, runner = studio(Path(opts.home))
    if opts.evaluate_runs:
        evaluate_runs(store, settings, opts)
        return
    app = store.create_app(f"recipe-{opts.task}-{int(time.time())}")
    data_dir = settings.home / "bench-data"
    data_dir.mkdir(parents=True, exist_ok=True)
    if opts.task == "fpb":
        tuning, heldout = split_fpb(opts.heldout_pct, opts.seed)
        tune_csv = write_csv(data_dir / "fpb_tuning.csv", tuning)
        # The held-out rows are asked the same way as the tuning rows.
        mapping = proposed_mapping(tune_csv) if opts.instruction == "proposed" else None
        if mapping is not None:
            print(f"instruction: {mapping.instruction_text}", flush=True)
        tune_v = upload(store, settings, app["id"], "fpb-tuning", tune_csv, opts.valid_pct, mapping)
        held_v = upload(
            store,
            settings,
            app["id"],
            "fpb-heldout",
            write_csv(data_dir / "fpb_heldout.csv", heldout),
            0.0,
            mapping,
        )
        metrics = ["classification"]
    else:
        rows = [json.loads(x) for x in SUMMARIES.read_text().splitlines() if x.strip()]
        random.Random(opts.seed).shuffle(rows)
        cut = max(1, round(len(rows) * opts.heldout_pct / 100))
        tune_path, held_path = data_dir / "sum_tuning.jsonl", data_dir / "sum_heldout.jsonl"
        tune_path.write_text("".join(json.dumps(r) + "\n" for r in rows[cut:]))
        held_path.write_text("".join(json.dumps(r) + "\n" for r in rows[:cut]))
        tune_v = upload(store, settings, app["id"], "sum-tuning", tune_path, opts.valid_pct)
        held_v = upload(store, settings, app["id"], "sum-heldout", held_path, 0.0)
        metrics = ["text"]
    print(
        f"{opts.task}: {tune_v['n_accepted']} tuning rows, {held_v['n_accepted']} held out; "
        f"load {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs",
        flush=True,
    )
    for name in opts.recipes.split(","):
        t0 = time.time()
        load0 = os.getloadavg()[0]
        overrides = {
            **RECIPES[name],
            **({"base_model": opts.base_model} if opts.base_model else {}),
        }
        job = train(
            store,
            settings,
            runner,
            app["id"],
            tune_v["id"],
            name,
            overrides,
            opts.budget_min,
            opts.max_steps,
        )
        wall = time.time() - t0
        s = job["summary"] or {}
        trainer_cfg = json.loads((Path(job["run_dir"]) / "config.json").read_text())["trainer"]
        out = {
            "task": opts.task,
            "recipe": name,
            "instruction": opts.instruction,
            "overrides": RECIPES[name],
            "status": job["status"],
            "reason": job["reason"],
            "steps": s.get("steps"),
            "epochs": s.get("epochs"),
            "train_wall_s": round(wall, 1),
            "train_cpu_s": round(job["train_cpu_s"], 1),
            "precision": "bf16" if trainer_cfg.get("bf16") else "fp32",
            "valid_accuracy": s.get("eval_accuracy"),
            "eval_loss": s.get("eval_loss"),
            "load_avg_start": load0,
            "load_avg_end": os.getloadavg()[0],
            "max_steps": opts.max_steps,
            "budget_min": opts.budget_min,
            "time_budget": s.get("time_budget"),
            "shared_prefix_batches": s.get("shared_prefix_batches"),
            "run_dir": job["run_dir"],
        }
        if job["status"] == "succeeded":
            results = evaluate(store, settings, job["id"], held_v["id"], metrics, opts.heldout_max)
            if opts.task == "fpb":
                c = results["classification"]["tuned"]
                out.update(
                    heldout_accuracy=c["accuracy"], heldout_macro_f1=c["macro_f1"], heldout_n=c["n"]
                )
            else:
                t = results["text"]["tuned"]
                out.update(rougeL=t["rougeL"], rouge1=t["rouge1"], bleu=t["bleu"], heldout_n=t["n"])
        with (RESULTS / "recipe.jsonl").open("a") as f:
            f.write(json.dumps(out) + "\n")
        print(
            json.dumps({k: v for k, v in out.items() if k not in ("run_dir", "overrides")}),
            flush=True,
        )


if __name__ == "__main__":
    main()
