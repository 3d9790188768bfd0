"""How much memory a template's model needs to fine-tune, and the hardware that holds it.

    est = estimate(params_b=1.24)            # Estimate(lora_gb=4.2, qlora_gb=2.9, cpu_gb=7.0)
    fits(est, "lora", params_b=1.24)         # ("T4", "A10G", "A100")

Rules of thumb for a LoRA run at the templates' defaults (batch 4 x 512 tokens, gradient
checkpointing on a GPU), stated so they can be checked and changed in one place:
- LoRA on a GPU keeps the base in 16-bit: 2 bytes a parameter, plus about 20% for the
  adapter, its optimizer state, buffers and the CUDA context, plus ~1.5 GB of activations.
- QLoRA keeps the linear layers in 4-bit NF4 (0.5 byte a parameter, a little more with the
  quantization constants) and the embeddings in 16-bit: about 0.7 byte a parameter overall,
  with the same 20% and activations.
- On a CPU the base stays fp32 (4 bytes a parameter) for LoRA; torch itself and the
  activations of a CPU batch add ~2 GB.
A GPU fits when the estimate is under its memory (T4 16 GB, no bf16: fp16 training; A10G
24 GB; A100 80 GB). A CPU "fits" models up to ~0.6B parameters, where a training step takes
seconds, not minutes (bench/README.md has the measured steps of SmolLM2-135M).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

GPUS = (("T4", 16.0), ("A10G", 24.0), ("A100", 80.0))
CPU_MAX_PARAMS_B = 0.6
_OVERHEAD = 1.2  # adapter, optimizer state, buffers, allocator slack
_ACTIVATIONS_GB = 1.5
_CPU_RUNTIME_GB = 2.0


@dataclass(frozen=True)
class Estimate:
    """Memory to fine-tune one model, in GB, rounded up to a tenth."""

    lora_gb: float  # GPU, 16-bit base
    qlora_gb: float  # GPU, 4-bit base
    cpu_gb: float  # CPU, fp32 base (LoRA)


def _up(gb: float) -> float:
    return math.ceil(gb * 10) / 10


def estimate(params_b: float) -> Estimate:
    """The memory estimates for a model of `params_b` billion parameters."""
    return Estimate(
        lora_gb=_up(params_b * 2.0 * _OVERHEAD + _ACTIVATIONS_GB),
        qlora_gb=_up(params_b * 0.7 * _OVERHEAD + _ACTIVATIONS_GB),
        cpu_gb=_up(params_b * 4.0 * _OVERHEAD + _CPU_RUNTIME_GB),
    )


def fits(est: Estimate, method: str, params_b: float) -> tuple[str, ...]:
    """The hardware (the CPU and the GPUS) that can train this model with `method`."""
    need = est.qlora_gb if method == "qlora" else est.lora_gb
    out = ["CPU"] if params_b <= CPU_MAX_PARAMS_B else []
    out += [name for name, memory in GPUS if need < memory]
    return tuple(out)
