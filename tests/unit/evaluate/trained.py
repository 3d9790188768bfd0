"""Test helper: a "trained" run without training (tiny model + a LoRA adapter with nonzero B).

make_trained_run(store, settings, tiny_causal_dir) creates an app, a dataset version with
train/valid jsonl, a model row and a succeeded train job whose RUN_DIR/adapter holds the
adapter, tokenizer and studio.json, as studio.train leaves them.
"""

from __future__ import annotations

import json
from pathlib import Path

from studio.data.stats import normalise_label
from studio.vocab.examples import Example

LABELS = ("negative", "neutral", "positive")
SENTIMENT = [
    ("The company reported record profits this quarter.", "positive"),
    ("Sales fell sharply and the outlook was cut.", "negative"),
    ("The board meets on Tuesday.", "neutral"),
    ("Shares jumped after strong results.", "positive"),
    ("The firm announced layoffs and losses.", "negative"),
    ("The report was published in March.", "neutral"),
]


# As the studio's sample data writes them: trailing period, mixed case.
WRITTEN = {"negative": "negative.", "neutral": "neutral.", "positive": "Positive."}


def sentiment_examples(written: bool = False) -> list[Example]:
    """The six examples; `written` gives answers as real data has them ("Positive.")."""
    return [
        Example(
            instruction="What is the sentiment of this news?",
            input=text,
            output=WRITTEN[label] if written else label,
        )
        for text, label in SENTIMENT
    ]


def write_jsonl(path: Path, examples: list[Example]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(ex.to_dict()) + "\n" for ex in examples))
    return path


def save_adapter(base_dir: Path, out: Path, seed: int = 1) -> Path:
    """A LoRA adapter on the tiny model with perturbed lora_B (so it changes outputs)."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(base_dir)
    model = AutoModelForCausalLM.from_pretrained(base_dir, dtype=torch.float32)
    cfg = LoraConfig(
        r=4,
        lora_alpha=8,
        target_modules=["q_proj", "v_proj"],
        lora_dropout=0.0,
        task_type="CAUSAL_LM",
    )
    peft_model = get_peft_model(model, cfg)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in peft_model.named_parameters():
            if "lora_B" in name:
                p.copy_(torch.randn(p.shape, generator=gen) * 0.5)
    out.mkdir(parents=True, exist_ok=True)
    peft_model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    meta = {
        "base_model": str(base_dir),
        "model_type": "causal",
        "method": "lora",
        "prompt_format": "sections",
        "max_length": 128,
        "template": "custom",
    }
    (out / "studio.json").write_text(json.dumps(meta))
    return out


def make_trained_run(
    store,
    settings,
    base_dir: Path,
    examples: list[Example] | None = None,
    valid: list[Example] | None = None,
) -> dict:
    """{"app_id", "model_id", "job_id", "run_dir", "version_id"} of a succeeded train job."""
    examples = examples if examples is not None else sentiment_examples()
    valid = valid if valid is not None else examples
    app = store.create_app("eval-app", owner=settings.owner)
    rel = f"{app['id']}/datasets/v1"
    folder = store.files_root / rel
    write_jsonl(folder / "train.jsonl", examples)
    write_jsonl(folder / "valid.jsonl", valid)
    labels = sorted({normalise_label(ex.output) for ex in examples})  # as the stats list them
    stats = {
        "task": "classification",
        "labels": labels,
        "n_train": len(examples),
        "n_valid": len(valid),
    }
    with store.transaction() as conn:
        ds = store.get_or_create_dataset(app["id"], "sentiment", conn=conn)
        version = store.add_dataset_version(
            conn,
            ds["id"],
            content_hash="x",
            path=rel,
            n_rows=len(examples) + len(valid),
            n_accepted=len(examples) + len(valid),
            stats=stats,
        )
    model = store.create_model(
        app["id"],
        "sentiment-lora",
        "custom",
        "causal",
        version["id"],
        {"peft": {"r": 4}, "trainer": {"learning_rate": 2e-4}},
    )
    job = store.create_job(app["id"], model["id"], "train", {}, "", status="running")
    run_dir = store.app_dir(app["id"]) / "runs" / job["id"]
    save_adapter(Path(base_dir), run_dir / "adapter")
    train_cfg = {
        "base_model": str(base_dir),
        "method": "lora",
        "model_type": "causal",
        "peft": {"r": 4, "lora_alpha": 8},
        "trainer": {"learning_rate": 2e-4, "num_train_epochs": 1},
        "data": {"version_id": version["id"]},
    }
    (run_dir / "config.json").write_text(json.dumps(train_cfg))
    store.update_job(
        job["id"],
        status="succeeded",
        run_dir=str(run_dir),
        summary={"train_loss": 1.5, "eval_loss": 1.7, "perplexity": 5.47},
    )
    return {
        "app_id": app["id"],
        "model_id": model["id"],
        "job_id": job["id"],
        "run_dir": run_dir,
        "version_id": version["id"],
    }
