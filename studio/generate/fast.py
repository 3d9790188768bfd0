"""The "fast" CPU path: a copy of a model with int8 weights, 4x fewer bytes read per token.

Decoding on a CPU is bound by memory bandwidth (every new token reads every weight), so the
studio serves a copy whose Linear layers (the tied output head included) hold int8 weights
with one fp32 scale per output row, multiplied by torch's own weight-only int8 kernel
(`aten._weight_int8pack_mm`); activations stay fp32. Embeddings and norms stay fp32.
`torch.ao.quantization.quantize_dynamic` (int8 activations too) is deprecated in torch 2.x and
measured slower here; bench/bench_generate.py compares them.

A tuned model's LoRA adapter is merged into the copy before quantizing (FastModels), so
the fast path runs one plain model per tuned version; the copy is rebuilt when the adapter
files change.
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

log = logging.getLogger(__name__)


class Int8Linear(nn.Module):
    """A Linear layer with int8 weights (per output row scale) and fp32 activations."""

    def __init__(self, linear: nn.Linear):
        super().__init__()
        weight = linear.weight.detach().float()
        scales = weight.abs().amax(dim=1).clamp(min=1e-8) / 127.0
        q = torch.round(weight / scales[:, None]).clamp(-128, 127).to(torch.int8)
        self.register_buffer("weight", q.contiguous())
        self.register_buffer("scales", scales.contiguous())
        bias = linear.bias.detach().float().clone() if linear.bias is not None else None
        self.register_buffer("bias", bias)
        self.in_features, self.out_features = linear.in_features, linear.out_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        flat = x.reshape(-1, x.shape[-1]).float()
        out = torch.ops.aten._weight_int8pack_mm(flat, self.weight, self.scales)
        if self.bias is not None:
            out = out + self.bias
        return out.reshape(*x.shape[:-1], self.out_features).to(x.dtype)


def quantize_int8(model: nn.Module) -> nn.Module:
    """`model` with every nn.Linear replaced by Int8Linear, in place (returns it)."""
    for name, child in list(model.named_children()):
        if isinstance(child, nn.Linear):
            setattr(model, name, Int8Linear(child))
        else:
            quantize_int8(child)
    return model


def fast_copy(model: nn.Module) -> nn.Module:
    """An int8 copy of a plain (non-peft) fp32 model for CPU serving; `model` is untouched."""
    clone = copy.deepcopy(model)
    # Untie the output head from the embedding: the head becomes int8, the embedding stays.
    head = clone.get_output_embeddings() if hasattr(clone, "get_output_embeddings") else None
    if head is not None and head.weight is clone.get_input_embeddings().weight:
        head.weight = nn.Parameter(head.weight.detach().clone())
    return quantize_int8(clone).eval()


def merged_copy(model: nn.Module, adapter_dir: str) -> nn.Module:
    """A plain copy of `model` (the base, no adapter layers) with the adapter merged in."""
    from peft import PeftModel

    clone = copy.deepcopy(model)
    return PeftModel.from_pretrained(clone, adapter_dir).merge_and_unload().eval()


def adapter_stamp(adapter_dir: str) -> tuple:
    """What identifies an adapter's content on disk: file names, sizes and mtimes."""
    folder = Path(adapter_dir)
    if not folder.is_dir():
        return ()
    return tuple(sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns)
                        for p in folder.iterdir() if p.is_file()))  # fmt: skip


@dataclass
class Served:
    """A model ready to serve and the batch scheduler that owns its forward passes."""

    model: Any
    scheduler: BatchScheduler


class FastModels:
    """Cached int8 copies: one per (base model key, adapter), rebuilt when the adapter's
    files change. Bounded LRU; `builds` counts real builds (tests)."""

    def __init__(self, size: int = 4):
        self.size = max(1, size)
        self._copies: OrderedDict[tuple, tuple[tuple, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self.builds = 0

    def get(self, key: str, adapter_dir: str, base: Callable[[], nn.Module]) -> Served:
        """The int8 copy of `base()` (+ the adapter in `adapter_dir`, merged first) with the
        scheduler that serves it."""
        stamp = adapter_stamp(adapter_dir) if adapter_dir else ()
        with self._lock:
            cached = self._copies.get((key, adapter_dir))
            if cached is not None and cached[0] == stamp:
                self._copies.move_to_end((key, adapter_dir))
                return cached[1]
            log.info("building the fast (int8) copy of %s %s", key, adapter_dir or "")
            model = base()
            with torch.no_grad():
                plain = merged_copy(model, adapter_dir) if adapter_dir else model
                fast = fast_copy(plain)
            self.builds += 1
            served = Served(fast, BatchScheduler(fast))
            self._copies[(key, adapter_dir)] = (stamp, served)
            while len(self._copies) > self.size:
                self._copies.popitem(last=False)
            return served
