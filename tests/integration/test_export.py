"""Exports reload outside the studio and generate what the studio generates; imports register."""

from __future__ import annotations

import logging
import zipfile

import pytest
import torch

from studio.actions.start_evaluation import build_eval_config
from studio.errors import StudioError
from studio.evaluate.generation import greedy, prompt_text
from studio.evaluate.pair import load_pair
from studio.export import (
    export_adapter_zip,
    export_merged_zip,
    import_adapter_zip,
    push_to_hub,
)
from studio.jobs.trained import trained_model
from tests.support.examples import news_sentiment
from tests.support.trained import make_trained_run

N_NEW = 8


@pytest.fixture
def run(store, settings, tiny_causal_dir):
    return make_trained_run(store, settings, tiny_causal_dir)


@pytest.fixture
def studio_outputs(run, settings):
    pair = load_pair(run["run_dir"] / "adapter", settings)
    prompts = [prompt_text(ex, pair.tokenizer, pair.meta) for ex in news_sentiment()[:3]]
    tuned = [greedy(pair.tuned, pair.tokenizer, p, N_NEW) for p in prompts]
    with pair.base() as m:
        base = [greedy(m, pair.tokenizer, p, N_NEW) for p in prompts]
    assert tuned != base  # the adapter matters, so equal outputs below mean something
    return prompts, tuned


def _extract(zip_path, dest):
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(dest)
    return dest


def test_adapter_zip_reloads_with_peft(
    run, store, settings, tiny_causal_dir, studio_outputs, tmp_path
):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = export_adapter_zip(store, settings, trained_model(store, run["job_id"]))
    assert path.parent == settings.home / "exports" / run["app_id"]
    folder = _extract(path, tmp_path / "x")
    names = {p.name for p in folder.iterdir()}
    assert {
        "adapter_model.safetensors",
        "adapter_config.json",
        "README.md",
        "studio.json",
        "tokenizer.json",
    } <= names
    card = (folder / "README.md").read_text()
    for needle in (
        str(tiny_causal_dir),
        "sentiment v1: 6 training / 6 validation",
        "learning_rate: 0.0002",
        "eval_loss: 1.7",
        "### Assistant:",
        "PeftModel.from_pretrained",
    ):
        assert needle in card
    base = AutoModelForCausalLM.from_pretrained(tiny_causal_dir, dtype=torch.float32)
    model = PeftModel.from_pretrained(base, folder).eval()
    tok = AutoTokenizer.from_pretrained(folder)
    prompts, tuned = studio_outputs
    assert [greedy(model, tok, p, N_NEW) for p in prompts] == tuned
    # The Generate tab's engine (greedy strategy) gives the same prompt and the same text.
    from studio.generate.engine import Engine
    from studio.generate.options import GenerationOptions
    from studio.generate.prompting import PromptInput

    engine = Engine(settings, store)
    for ex, prompt, text in zip(news_sentiment()[:3], prompts, tuned, strict=True):
        out = engine.generate(
            f"job:{run['job_id']}",
            PromptInput(instruction=ex.instruction, input=ex.input),
            GenerationOptions(max_new_tokens=N_NEW),
        )
        assert (out.prompt, out.text.strip()) == (prompt, text)


def test_merged_model_matches_base_plus_adapter(run, store, settings, studio_outputs, tmp_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = _extract(
        export_merged_zip(store, settings, trained_model(store, run["job_id"])), tmp_path / "m"
    )
    names = {p.name for p in folder.iterdir()}
    assert {
        "model.safetensors",
        "config.json",
        "generation_config.json",
        "README.md",
        "tokenizer.json",
    } <= names
    assert not any(n.endswith((".bin", ".pt")) or n.startswith("adapter_") for n in names)
    assert "merged" in (folder / "README.md").read_text()
    model = AutoModelForCausalLM.from_pretrained(folder, use_safetensors=True).eval()
    assert not any("lora" in n for n, _ in model.named_parameters())
    tok = AutoTokenizer.from_pretrained(folder)
    prompts, tuned = studio_outputs
    assert [greedy(model, tok, p, N_NEW) for p in prompts] == tuned


def test_import_round_trip(run, store, settings, tiny_causal_dir, studio_outputs):
    from studio.errors import ImportRefused

    path = export_adapter_zip(store, settings, trained_model(store, run["job_id"]))
    other = store.create_app("elsewhere")
    with pytest.raises(ImportRefused, match="not one of the studio's base models"):
        import_adapter_zip(store, settings, other["id"], path)
    job = import_adapter_zip(
        store, settings, other["id"], path, confirmed_base=str(tiny_causal_dir)
    )
    assert job["kind"] == "import" and job["status"] == "succeeded"
    pair = load_pair(f"{job['run_dir']}/adapter", settings)
    prompts, tuned = studio_outputs
    assert [greedy(pair.tuned, pair.tokenizer, p, N_NEW) for p in prompts] == tuned
    prompts_file = settings.tmp_dir / "p.txt"
    prompts_file.write_text("hello\n")
    cfg = build_eval_config(
        store, settings, trained_model(store, job["id"]), prompts_file=prompts_file
    )
    assert cfg["model_ref"] == f"job:{job['id']}"


def test_hub_push_offline_is_a_clear_error(run, store, settings, monkeypatch, caplog):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    token = "hf_secretTOKEN123"
    caplog.set_level(logging.DEBUG)
    with pytest.raises(StudioError, match="could not reach the Hugging Face Hub") as err:
        push_to_hub(store, settings, trained_model(store, run["job_id"]), "someone/my-model", token)
    assert token not in str(err.value) and token not in caplog.text
    with pytest.raises(StudioError, match="username/model-name"):
        push_to_hub(store, settings, trained_model(store, run["job_id"]), "../etc", token)
    with pytest.raises(StudioError, match="write token"):
        push_to_hub(store, settings, trained_model(store, run["job_id"]), "someone/my-model", "")
