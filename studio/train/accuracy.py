"""Validation accuracy during training, for classification-style data.

Scored exactly as the Evaluate tab scores it (studio.scoring.labels): the model's
probability of each label's continuation after the prompt, normalised across labels; the
prediction is the most likely label. The labels are the ones the dataset stats detect
(studio.data.stats.detect_task), over the training and validation examples together.
"""

from __future__ import annotations

from typing import Any

from studio.data.stats import detect_task, normalise_label
from studio.jobs.step_plan import ACCURACY_SAMPLE
from studio.scoring.labels import classification_metrics, label_probabilities
from studio.vocab.examples import Example

MAX_EXAMPLES = ACCURACY_SAMPLE  # a sample: each scored row costs time out of the training budget


class LabelAccuracy:
    """Scores a model's accuracy on (at most MAX_EXAMPLES of) the validation examples."""

    def __init__(
        self,
        examples: list[Example],
        labels: list[str],
        tokenizer: Any,
        cfg: dict[str, Any],
        batch_size: int = 8,
    ):
        self.examples, self.labels, self.tokenizer = examples, labels, tokenizer
        self.meta = {
            "prompt_format": cfg["tokenizer"].get("prompt_format", "sections"),
            "max_length": cfg["tokenizer"].get("max_length", 256),
            "model_type": cfg["model_type"],
        }
        self.batch_size = batch_size
        self.y_true = [normalise_label(ex.output) for ex in examples]

    @classmethod
    def for_run(
        cls, train: list[Example], valid: list[Example], tokenizer: Any, cfg: dict[str, Any]
    ) -> LabelAccuracy | None:
        """The scorer when the data is classification-style and has validation rows, else None."""
        task, labels, _ = detect_task(train + valid)
        if task != "classification" or not labels:
            return None
        labels = list(dict.fromkeys(normalise_label(x) for x in labels))
        known = set(labels)
        scored = [ex for ex in valid if normalise_label(ex.output) in known][:MAX_EXAMPLES]
        if not scored:
            return None
        bs = int(cfg["trainer"].get("per_device_eval_batch_size") or 8)
        return cls(scored, labels, tokenizer, cfg, bs)

    def limit(self, n: int) -> None:
        """Score only the first n examples from now on."""
        self.examples, self.y_true = self.examples[:n], self.y_true[:n]

    def score(self, model: Any) -> float:
        """Accuracy of the model's most likely label (leaves the model in eval mode)."""
        probs = label_probabilities(
            model, self.tokenizer, self.examples, self.labels, self.meta, self.batch_size
        )
        return float(classification_metrics(self.y_true, probs, self.labels)["accuracy"])
