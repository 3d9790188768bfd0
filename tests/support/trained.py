"""A trained run without the training: written through the studio's own code, so the tests of
evaluation, export and generation read what a real run leaves.

    run = make_trained_run(store, settings, tiny_causal_dir)
    run["app_id"], run["model_id"], run["job_id"], run["run_dir"], run["version_id"]

The model is saved and its job queued by the use cases (studio.actions), so config.json is
the TrainRun the training process would read; the adapter is a LoRA on the tiny model with a
nonzero B (so it changes the outputs), saved by peft, and studio.json by the trainer's own
save_trained; the job ends as the runner records a finished run.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from studio.actions.ownership import Caller
from studio.actions.save_model import save_model
from studio.actions.start_training import start_training
from studio.configs import CPU_ONLY
from studio.configs.defaults import default_dicts, default_hyper
from studio.configs.runs import TrainRun
from studio.data.example_files import read_examples
from studio.data.stats import normalise_label
from studio.jobs.run_folder import RunFolder
from studio.jobs.scheduler import JobRunner
from studio.store.job_states import SUCCEEDED
from studio.templates import get_template
from studio.train.training import save_trained
from studio.vocab.examples import Example
from tests.support.examples import news_sentiment, write_jsonl

# The adapter save_adapter writes; the saved model says the same.
LORA = {"lora_r": 4, "lora_alpha": 8, "lora_dropout": 0.0, "target_modules": ["q_proj", "v_proj"]}
SUMMARY = {"train_loss": 1.5, "eval_loss": 1.7, "perplexity": 5.47}
VALID_PCT = 10.0


def save_adapter(base_dir: Path, out: Path, seed: int = 1) -> Path:
    """A LoRA adapter on the tiny model with perturbed lora_B, and its tokenizer, in `out`."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(base_dir)
    model = AutoModelForCausalLM.from_pretrained(base_dir, dtype=torch.float32)
    cfg = LoraConfig(
        r=LORA["lora_r"],
        lora_alpha=LORA["lora_alpha"],
        target_modules=LORA["target_modules"],
        lora_dropout=0.0,
        task_type="CAUSAL_LM",
    )
    torch.manual_seed(seed)  # lora_A's initialisation: the same adapter on every call
    peft_model = get_peft_model(model, cfg)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in peft_model.named_parameters():
            if "lora_B" in name:
                p.copy_(torch.randn(p.shape, generator=gen) * 0.5)
    out.mkdir(parents=True, exist_ok=True)
    peft_model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def _version(store, app_id: str, train: list[Example], valid: list[Example]) -> dict:
    """A dataset version of these examples, as the Inputs tab records one."""
    rel = f"{app_id}/datasets/v1"
    folder = store.files_root / rel
    write_jsonl(folder / "train.jsonl", train)
    write_jsonl(folder / "valid.jsonl", valid)
    labels = sorted({normalise_label(ex.output) for ex in train})  # as the stats list them
    stats = {"task": "classification", "labels": labels, "n_train": len(train)}
    with store.transaction() as conn:
        ds = store.get_or_create_dataset(app_id, "sentiment", conn=conn)
        return store.add_dataset_version(
            conn,
            ds["id"],
            content_hash="x",
            path=rel,
            n_rows=len(train) + len(valid),
            n_accepted=len(train) + len(valid),
            valid_pct=VALID_PCT,
            stats={**stats, "n_valid": len(valid)},
        )


class _Trainer:
    """What save_trained asks of the Trainer: write the adapter it trained."""

    def __init__(self, base_dir: Path):
        self.base_dir = base_dir

    def save_model(self, out: str) -> None:
        save_adapter(self.base_dir, Path(out))


def saved_model(
    store,
    settings,
    base_dir: Path,
    examples: list[Example] | None = None,
    valid: list[Example] | None = None,
    **hyper,
) -> dict:
    """{"app", "version", "model"}: an app, a dataset version of `examples` (training split)
    and `valid` (validation split; by default the six news examples both), and a LoRA model
    on `base_dir` saved by the use case, the form's values `hyper` over the adapter's."""
    examples = examples if examples is not None else news_sentiment()
    valid = valid if valid is not None else examples
    app = store.create_app("eval-app", owner=settings.owner)
    version = _version(store, app["id"], examples, valid)
    template = get_template("custom")
    form = {
        **default_hyper(template),
        **LORA,
        "base_model": str(base_dir),
        "learning_rate": 2e-4,
        "epochs": 1.0,
        "max_length": 128,
        "valid_pct": VALID_PCT,  # the version's: no re-split
        **hyper,
    }
    sections = default_dicts(template, "causal")
    model = save_model(
        store, settings, Caller(settings.owner), app["id"], "sentiment-lora", template.key,
        "causal", version["id"], form, sections, CPU_ONLY,
    )  # fmt: skip
    return {"app": app, "version": version, "model": model}


def make_trained_run(
    store,
    settings,
    base_dir: Path,
    examples: list[Example] | None = None,
    valid: list[Example] | None = None,
) -> dict:
    """{"app_id", "model_id", "job_id", "run_dir", "version_id"} of a succeeded train job on
    `base_dir` (see saved_model for the data)."""
    made = saved_model(store, settings, base_dir, examples, valid)
    app, version, model = made["app"], made["version"], made["model"]
    runner = JobRunner(store, settings)  # queues the job; its process is never started
    caller = Caller(settings.owner)
    job = start_training(store, settings, runner, caller, app["id"], model["id"], CPU_ONLY)
    folder = RunFolder(job["run_dir"])
    run = TrainRun.from_json(folder.config_path)
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(base_dir)
    train, valid = run.data.train, run.data.valid
    examples = read_examples(train) + read_examples(valid)
    save_trained(_Trainer(Path(base_dir)), tokenizer, run, folder, examples)
    status = {"status": SUCCEEDED, "reason": "", "summary": SUMMARY}
    folder.write_status(status)
    store.update_job(job["id"], status=SUCCEEDED, summary=SUMMARY, finished_at=time.time())
    return {
        "app_id": app["id"],
        "model_id": model["id"],
        "job_id": job["id"],
        "run_dir": folder.path,
        "version_id": version["id"],
    }


def edit_meta(run_dir: Path, **meta) -> None:
    """Change what the run's studio.json says (e.g. another base ref, the chat format)."""
    path = RunFolder(run_dir).meta_path
    path.write_text(json.dumps({**json.loads(path.read_text()), **meta}))
