"""Generate sends exactly the prompt training saw: save_trained records the data's section
style and preamble, refs reads them back, and the engine renders with them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from studio.configs.runs import TrainRun
from studio.data.sections import text_to_example
from studio.generate.options import GenerationOptions
from studio.generate.prompting import PromptInput
from studio.jobs.run_folder import RunFolder
from studio.prompts import PromptLayout, render, training_layout
from studio.train.training import save_trained
from studio.vocab.examples import STYLE_HUMAN_ASSISTANT, STYLE_INPUT_RESPONSE, Example
from tests.support.examples import write_jsonl

PRE = "Below is an instruction that describes a task. Write a response that appropriately completes the request."
PRE_IN = (
    "Below is an instruction that describes a task, paired with an input that provides "
    "further context. Write a response that appropriately completes the request."
)
ALPACA = [
    f"{PRE} ### Instruction: What is the capital of Australia? ### Response: Canberra.",
    f"{PRE} ### Instruction: How many continents are there? ### Response: Seven.",
    f"{PRE_IN} ### Instruction: Translate into French. ### Input: Good morning. "
    "### Response: Bonjour.",
    "### Instruction: Say hi. ### Human: hello ### Assistant: hi",  # a minority style
]


class _Trainer:
    """Stands in for the Trainer: save_model writes the adapter a real run would."""

    def __init__(self, adapter: Path):
        self.adapter = adapter

    def save_model(self, out: str) -> None:
        Path(out).mkdir(parents=True, exist_ok=True)
        for name in ("adapter_config.json", "adapter_model.safetensors"):
            shutil.copy(self.adapter / name, Path(out) / name)


def _trained_job(store, tuned_run_dir, tiny_causal_dir, tmp_path, examples: list[Example]):
    """A succeeded train job whose adapter folder was written by save_trained."""
    from transformers import AutoTokenizer

    run_dir = tmp_path / "run"
    train = write_jsonl(run_dir / "data" / "train.jsonl", examples)
    run = TrainRun.from_dict(
        {
            "base_model": str(tiny_causal_dir),
            "model_type": "causal",
            "method": "lora",
            "peft": {"r": 4},
            "tokenizer": {"prompt_format": "sections", "max_length": 128},
            "data": {"train": str(train), "valid": ""},
        }
    )
    tokenizer = AutoTokenizer.from_pretrained(tiny_causal_dir)
    save_trained(_Trainer(tuned_run_dir / "adapter"), tokenizer, run, RunFolder(run_dir), examples)
    (run_dir / "config.json").write_text(json.dumps(run.to_dict()))
    app = store.create_app("layout-app")
    job = store.create_job(app["id"], None, "train", {}, str(run_dir), status="succeeded")
    return run_dir, f"job:{job['id']}"


def test_training_layout_takes_the_dominant_style_and_both_preambles():
    layout = training_layout([text_to_example(t) for t in ALPACA])
    assert layout == PromptLayout(STYLE_INPUT_RESPONSE, PRE, PRE_IN)
    assert training_layout([]) == PromptLayout(STYLE_HUMAN_ASSISTANT, "", "")
    assert PromptLayout.from_meta({"style": "input_response", "preamble": "P"}) == PromptLayout(
        STYLE_INPUT_RESPONSE, "P", "P"
    )  # written before input_preamble existed
    assert PromptLayout.from_meta({}) is None


def test_generation_prompt_equals_the_training_prompt(
    engine, store, tuned_run_dir, tiny_causal_dir, tmp_path
):
    examples = [text_to_example(t) for t in ALPACA]
    run_dir, ref = _trained_job(store, tuned_run_dir, tiny_causal_dir, tmp_path, examples)
    meta = json.loads((run_dir / "adapter" / "studio.json").read_text())
    assert (meta["style"], meta["preamble"], meta["input_preamble"]) == (
        STYLE_INPUT_RESPONSE,
        PRE,
        PRE_IN,
    )
    for ex in examples[:3]:  # each Instruction/Input/Response example, with its preamble
        trained_prompt, _ = render(ex, "sections")
        asked = PromptInput(instruction=ex.instruction, input=ex.input)
        assert engine.render(ref, asked) == trained_prompt
        result = engine.generate(ref, asked, GenerationOptions(max_new_tokens=2))
        assert result.prompt == trained_prompt
    assert engine.render(ref, PromptInput(instruction="What is the capital of Australia?")) == (
        f"{PRE} ### Instruction: What is the capital of Australia? ### Response:"
    )
    # A preamble typed by the user replaces the recorded one; "" drops it.
    assert engine.render(ref, PromptInput(instruction="Hi", preamble="")) == (
        "### Instruction: Hi ### Response:"
    )


def test_older_runs_fall_back_to_their_data_then_to_the_default(
    engine, store, tuned_run_dir, tiny_causal_dir, tmp_path
):
    examples = [text_to_example(t) for t in ALPACA]
    run_dir, ref = _trained_job(store, tuned_run_dir, tiny_causal_dir, tmp_path, examples)
    meta_path = run_dir / "adapter" / "studio.json"
    meta = json.loads(meta_path.read_text())
    for key in ("style", "preamble", "input_preamble"):
        meta.pop(key)
    meta_path.write_text(json.dumps(meta))  # as saved before the layout was recorded
    asked = PromptInput(instruction="Translate into French.", input="Thanks.")
    assert engine.render(ref, asked) == (
        f"{PRE_IN} ### Instruction: Translate into French. ### Input: Thanks. ### Response:"
    )
    (run_dir / "config.json").unlink()  # nothing left to learn the layout from
    assert engine.render(ref, asked) == (
        "### Instruction: Translate into French. ### Human: Thanks. ### Assistant:"
    )
