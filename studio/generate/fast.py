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

log = logging.getLogger(__name__)

GROUP = 32  # int4 group size along the input; smaller = closer to fp32, more scales to read


class _WeightOnly(nn.Module):
    """A Linear layer whose weights are stored quantized; activations go to the kernel in
    bf16 and come back in the caller's dtype. Subclasses store the weights and `_matmul`."""

    def __init__(self, linear: nn.Linear):
        super().__init__()
        self.bias = None if linear.bias is None else nn.Parameter(linear.bias.detach().clone())
        self.out_features = linear.out_features

    def _matmul(self, flat: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self._matmul(x.reshape(-1, x.shape[-1]).to(torch.bfloat16))
        y = y.reshape(*x.shape[:-1], self.out_features).to(x.dtype)
        return y if self.bias is None else y + self.bias


class Int8Linear(_WeightOnly):
    """int8 weights, one scale per output row."""

    def __init__(self, linear: nn.Linear):
        super().__init__(linear)
        w = linear.weight.detach().float()
        scale = w.abs().amax(dim=1).clamp(min=1e-8) / 127
        self.register_buffer("qweight", torch.round(w / scale[:, None]).to(torch.int8))
        self.register_buffer("scale", scale.to(torch.bfloat16))

    def _matmul(self, flat: torch.Tensor) -> torch.Tensor:
        return torch.ops.aten._weight_int8pack_mm(flat, self.qweight, self.scale)


class Int4Linear(_WeightOnly):
    """int4 weights in groups of GROUP input columns (a scale and an offset per group)."""

    def __init__(self, linear: nn.Linear):
        super().__init__(linear)
        w = linear.weight.detach().float()
        n, k = w.shape
        groups = w.reshape(n, k // GROUP, GROUP)
        low, high = groups.amin(dim=-1), groups.amax(dim=-1)
        scale = ((high - low) / 15).clamp(min=1e-8)
        q = torch.round((groups - low[..., None]) / scale[..., None]).clamp(0, 15)
        q = q.to(torch.int32).reshape(n, k)
        # The kernel computes (q - 8) * scale + zero, so zero = low + 8 * scale.
        packed = torch.ops.aten._convert_weight_to_int4pack_for_cpu(q, 1)
        zeros = torch.stack([scale, low + 8 * scale], dim=-1).transpose(0, 1).contiguous()
        self.register_buffer("packed", packed)
        self.register_buffer("scale_zero", zeros.to(torch.bfloat16))

    def _matmul(self, flat: torch.Tensor) -> torch.Tensor:
        return torch.ops.aten._weight_int4pack_mm_for_cpu(flat, self.packed, GROUP, self.scale_zero)


def _works(layer: nn.Module, linear: nn.Linear) -> bool:
    """Whether `layer` runs on a small input and gives finite values of `linear`'s shape
    (a kernel may still raise on a case `fits` does not foresee)."""
    x = torch.randn(2, linear.in_features)
    try:
        got, want = layer(x), linear(x)
    except RuntimeError:
        return False
    return bool(torch.isfinite(got).all()) and got.shape == want.shape


def fits(kind: type, linear: nn.Linear) -> bool:
    """Whether torch's CPU kernel for `kind` takes this layer's shape. Checked before any
    call: on a shape it does not take, the kernel can crash the process instead of raising."""
    if kind is Int4Linear:
        return linear.in_features % GROUP == 0 and linear.out_features % 16 == 0
    return linear.in_features % 16 == 0


def quantized(linear: nn.Linear, bits: int) -> nn.Module:
    """The smallest working weight-only copy of `linear`: int4 (bits=4), else int8, else
    the fp32 layer itself."""
    kinds = (Int4Linear, Int8Linear) if bits == 4 else (Int8Linear,)
    for kind in kinds:
        if not fits(kind, linear):
            continue
        try:
            layer = kind(linear)
        except RuntimeError:
            continue
        if _works(layer, linear):
            return layer
    return linear


def _swap(module: nn.Module, skip: nn.Module | None) -> None:
    for name, child in module.named_children():
        if child is skip:
            continue
        if type(child) is nn.Linear:
            setattr(module, name, quantized(child, 4))
        else:
            _swap(child, skip)


def fast_copy(model: nn.Module, inplace: bool = False) -> nn.Module:
    """A weight-only int4 copy (int8 output head) of a plain (non-peft) fp32 model for CPU
    serving; `model` is untouched unless `inplace` (for a copy nobody else holds)."""
    clone = model if inplace else copy.deepcopy(model)
    with torch.no_grad():
        head = clone.get_output_embeddings() if hasattr(clone, "get_output_embeddings") else None
        _swap(clone, skip=head)
        if type(head) is nn.Linear:
            # A tied head shares the input embedding's weight: the int8 copy is its own, and
            # the embedding keeps the fp32 weight.
            clone.set_output_embeddings(quantized(head, 8))
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
