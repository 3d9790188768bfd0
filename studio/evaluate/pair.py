"""A trained model and its base, loaded once: LoRA adapters switch off for the base.

For an adapter run the base is the same weights with the adapter disabled
(PeftModel.disable_adapter()), so comparing costs no second copy. A fully trained model
(method full / scratch) loads its base separately, when the base can be loaded here.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from studio.models.loading import load_model, load_trained
from studio.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class ModelPair:
    tuned: Any
    tokenizer: Any
    meta: dict
    separate_base: Any = None  # only for full / scratch runs

    @property
    def is_adapter(self) -> bool:
        return hasattr(self.tuned, "disable_adapter") and hasattr(self.tuned, "peft_config")

    @property
    def has_base(self) -> bool:
        return self.is_adapter or self.separate_base is not None

    @contextlib.contextmanager
    def base(self) -> Iterator[Any]:
        """The base model to score / generate with (adapter disabled inside the block)."""
        if self.is_adapter:
            with self.tuned.disable_adapter():
                yield self.tuned
        elif self.separate_base is not None:
            yield self.separate_base
        else:
            raise RuntimeError("this model has no base to compare with")


def load_pair(adapter_dir: str | Path, settings: Settings, with_base: bool = True) -> ModelPair:
    """Load a finished run's model (RUN_DIR/adapter) and, for full runs, its base."""

    model, tokenizer, meta = load_trained(adapter_dir, settings)
    pair = ModelPair(model, tokenizer, meta)
    base_ref = meta.get("base_model", "")
    if with_base and not pair.is_adapter and base_ref and not base_ref.startswith("scratch:"):
        try:
            device = next(model.parameters()).device
            pair.separate_base = load_model(
                base_ref, settings, meta.get("model_type", "causal"), device=str(device)
            ).eval()
        except Exception as exc:  # the tuned numbers are still worth having
            log.warning("base model %s could not be loaded for comparison: %s", base_ref, exc)
    return pair
