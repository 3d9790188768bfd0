"""Template: a pre-configured starting point for a model (base model, type, method, defaults).

A template is data, not code: the registry (studio.templates.registry) holds one Template per
key. studio.configs.defaults turns one into the form's starting values and the five config
dicts, and answers whether it can train here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from studio.vocab.models import MODEL_TYPES


@dataclass(frozen=True)
class Template:
    key: str
    title: str
    description: str
    model_type: str  # "causal" (Text Generator) | "seq2seq" (Text-to-Text)
    method: str  # "lora" | "qlora" | "scratch" | "full"
    base_model: str  # a model ref (see studio.models.resolve); "" for Custom
    needs_cuda: bool = False
    memory_note: str = ""  # hardware it needs, in words
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
