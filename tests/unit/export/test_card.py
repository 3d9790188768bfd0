"""The model card: public base id, dataset, hyperparameters, metrics and the prompt layout."""

from __future__ import annotations

from studio.evaluate.generation import prompt_text
from studio.export.card import model_card
from studio.jobs.trained import trained_model
from studio.models.resolve import PACKAGED_HUB_ID, PACKAGED_REF
from tests.support.examples import news_sentiment
from tests.support.trained import edit_meta, make_trained_run


def _run(store, settings, base_dir, **meta):
    """A trained run whose studio.json says `meta` (e.g. the default template's base ref)."""
    run = make_trained_run(store, settings, base_dir)
    edit_meta(run["run_dir"], **meta)
    return run, trained_model(store, run["job_id"])


def test_card_lists_everything_with_the_public_base(store, settings, tiny_causal_dir):
    run, job = _run(store, settings, tiny_causal_dir, base_model=PACKAGED_REF)
    ev = store.create_job(
        run["app_id"],
        run["model_id"],
        "evaluate",
        {"train_job_id": job.job_id},
        "",
        status="succeeded",
        summary={"n_examples": 6, "tuned_accuracy": 0.5},
    )
    assert ev["status"] == "succeeded"
    card = model_card(store, job)
    assert card.splitlines()[6] == "# sentiment-lora v1"  # the saved model's name
    front = card.split("---")[1]
    assert f"base_model: {PACKAGED_HUB_ID}" in front
    assert "packaged:" not in card  # the studio-internal ref means nothing elsewhere
    for needle in (
        f"**Base model:** `{PACKAGED_HUB_ID}`",
        f'AutoModelForCausalLM.from_pretrained("{PACKAGED_HUB_ID}")',
        "sentiment v1: 6 training / 6 validation examples",
        "- r: 4",
        "- lora_alpha: 8",
        "- learning_rate: 0.0002",
        "- num_train_epochs: 1",
        "- eval_loss: 1.7",
        "- perplexity: 5.47",
        "- evaluation tuned_accuracy: 0.5",
        "Format `sections`",
        "### Instruction: What is the sentiment of this news? ### Human: ",
        "### Assistant:",
        "tokenizer('### Instruction",
    ):
        assert needle in card, needle


def test_chat_card_shows_the_chat_layout(store, settings, tiny_causal_dir):
    from transformers import AutoTokenizer

    run, job = _run(store, settings, tiny_causal_dir, base_model=PACKAGED_REF, prompt_format="chat")
    card = model_card(store, job)
    tok = AutoTokenizer.from_pretrained(run["run_dir"] / "adapter")
    expected = prompt_text(news_sentiment()[0], tok, {"prompt_format": "chat"})
    assert "<|im_start|>" in expected  # SmolLM2's template, saved next to the adapter
    assert f"```text\n{expected}\n```" in card  # exactly what the studio feeds the model
    assert "Format `chat`" in card and "### Assistant" not in card
    assert "apply_chat_template(messages, add_generation_prompt=True" in card
    assert "'role': 'system', 'content': 'What is the sentiment of this news?'" in card


def test_local_base_is_not_named_in_the_front_matter(store, settings, tiny_causal_dir):
    _, job = _run(store, settings, tiny_causal_dir)
    card = model_card(store, job)
    assert "base_model:" not in card.split("---")[1]
    assert f"**Base model:** `{tiny_causal_dir}`" in card
