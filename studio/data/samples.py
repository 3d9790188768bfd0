"""The project's sample datasets: which file, which template suits it, and the quick settings
a demo app trains it with (the demo app itself is a use case: studio.actions.demo_app).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from studio.settings import PROJECT_ROOT

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
