"""The "fast" CPU path: a copy of a model with weight-only int4/int8 Linear layers.

Decoding on a CPU reads every weight for every token, so fewer bytes per weight means more
tokens per second. The fast copy keeps the weights of every Linear layer in int4 (groups of
32 input columns, each with its own scale and offset) and the output head in int8 (one scale
per output row), and multiplies them with bf16 activations (torch's CPU kernels
`_weight_int4pack_mm_for_cpu` / `_weight_int8pack_mm`). Embeddings and norms stay fp32.

Chosen by measurement on SmolLM2-135M (bench/bench_generate.py, bench/README.md): against
torch's dynamic int8 quantization (int8 activations too, the previous fast path), weight-only
int4 with an int8 head is faster and keeps fp32's greedy answer far more often, because the
activations -- where SmolLM2's outliers live -- are never rounded to 8 bits. An int4 head
lost that agreement, so the head stays int8. Answers can still differ from fp32's, which is
why "exact (fp32)" stays the default and "fast" is the user's choice.

How each weight is rounded (studio/generate/rounding.py): the levels are chosen against the
bf16 scale and zero the kernel really multiplies by; a group already on a 4-bit grid (a model
converted from a 4-bit file, like the packaged SmolLM2) is kept as it is, and any other group
takes the best of a few clipped ranges refitted by least squares. The int8 head recomputes
each position's top logits in fp32 (ExactTopHead), so that the head's rounding cannot swap
two close candidates for the next token (the body's rounding still can, rarely).

A layer whose shape a kernel does not take (int4: input width a multiple of 32 and output
width of 16; int8: input width a multiple of 16) falls back to int8, else stays fp32.

A tuned model's LoRA adapter is not merged into the int4 weights (a fine-tune's change to a
weight is smaller than an int4 step, and merging lost a tuned classifier's accuracy: 91 % ->
3 % on held-out Financial PhraseBank). The copy quantizes the base layers and keeps the
adapter's small matrices beside them in fp32 (LoraOnTop). FastModels keeps one copy per tuned
version and rebuilds it when the adapter files change.
"""

from __future__ import annotations

import copy
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from studio.generate.batcher import BatchScheduler
from studio.generate.quant_layers import (  # noqa: F401 - re-exported for callers and tests
    GROUP,
    ExactTopHead,
    Int4Linear,
    Int8Linear,
    fits,
    output_head,
    quantized,
)
from studio.generate.rounding import input_importance

log = logging.getLogger(__name__)


def _swap(module: nn.Module, skip: nn.Module | None, importance: dict) -> None:
    for name, child in module.named_children():
        if child is skip:
            continue
        if type(child) is nn.Linear:
            setattr(module, name, quantized(child, 4, importance.get(id(child))))
        else:
            _swap(child, skip, importance)


def fast_copy(
    model: nn.Module, inplace: bool = False, calibration: list[torch.Tensor] | None = None
) -> nn.Module:
    """A weight-only int4 copy (int8 output head) of a plain (non-peft) fp32 model for CPU
    serving; `model` is untouched unless `inplace` (for a copy nobody else holds).
    `calibration` (1-D rows of token ids) weights each layer's int4 rounding by the sizes
    of its inputs on them."""
    clone = model if inplace else copy.deepcopy(model)
    with torch.no_grad():
        importance = {} if calibration is None else input_importance(clone, calibration)
        head = clone.get_output_embeddings() if hasattr(clone, "get_output_embeddings") else None
        _swap(clone, head, importance)
        if type(head) is nn.Linear:
            # A tied head shares the input embedding's weight: the int8 copy is its own, and
            # the embedding keeps the fp32 weight.
            clone.set_output_embeddings(output_head(head, importance.get(id(head))))
    return clone.eval()


class LoraOnTop(nn.Module):
    """A LoRA adapter kept beside its (quantized) base layer: base(x) + B(A(x)) * scaling.

    Merging an adapter into int4 weights would round most of it away (a fine-tune's change
    to a weight is far smaller than an int4 step), so the fast copy quantizes only the
    base layer and runs the adapter's two small matrices in fp32, as it trained."""

    def __init__(self, base: nn.Module, lora_a: torch.Tensor, lora_b: torch.Tensor, scaling):
        super().__init__()
        self.base = base
        self.register_buffer("lora_a", lora_a.detach().float().clone())
        self.register_buffer("lora_b", lora_b.detach().float().clone())
        self.scaling = float(scaling)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        low = nn.functional.linear(nn.functional.linear(x, self.lora_a), self.lora_b)
        return self.base(x) + low * self.scaling


def _plain_lora(module: nn.Module) -> bool:
    """Whether `module` is a plain LoRA Linear layer with one adapter (no DoRA, no bias, no
    other variant): the kind LoraOnTop reproduces exactly."""
    from peft.tuners.lora.layer import Linear as LoraLinear

    if type(module) is not LoraLinear or type(module.base_layer) is not nn.Linear:
        return False
    names = list(module.lora_A)
    return (
        len(names) == 1
        and not module.merged_adapters
        and not module.fan_in_fan_out
        and not module.use_dora.get(names[0])
        and not getattr(module, "lora_bias", {}).get(names[0])
        and names[0] not in getattr(module, "lora_variant", {})
    )


def adapted_copy(model: nn.Module, adapter_dir: str) -> nn.Module:
    """A plain copy of `model` (the base, no peft wrapper) carrying the adapter in
    `adapter_dir`: plain LoRA Linear layers become LoraOnTop (the adapter kept apart, so
    fast_copy quantizes only the base weights); anything else the adapter holds (DoRA,
    embeddings, saved modules) is merged in."""
    from peft import PeftModel

    peft_model = PeftModel.from_pretrained(copy.deepcopy(model), adapter_dir)
    for name, module in list(peft_model.named_modules()):
        if not _plain_lora(module):
            continue
        adapter = next(iter(module.lora_A))
        kept = LoraOnTop(
            module.base_layer,
            module.lora_A[adapter].weight,
            module.lora_B[adapter].weight,
            module.scaling[adapter],
        )
        parent_name, _, child = name.rpartition(".")
        setattr(peft_model.get_submodule(parent_name), child, kept)
    return peft_model.merge_and_unload().eval()


def adapter_stamp(adapter_dir: str) -> tuple:
    """What identifies an adapter's content on disk: file names, sizes and mtimes."""
    folder = Path(adapter_dir)
    if not folder.is_dir():
        return ()
    return tuple(
        sorted(
            (p.name, p.stat().st_size, p.stat().st_mtime_ns)
            for p in folder.iterdir()
            if p.is_file()
        )
    )


@dataclass
class Served:
    """A model ready to serve and the batch scheduler that owns its forward passes."""

    model: Any
    scheduler: BatchScheduler


class FastModels:
    """Cached fast copies: one per (base model key, adapter), rebuilt when the adapter's
    files change. Bounded LRU; `builds` counts real builds (tests)."""

    def __init__(self, size: int = 4):
        self.size = max(1, size)
        self._copies: OrderedDict[tuple, tuple[tuple, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self.builds = 0

    def get(self, key: str, adapter_dir: str, base: Callable[[], nn.Module]) -> Served:
        """The fast copy of `base()` (+ the adapter in `adapter_dir`, kept beside the
        quantized base layers) with the scheduler that serves it."""
        stamp = adapter_stamp(adapter_dir) if adapter_dir else ()
        with self._lock:
            cached = self._copies.get((key, adapter_dir))
            if cached is not None and cached[0] == stamp:
                self._copies.move_to_end((key, adapter_dir))
                return cached[1]
            log.info("building the fast (int4) copy of %s %s", key, adapter_dir or "")
            model = base()
            with torch.no_grad():
                if adapter_dir:  # adapted_copy made a private copy: no second one
                    fast = fast_copy(adapted_copy(model, adapter_dir), inplace=True)
                else:
                    fast = fast_copy(model)
            self.builds += 1
            served = Served(fast, BatchScheduler(fast))
            self._copies[(key, adapter_dir)] = (stamp, served)
            while len(self._copies) > self.size:
                self._copies.popitem(last=False)
            return served
