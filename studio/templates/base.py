"""Template: a pre-configured starting point for a model (base model, type, method, defaults).

A template is data, not code: the registry (studio.templates.registry) holds one Template per
key. `default_dicts()` gives the five config dicts with the template's hyperparameters
written in; `availability()` answers "can this run here?" cheaply (no network; torch only
when a GPU driver is present).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from studio.settings import Settings

MODEL_TYPES = {"causal": "Text Generator", "seq2seq": "Text-to-Text"}
METHODS = {
    "lora": "LoRA adapter on a full-precision base",
    "qlora": "LoRA adapter on a 4-bit (NF4) base",
    "scratch": "a new model with random weights, trained in full",
    "full": "every weight of the base trained",
}
# PEFT's task_type per model type (the adapter wraps the right head).
TASK_TYPES = {"causal": "CAUSAL_LM", "seq2seq": "SEQ_2_SEQ_LM"}


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
    def type_title(self) -> str:
        return " / ".join(MODEL_TYPES[t] for t in self.allowed_types)

    def default_hyper(self) -> dict[str, Any]:
        """The form's starting values: the studio defaults with this template's overrides."""
        from studio.configs.hardware import detect_hardware
        from studio.configs.hyper import DEFAULT_HYPER
        from studio.configs.launch import default_processes

        hyper = copy.deepcopy(DEFAULT_HYPER)
        hyper["processes"] = default_processes(detect_hardware())
        if detect_hardware().cuda:
            hyper["time_budget_min"] = 0.0  # a GPU run is fast: the budget is opt-in there
        hyper.update(copy.deepcopy(self.hyper))
        hyper["base_model"] = self.base_model
        return hyper

    def default_dicts(self, model_type: str | None = None) -> dict[str, dict]:
        """The five config dicts pre-filled for this template (fresh copies)."""
        from studio.configs.hyper import apply_hyperparameters

        model_type = model_type or self.model_type
        dicts = {
            "model": {"base_model": self.base_model, **copy.deepcopy(self.model)},
            "quantization": copy.deepcopy(self.quantization),
            "peft": copy.deepcopy(self.peft),
            "tokenizer": copy.deepcopy(self.tokenizer),
            "trainer": copy.deepcopy(self.trainer),
        }
        if dicts["peft"]:
            dicts["peft"]["task_type"] = TASK_TYPES[model_type]
        return apply_hyperparameters(dicts, self.default_hyper())

    def availability(self, settings: Settings, hardware: Any = None,
                     base_model: str | None = None) -> tuple[bool, str]:  # fmt: skip
        """(ok, reason): whether this template can train here; the reason says what to do."""
        from studio.configs.hardware import detect_hardware
        from studio.models.resolve import model_availability

        hardware = hardware or detect_hardware()
        if self.needs_cuda and not hardware.cuda:
            return False, (
                "needs a CUDA GPU (bitsandbytes 4-bit); this machine has none. Pick a LoRA "
                "template such as SmolLM2-135M-Instruct LoRA, or run the studio on a GPU machine."
            )
        return model_availability(base_model or self.base_model, settings)
