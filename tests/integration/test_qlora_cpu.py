"""QLoRA on a CPU, end to end: a 4-bit (NF4) base trained through `python -m studio.train`
on a marker task learns the marker, and its merged export (merged into a full-precision
base) answers the same."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from studio.evaluate.generation import greedy, prompt_text
from studio.export import export_merged_zip
from studio.jobs.trained import trained_model
from studio.models.loading import load_model, load_tokenizer
from studio.vocab.examples import Example
from tests.support.examples import write_jsonl
from tests.support.runs import run_config, train_entry_point, write_run

MARKER = "zebra crossing"
NF4 = {
    "load_in_4bit": True,
    "bnb_4bit_quant_type": "nf4",
    "bnb_4bit_compute_dtype": "float32",
    "bnb_4bit_use_double_quant": True,
}


def _marker_examples(n: int, seed: int) -> list[Example]:
    import random

    rng = random.Random(seed)
    words = "river stone cloud market lamp orbit quiet paper".split()
    return [
        Example(
            instruction="Name the marker.",
            input=" ".join(rng.choice(words) for _ in range(rng.randint(2, 8))),
            output=MARKER,
        )
        for _ in range(n)
    ]


@pytest.fixture(scope="module")
def trained(tmp_path_factory, models_cache, tiny_causal_dir):
    from studio.settings import Settings

    root = tmp_path_factory.mktemp("qlora-cpu")
    settings = Settings.from_env(home=root / "home", models_root=models_cache, port=0)
    settings.ensure_dirs()
    cfg = run_config(
        tiny_causal_dir,
        root / "data",
        settings,
        method="qlora",
        quantization=NF4,
        peft={"r": 8, "lora_alpha": 16, "lora_dropout": 0.0},
        trainer={
            "max_steps": 30,
            "learning_rate": 1e-2,
            "eval_strategy": "no",
            "save_strategy": "no",
            "logging_steps": 5,
        },
    )
    cfg["peft"]["target_modules"] = ["q_proj", "k_proj", "v_proj", "o_proj", "up_proj"]
    write_jsonl(Path(cfg["data"]["train"]), _marker_examples(48, 1))
    write_jsonl(Path(cfg["data"]["valid"]), _marker_examples(4, 2))
    run = write_run(root / "run", cfg)
    status, _ = train_entry_point(run)
    assert status["status"] == "succeeded", (status, (run / "train.log").read_text()[-2000:])
    return settings, run


def _answers(model, tokenizer, meta) -> list[str]:
    prompts = [prompt_text(ex, tokenizer, meta) for ex in _marker_examples(3, 7)]
    return [greedy(model, tokenizer, p, 6) for p in prompts]


def test_the_4bit_adapter_learns_the_marker_and_the_merged_export_answers_the_same(
    trained, store, tiny_causal_dir, tmp_path
):
    from peft import PeftModel

    settings, run = trained
    adapter = run / "adapter"
    meta = json.loads((adapter / "studio.json").read_text())
    assert meta["method"] == "qlora"
    tok = load_tokenizer(str(tiny_causal_dir), settings)

    base = load_model(str(tiny_causal_dir), settings).eval()
    assert all(MARKER not in a for a in _answers(base, tok, meta))  # the marker is new to it

    # The base the adapter trained on: 4-bit NF4 layers, on the CPU.
    four_bit = load_model(str(tiny_causal_dir), settings, quant_cfg=NF4)
    assert type(four_bit.model.layers[0].self_attn.q_proj).__name__ == "Linear4bit"
    tuned_4bit = PeftModel.from_pretrained(four_bit, adapter).eval()
    assert all(a.startswith(MARKER) for a in _answers(tuned_4bit, tok, meta))

    # What Generate and Evaluate use: the adapter on the full-precision base.
    tuned = PeftModel.from_pretrained(load_model(str(tiny_causal_dir), settings), adapter)
    answers = _answers(tuned.eval(), tok, meta)
    assert all(a.startswith(MARKER) for a in answers)

    app = store.create_app("qlora")
    job = store.create_job(app["id"], None, "train", {}, str(run))
    store.update_job(job["id"], status="succeeded", run_dir=str(run))
    with zipfile.ZipFile(export_merged_zip(store, settings, trained_model(store, job["id"]))) as zf:
        zf.extractall(tmp_path / "merged")
    merged = load_model(str(tmp_path / "merged"), settings).eval()
    assert not any("lora" in n for n, _ in merged.named_parameters())
    assert all(p.dtype.is_floating_point for p in merged.parameters())  # dequantized
    assert _answers(merged, tok, meta) == answers
