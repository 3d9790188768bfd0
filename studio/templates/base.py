"""Template: a pre-configured starting point for a model (base model, type, method, defaults).

A template is data, not code: the registry (studio.templates.registry) holds one Template per
key. studio.configs.defaults turns one into the form's starting values and the five config
dicts, and answers whether it can train here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from studio.templates.sizing import Estimate, estimate, fits
from studio.vocab.models import MODEL_TYPES

HUB_PAGE = "https://huggingface.co/"


@dataclass(frozen=True)
class Template:
    key: str
    title: str
    description: str
    model_type: str  # "causal" (Text Generator) | "seq2seq" (Text-to-Text)
    method: str  # "lora" | "qlora" | "scratch" | "full"
    base_model: str  # a model ref (see studio.models.resolve); "" for Custom
    needs_cuda: bool = False  # cannot run at all without a CUDA GPU
    architecture: str = ""  # the base's transformers model_type ("llama", "qwen3", ...)
    params_b: float = 0.0  # size in billions of parameters (0: unknown, e.g. Custom)
    license: str = ""  # the base model's licence, as its model card names it
    gated: bool = False  # the Hub asks each user to accept the licence before downloading
    hardware_note: str = ""  # what the numbers alone do not say (e.g. "GPU advised")
    hyper: dict[str, Any] = field(default_factory=dict)  # overrides of DEFAULT_HYPER
    model: dict[str, Any] = field(default_factory=dict)
    quantization: dict[str, Any] = field(default_factory=dict)
    peft: dict[str, Any] = field(default_factory=dict)
    tokenizer: dict[str, Any] = field(default_factory=dict)
    trainer: dict[str, Any] = field(default_factory=dict)
    model_types: tuple[str, ...] = ()  # types the user may pick; default (model_type,)

    @property
    def allowed_types(self) -> tuple[str, ...]:
        return self.model_types or (self.model_type,)

    @property
    def base_title(self) -> str:
        """The base model as a person names it: the title without the method
        ("SmolLM2-135M-Instruct LoRA" -> "SmolLM2-135M-Instruct")."""
        for method in (" QLoRA", " LoRA"):
            if self.title.endswith(method):
                return self.title[: -len(method)]
        return self.title

    @property
    def type_title(self) -> str:
        return " / ".join(MODEL_TYPES[t] for t in self.allowed_types)

    @property
    def memory(self) -> Estimate | None:
        """Memory to fine-tune the base with LoRA / QLoRA / on a CPU (None: size unknown)."""
        return estimate(self.params_b) if self.params_b else None

    @property
    def fits(self) -> tuple[str, ...]:
        """The hardware (CPU, T4, A10G, A100) that can train this template as it is."""
        return fits(self.memory, self.method, self.params_b) if self.memory else ()

    @property
    def access_page(self) -> str:
        """The Hub page where the licence of a gated base is accepted ("" when not gated)."""
        return HUB_PAGE + self.base_model if self.gated else ""
