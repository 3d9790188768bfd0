"""The project's sample datasets, and a one-click demo app built from one of them.

    create_demo_app(store, settings, "sentiment")  # app + dataset version + saved model

A demo app is exactly what a user would make by hand: an app, a dataset version from the
sample file (parsed and validated like any upload), and a model configuration from the
sample's template with settings small enough to train on a laptop CPU in a few minutes.
If any step fails, the half-made app is removed again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from studio.configs.defaults import default_dicts, default_hyper
from studio.configs.saving import save_model
from studio.data.stats import default_tokenizer
from studio.data.versions import create_version
from studio.errors import StudioError
from studio.models.resolve import PACKAGED_HUB_ID
from studio.settings import PROJECT_ROOT, Settings
from studio.store import Store
from studio.templates import get_template

SAMPLE_DIR = PROJECT_ROOT / "sample_data"


@dataclass(frozen=True)
class Sample:
    key: str
    title: str  # what the use case is, for the dropdown and the app name
    file: str  # under sample_data/
    template: str  # the template key that suits it
    model_type: str  # "causal" | "seq2seq"
    # Quick-demo settings: the template's defaults with these hyperparameters changed.
    hyper: dict[str, Any] = field(default_factory=dict)

    @property
    def path(self) -> Path:
        return SAMPLE_DIR / self.file


_QUICK = {"epochs": 2.0, "learning_rate": 1e-3, "batch_size": 8, "max_length": 128}

SAMPLES: dict[str, Sample] = {
    s.key: s
    for s in (
        Sample(
            "sentiment",
            "Sentiment classification",
            "sentiment_clarifai.csv",
            "smollm2-135m-lora",
            "causal",
            _QUICK,
        ),
        Sample(
            "qa",
            "Question answering",
            "question_answering.jsonl",
            "smollm2-135m-lora",
            "causal",
            _QUICK,
        ),
        Sample(
            "summarization",
            "Summarization",
            "summarization.jsonl",
            "smollm2-135m-lora",
            "causal",
            {**_QUICK, "max_length": 256, "batch_size": 4},
        ),
        Sample(
            "translation",
            "Translation (English → French)",
            "translation.csv",
            "smollm2-135m-lora",
            "causal",
            _QUICK,
        ),
        Sample(
            "domain-text",
            "Domain text, from scratch",
            "domain_text.txt",
            "tiny-gpt-scratch",
            "causal",
            {"epochs": 3.0, "max_length": 128},
        ),
    )
}


def sample_choices() -> list[tuple[str, str]]:
    """(label, key) for a dropdown."""
    return [(f"{s.title} ({s.file})", s.key) for s in SAMPLES.values()]


def _unused_name(store: Store, owner: str, base: str) -> str:
    taken = {a["name"] for a in store.list_apps(owner=owner)}
    name, n = base, 2
    while name in taken:
        name, n = f"{base} ({n})", n + 1
    return name


def create_demo_app(store: Store, settings: Settings, key: str, owner: str = "local") -> dict:
    """App + dataset version + saved model for sample `key`: {"app", "version", "model"}."""
    sample = SAMPLES.get(key)
    if sample is None:
        raise StudioError(f"There is no sample called {key!r}; pick one from the list.")
    if not sample.path.is_file():
        raise StudioError(f"The sample file {sample.file} is missing from sample_data/.")
    template = get_template(sample.template)
    app = store.create_app(
        _unused_name(store, owner, f"Demo: {sample.title}"),
        owner=owner,
        description=f"Made from sample_data/{sample.file}",
    )
    try:
        tokenizer, why = default_tokenizer(settings)
        version, _report = create_version(
            store,
            settings,
            app["id"],
            Path(sample.file).stem,
            [str(sample.path)],
            tokenizer=tokenizer,
            token_note=why,
            tokenizer_name=PACKAGED_HUB_ID.split("/")[-1],
        )
        hyper = {**default_hyper(template), **sample.hyper}
        hyper["valid_pct"] = version.get("valid_pct", hyper.get("valid_pct", 10.0))
        model = save_model(
            store,
            app["id"],
            f"{sample.key}-demo",
            template.key,
            sample.model_type,
            version["id"],
            hyper,
            default_dicts(template, sample.model_type),
        )
    except BaseException:
        store.delete_app(app["id"])  # nothing half-made is left behind
        raise
    return {"app": app, "version": version, "model": model}
