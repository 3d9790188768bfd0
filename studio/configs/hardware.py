"""What the machine can do (CUDA, bf16, GPU memory), for validation and template availability.

`detect_hardware()` avoids importing torch when there is plainly no GPU driver, so the page
can show template availability without paying for a torch import. Tests pass a fake Hardware.
"""

from __future__ import annotations

import functools
import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path

NO_CUDA = "this machine has none"


@dataclass(frozen=True)
class Hardware:
    cuda: bool = False
    bf16: bool = False  # bf16 training supported (a recent CUDA GPU)
    tf32: bool = False  # TF32 matmuls: compute capability 8.0+ (Ampere or newer)
    gpu_name: str = ""
    gpu_mem_gb: float = 0.0
    gpu_count: int = 0  # CUDA devices this process sees (CUDA_VISIBLE_DEVICES applies)

    def describe(self) -> str:
        if not self.cuda:
            return "CPU only (no CUDA GPU)"
        many = f"{self.gpu_count} x " if self.gpu_count > 1 else ""
        return f"{many}{self.gpu_name or 'CUDA GPU'} ({self.gpu_mem_gb:.0f} GB)"


CPU_ONLY = Hardware()


def gpu_driver_present() -> bool:
    """Whether a GPU driver is loaded (checked without importing torch)."""
    # NVIDIA exposes these as soon as its driver is loaded; ROCm exposes /dev/kfd.
    probes = ("/proc/driver/nvidia/version", "/dev/nvidiactl", "/dev/nvidia0", "/dev/kfd")
    return any(Path(p).exists() for p in probes)


@functools.lru_cache(maxsize=1)
def detect_hardware() -> Hardware:
    """This machine's Hardware (cached; torch is imported only when a GPU driver is present)."""
    if "torch" not in sys.modules and not gpu_driver_present():
        return CPU_ONLY
    import torch

    if not torch.cuda.is_available():
        return CPU_ONLY
    props = torch.cuda.get_device_properties(0)
    return Hardware(
        cuda=True,
        bf16=bool(torch.cuda.is_bf16_supported()),
        tf32=props.major >= 8,
        gpu_name=props.name,
        gpu_mem_gb=round(props.total_memory / 2**30, 1),
        gpu_count=int(torch.cuda.device_count()),
    )


def flash_attn_installed() -> bool:
    """Whether the flash-attn package is importable (looked up, not imported)."""
    return importlib.util.find_spec("flash_attn") is not None


def hardware_problems(model: dict, quant: dict, trainer: dict, hw: Hardware) -> list[str]:
    """Settings this machine cannot run: TF32, paged optimizers, flash-attention, bf16 weights."""
    problems = []
    gpu = NO_CUDA if not hw.cuda else f"{hw.gpu_name or 'this GPU'} is older"
    if trainer.get("tf32") is True and not hw.tf32:
        problems.append(
            f"trainer.tf32: TF32 needs an Ampere or newer CUDA GPU; {gpu} — set it to false "
            "or remove it"
        )
    optim = trainer.get("optim")
    if isinstance(optim, str) and optim.startswith("paged_") and not hw.cuda:
        problems.append(
            f"trainer.optim: {optim!r} pages optimizer state out of GPU memory and needs a CUDA "
            f"GPU; {NO_CUDA} — choose 'adamw_torch'"
        )
    if model.get("attn_implementation") == "flash_attention_2":
        if not hw.cuda:
            problems.append(
                "model.attn_implementation: 'flash_attention_2' needs a CUDA GPU; "
                f"{NO_CUDA} — choose 'sdpa'"
            )
        elif not flash_attn_installed():
            problems.append(
                "model.attn_implementation: 'flash_attention_2' needs the flash-attn package, "
                "which is not installed — install it (pip install flash-attn) or choose 'sdpa'"
            )
    no_bf16 = "is 'bfloat16' but this hardware does not support bf16; choose"
    if model.get("dtype") == "bfloat16" and not hw.bf16:
        problems.append(f"model.dtype: {no_bf16} 'float32'")
    if quant.get("load_in_4bit") is True and quant.get("bnb_4bit_compute_dtype") == "bfloat16":
        if not hw.bf16:
            problems.append(f"quantization.bnb_4bit_compute_dtype: {no_bf16} 'float16'")
    return problems
