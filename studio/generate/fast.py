"""The "fast" CPU path: a copy of a model with int8 Linear layers, 4x fewer bytes per token.

Decoding on a CPU is bound by memory bandwidth (every new token reads every weight), so the
studio serves a copy whose Linear layers (the output head included) are int8, one scale per
output row, with dynamic int8 activations (torch's fbgemm kernels, `quantize_dynamic`);
embeddings and norms stay fp32. Quantizing activations costs exactness: on SmolLM2 greedy
answers often leave fp32's after a few tokens (measured in bench/bench_generate.py), which
is why "exact (fp32)" is the default and "fast" is the user's choice. bench/bench_generate.py chose it by measurement: torch's weight-only int8 kernel
(`aten._weight_int8pack_mm`) and bf16 weights were slower than fp32 on this kind of CPU,
torchao is not installable here, and llama.cpp needs a long source build. The
`torch.ao.quantization` API is deprecated in torch 2.x but still ships in 2.13; its
deprecation warnings are silenced here because the studio pins the behaviour by tests.

A tuned model's LoRA adapter is merged into the copy before quantizing (FastModels), so
the fast path runs one plain model per tuned version; the copy is rebuilt when the adapter
files change.
"""

from __future__ import annotations

import copy
import logging
import threading
import warnings
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from studio.generate.batcher import BatchScheduler

log = logging.getLogger(__name__)


def fast_copy(model: nn.Module) -> nn.Module:
    """An int8 copy of a plain (non-peft) fp32 model for CPU serving; `model` is untouched."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the deprecation notice of torch.ao.quantization
        from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

        clone = copy.deepcopy(model)
        # One scale per output row (a single per-tensor scale moved SmolLM2's logits by ~13).
        # Every Linear, the output head included: keeping the layers whose inputs carry
        # activation outliers (MLP down projections, head) in fp32 improved agreement with
        # fp32 but left no speed gain (bench/README.md), so "fast" trades exactness for speed.
        spec = {nn.Linear: per_channel_dynamic_qconfig}
        return quantize_dynamic(clone, spec, dtype=torch.qint8, inplace=True).eval()


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
