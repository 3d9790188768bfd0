"""The model card (README.md) written into every export.

Says what the model is and how to use it: base model, dataset version and its size,
hyperparameters, final metrics from the training job, the prompt format with an example
rendered by studio.prompts.render_prompt (the exact text the model expects: for the chat
format, through the tokenizer saved next to the adapter), and how to load. The packaged base
is named by its public Hub id, so the card's snippet works outside the studio.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from studio.data.example_files import ReadPolicy, read_examples
from studio.data.versions import version_folder
from studio.errors import StudioError
from studio.export.serving_card import serving_section
from studio.jobs.trained import TrainedModel, latest_evaluation
from studio.models.hf import hf_ready
from studio.models.resolve import PACKAGED_HUB_ID, PACKAGED_REF
from studio.prompts import render_prompt
from studio.prompts.render import to_messages
from studio.store.job_states import SUCCEEDED
from studio.vocab.examples import Example

HYPER_KEYS = (
    "learning_rate",
    "num_train_epochs",
    "max_steps",
    "per_device_train_batch_size",
    "gradient_accumulation_steps",
    "lr_scheduler_type",
    "warmup_steps",
    "weight_decay",
    "seed",
)
PEFT_KEYS = ("r", "lora_alpha", "lora_dropout", "target_modules")


def _dataset(store, model: TrainedModel) -> tuple[str, Example | None]:
    """('name vN: X training / Y validation examples', a sample example) or ('', None)."""
    vid = model.dataset_version_id(store)
    if not vid:
        return "", None
    try:
        version = store.get_dataset_version(vid)
    except StudioError:
        return f"version {vid} (deleted)", None
    stats = version.get("stats") or {}
    names = {d["id"]: d["name"] for d in store.list_datasets(model.app_id)}
    text = (
        f"{names.get(version['dataset_id'], 'dataset')} v{version['version']}: "
        f"{stats.get('n_train', '?')} training / {stats.get('n_valid', '?')} validation examples"
    )
    folder = version_folder(store, version)
    first = ReadPolicy(skip_bad=True, limit=1)
    found = read_examples(folder / "valid.jsonl", first) or read_examples(
        folder / "train.jsonl", first
    )
    return text, (found[0] if found else None)


def public_base(ref: str) -> str:
    """The id a user outside the studio loads the base with (the packaged ref -> its Hub id)."""
    return PACKAGED_HUB_ID if ref == PACKAGED_REF else ref


def _is_hub_id(ref: str) -> bool:
    return "/" in ref and not ref.startswith(("/", ".", "~")) and ":" not in ref


def _tokenizer(adapter: Path) -> Any:
    """The tokenizer saved next to the adapter (its chat template), or None."""
    try:
        hf_ready()
        from transformers import AutoTokenizer

        return AutoTokenizer.from_pretrained(str(adapter))
    except Exception:  # a missing or broken tokenizer only costs the card its chat example
        logging.getLogger("studio.export").warning("no tokenizer in %s", adapter, exc_info=True)
        return None


def _evaluation(store, model: TrainedModel) -> dict[str, Any]:
    """The numbers of the latest succeeded evaluation of this model ({} when none)."""
    ev = latest_evaluation(store, model.app_id, model.job_id)
    if not ev or ev["status"] != SUCCEEDED:
        return {}
    return {k: v for k, v in (ev.get("summary") or {}).items() if isinstance(v, int | float)}


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def model_card(store, model: TrainedModel, merged: bool = False, gguf_file: str = "") -> str:
    """README.md text for a trained model; with `gguf_file`, the card of a GGUF export of its
    merged model."""
    job, title = model.job, model.title(store)
    run = model.folder
    adapter, meta, cfg = model.model_dir, model.meta, model.config
    base = public_base(
        str(
            meta.get("base_model") or run.adapter_config().get("base_model_name_or_path", "unknown")
        )
    )
    fmt = meta.get("prompt_format", "sections")
    dataset, sample = _dataset(store, model)
    sample = sample or Example(
        instruction="What is the sentiment of this news?",
        input="Shares jumped after strong results.",
    )
    question = Example(
        instruction=sample.instruction,
        input=sample.input,
        preamble=sample.preamble,
        style=sample.style,
    )
    tokenizer = _tokenizer(adapter) if fmt == "chat" else None
    try:
        prompt = render_prompt(question, fmt, tokenizer)
    except ValueError:  # no chat template saved with the adapter: the sections layout
        fmt, prompt = "sections", render_prompt(question, "sections")
    hyper = {
        **{k: v for k, v in (cfg.get("peft") or {}).items() if k in PEFT_KEYS},
        **{k: v for k, v in (cfg.get("trainer") or {}).items() if k in HYPER_KEYS},
    }
    summary = job.get("summary") or {}
    metrics = {k: v for k, v in summary.items() if isinstance(v, int | float)}
    metrics.update({f"evaluation {k}": v for k, v in _evaluation(store, model).items()})
    lines = [
        "---",
        "library_name: " + ("transformers" if merged else "peft"),
        f"base_model: {base}" if _is_hub_id(base) else None,
        "tags: [textgen-studio, " + ("merged" if merged else "lora") + "]",
        "---",
        "",
        f"# {title or meta.get('template') or 'Fine-tuned model'}",
        "",
        "Fine-tuned with TextGen Studio"
        + (" (LoRA adapter merged into the base weights)." if merged else " (LoRA adapter)."),
        "",
        f"- **Base model:** `{base}`",
        f"- **Model type:** {meta.get('model_type', 'causal')}",
        f"- **Method:** {meta.get('method', cfg.get('method', 'lora'))}",
        f"- **Dataset version:** {dataset or 'not recorded'}",
        f"- **Max length:** {meta.get('max_length', '?')} tokens",
        f"- **Training job:** {job['id']}",
        "",
        "## Hyperparameters",
        "",
    ]
    lines += [f"- {k}: {_fmt(v)}" for k, v in hyper.items()] or ["- not recorded"]
    lines += ["", "## Final metrics", ""]
    lines += [f"- {k}: {_fmt(v)}" for k, v in metrics.items()] or ["- not recorded"]
    lines += [
        "",
        "## Prompt format",
        "",
        f"Format `{fmt}`. Give the model exactly this layout and let it continue; "
        + (
            "it is the tokenizer's chat template (system = instruction, user = input), "
            "with the assistant turn opened."
            if fmt == "chat"
            else "it answers after the last marker and ends with the end-of-sequence token."
        ),
        "",
        "```text",
        prompt,
        "```",
        "",
        "## How to load",
        "",
        "```python",
    ]
    seq2seq = meta.get("model_type") == "seq2seq"
    auto = "AutoModelForSeq2SeqLM" if seq2seq else "AutoModelForCausalLM"
    if merged:
        lines += [
            f"from transformers import {auto}, AutoTokenizer",
            f'model = {auto}.from_pretrained("path/to/this/folder")',
            'tokenizer = AutoTokenizer.from_pretrained("path/to/this/folder")',
        ]
    else:
        lines += [
            "from peft import PeftModel",
            f"from transformers import {auto}, AutoTokenizer",
            f'base = {auto}.from_pretrained("{base}")',
            'model = PeftModel.from_pretrained(base, "path/to/this/folder")',
            'tokenizer = AutoTokenizer.from_pretrained("path/to/this/folder")',
        ]
    if fmt == "chat":  # the template adds its own special tokens
        lines += [
            f"messages = {to_messages(question, with_answer=False)!r}",
            "inputs = tokenizer.apply_chat_template(messages, add_generation_prompt=True, "
            "return_tensors='pt', return_dict=True)",
        ]
    else:
        lines += [f"inputs = tokenizer({prompt!r}, return_tensors='pt')"]
    # A causal model's output starts with the prompt; a seq2seq model's does not.
    answer = "out[0]" if seq2seq else "out[0, inputs['input_ids'].shape[1]:]"
    lines += [
        "out = model.generate(**inputs, max_new_tokens=64, do_sample=False)",
        f"print(tokenizer.decode({answer}, skip_special_tokens=True))",
        "```",
    ]
    kind = "gguf" if gguf_file else ("merged" if merged else "adapter")
    lines += serving_section(kind, base, fmt == "chat", gguf_file) + [""]
    return "\n".join(line for line in lines if line is not None)
