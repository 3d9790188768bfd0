"""GGUF export round trip: the file loads in a real GGUF reader and answers like the merged
model; other architectures are refused; every export's card says how to serve it."""

from __future__ import annotations

import json
import zipfile

import pytest
import torch

from studio.evaluate.generation import greedy, prompt_text
from studio.evaluate.pair import load_pair
from studio.export import export_adapter_zip, export_merged_zip
from studio.export.gguf import GGUFRefused, export_gguf_zip
from studio.export.gguf_writer import check_gguf_support
from studio.jobs.trained import trained_model
from tests.support.examples import news_sentiment
from tests.support.trained import make_trained_run

N_NEW = 8


@pytest.fixture
def run(store, settings, tiny_causal_dir):
    return make_trained_run(store, settings, tiny_causal_dir)


@pytest.fixture
def studio_outputs(run, settings):
    """Prompts and the tuned model's greedy answers, as the studio computes them."""
    pair = load_pair(run["run_dir"] / "adapter", settings)
    prompts = [prompt_text(ex, pair.tokenizer, pair.meta) for ex in news_sentiment()[:3]]
    return prompts, [greedy(pair.tuned, pair.tokenizer, p, N_NEW) for p in prompts]


def _extract(zip_path, dest):
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(dest)
    return dest


def _load_gguf(folder, name):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name).eval()
    return model, AutoTokenizer.from_pretrained(folder, gguf_file=name)


@pytest.mark.parametrize("qtype", ["F16", "Q8_0", "Q4_1"])
def test_gguf_round_trip_answers_like_the_merged_model(
    run, store, settings, studio_outputs, tmp_path, qtype
):
    from transformers import AutoModelForCausalLM

    folder = _extract(
        export_gguf_zip(store, settings, trained_model(store, run["job_id"]), qtype), tmp_path / "g"
    )
    name = f"model-{qtype}.gguf"
    assert {p.name for p in folder.iterdir()} == {name, "Modelfile", "README.md"}
    assert (folder / "Modelfile").read_text().startswith(f"FROM ./{name}")
    card = (folder / "README.md").read_text()
    for needle in ("ollama create", "vllm serve", "llama-server", "text-generation-inference"):
        assert needle in card
    model, tok = _load_gguf(folder, name)
    prompts, tuned = studio_outputs
    for p in prompts:  # the tokenizer travels inside the GGUF file
        assert tok(p)["input_ids"] == studio_outputs_tokenizer(settings, run)(p)["input_ids"]
    merged_dir = _extract(
        export_merged_zip(store, settings, trained_model(store, run["job_id"])), tmp_path / "m"
    )
    merged = AutoModelForCausalLM.from_pretrained(merged_dir).eval()
    ids = tok(prompts[0], return_tensors="pt")["input_ids"]
    with torch.no_grad():
        diff = (model(ids).logits - merged(ids).logits).abs().max().item()
    if qtype == "F16":
        assert diff < 0.05  # 16-bit weights: the same model
        assert [greedy(model, tok, p, N_NEW) for p in prompts] == tuned
    elif qtype == "Q8_0":
        # 8-bit weights: every logit close along the whole answer; the tiny random model's
        # near-ties may still pick another token, so its text is not compared.
        for p, answer in zip(prompts, tuned, strict=True):
            ids = tok(p + answer, return_tensors="pt")["input_ids"]
            with torch.no_grad():
                assert (model(ids).logits - merged(ids).logits).abs().max().item() < 0.05
    else:
        assert diff < 0.5  # 4-bit: close, not identical
        assert greedy(model, tok, prompts[0], N_NEW)


def studio_outputs_tokenizer(settings, run):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(run["run_dir"] / "adapter")


def test_other_architectures_are_refused_with_the_reason(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "gpt2"}))
    with pytest.raises(GGUFRefused, match="Llama-architecture.*'gpt2'"):
        check_gguf_support(tmp_path)


def test_adapter_and_merged_cards_show_serving_commands(run, store, settings, tmp_path):
    adapter = _extract(
        export_adapter_zip(store, settings, trained_model(store, run["job_id"])), tmp_path / "a"
    )
    card = (adapter / "README.md").read_text()
    assert "--lora-adapters tuned=" in card and "--enable-lora" in card and "ADAPTER " in card
    merged = _extract(
        export_merged_zip(store, settings, trained_model(store, run["job_id"])), tmp_path / "m"
    )
    card = (merged / "README.md").read_text()
    assert "vllm serve /path/to/this/folder" in card and "text-generation-inference" in card
    assert "FROM /path/to/this/folder" in card
