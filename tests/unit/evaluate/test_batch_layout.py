"""Uploaded prompt files are laid out as the model was trained (style and preamble), like the
Generate tab does; dataset lines that name their own style keep it."""

from __future__ import annotations

import json

from studio.evaluate.batch import compare, laid_out, read_prompts
from studio.evaluate.pair import load_pair
from studio.prompts import PromptLayout
from studio.vocab.examples import STYLE_HUMAN_ASSISTANT, STYLE_INPUT_RESPONSE, Example
from tests.support.trained import make_trained_run

PRE = "Below is an instruction that describes a task."
LAYOUT = PromptLayout(STYLE_INPUT_RESPONSE, PRE, PRE + " It has an input.")


def test_uploaded_prompts_take_the_model_layout(tmp_path):
    (tmp_path / "p.csv").write_text("instruction,prompt,expected\nTranslate.,Hello,Bonjour\n")
    (tmp_path / "p.txt").write_text("What is the capital of Australia?\n")
    own = Example(instruction="Say hi.", input="hello", output="hi", style=STYLE_HUMAN_ASSISTANT)
    (tmp_path / "p.jsonl").write_text(
        json.dumps({"instruction": "Q?", "output": "A.", "preamble": "Mine."})
        + "\n"
        + json.dumps(own.to_dict())
        + "\n"
    )
    [csv_row] = [laid_out(e, LAYOUT) for e in read_prompts(tmp_path / "p.csv")]
    assert (csv_row.style, csv_row.preamble) == (STYLE_INPUT_RESPONSE, LAYOUT.input_preamble)
    assert (csv_row.instruction, csv_row.input, csv_row.output) == (
        "Translate.",
        "Hello",
        "Bonjour",
    )
    [txt_row] = [laid_out(e, LAYOUT) for e in read_prompts(tmp_path / "p.txt")]
    assert txt_row.style == STYLE_INPUT_RESPONSE
    given, kept = [laid_out(e, LAYOUT) for e in read_prompts(tmp_path / "p.jsonl")]
    assert (given.style, given.preamble) == (STYLE_INPUT_RESPONSE, "Mine.")  # its own preamble
    assert (kept.style, kept.preamble, kept.input) == (STYLE_HUMAN_ASSISTANT, "", "hello")


def test_compare_renders_uploaded_prompts_with_the_recorded_layout(
    store, settings, tiny_causal_dir, tmp_path
):
    run = make_trained_run(store, settings, tiny_causal_dir)
    meta_path = run["run_dir"] / "adapter" / "studio.json"
    meta_path.write_text(json.dumps({**json.loads(meta_path.read_text()), **LAYOUT.to_meta()}))
    pair = load_pair(run["run_dir"] / "adapter", settings)
    (tmp_path / "p.csv").write_text("instruction,prompt\nTranslate.,Hello\n")
    [row] = compare(pair, read_prompts(tmp_path / "p.csv"), max_new_tokens=2)
    assert row["prompt"] == (
        f"{LAYOUT.input_preamble} ### Instruction: Translate. ### Input: Hello ### Response:"
    )
