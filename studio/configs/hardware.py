"""What the machine can do (CUDA, bf16, GPU memory), for validation and template availability.

`detect_hardware()` avoids importing torch when there is plainly no GPU driver, so the page
can show template availability without paying for a torch import. Tests pass a fake Hardware.

bf16 on a CPU: an x86 CPU with AVX512-BF16 or AMX runs bf16 matmuls natively (oneDNN), so
bf16 autocast is a little faster there (about 1.06x a whole training step, bench/README.md);
any other CPU emulates bf16 and is slower than fp32, so the studio offers bf16 mixed
precision on a CPU only with those instructions. fp32 stays the default. Weights stay fp32 either way: `model.dtype` bfloat16 remains a CUDA matter.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from studio.errors import Problem

NO_CUDA = "this machine has none"
# /proc/cpuinfo flags of the x86 instructions that make bf16 native (not emulated).
CPU_BF16_FLAGS = ("avx512_bf16", "amx_bf16")
CPU_BF16_NAMES = {"avx512_bf16": "AVX512-BF16", "amx_bf16": "AMX"}


@dataclass(frozen=True)
class Hardware:
    cuda: bool = False
    bf16: bool = False  # bf16 training supported (a recent CUDA GPU)
    tf32: bool = False  # TF32 matmuls: compute capability 8.0+ (Ampere or newer)
    gpu_name: str = ""
    gpu_mem_gb: float = 0.0
    gpu_count: int = 0  # CUDA devices this process sees (CUDA_VISIBLE_DEVICES applies)
    cpu_bf16: str = ""  # the CPU's native bf16 instructions ("AMX", "AVX512-BF16"); "" = none

    @property
    def mixed_bf16(self) -> bool:
        """Whether bf16 mixed precision (trainer.bf16) runs natively where training runs: on
        a bf16 GPU, or on a CPU-only machine whose CPU has bf16 instructions."""
        return self.bf16 or (not self.cuda and bool(self.cpu_bf16))

    def precision_note(self) -> str:
        """One line for the page: which training precisions this machine offers, and why."""
        if self.cuda:
            if self.bf16:
                return "bf16 or fp16 mixed precision on this GPU; fp32 is slower"
            return "fp16 mixed precision on this GPU (it has no bf16); or fp32"
        if self.cpu_bf16:
            return (
                f"fp32, or bf16 (this CPU runs it natively: {self.cpu_bf16}): a little faster, "
                "weights stay fp32"
            )
        return "fp32: this CPU has no bf16 instructions (AVX512-BF16 or AMX), so bf16 would be slow"

    def describe(self) -> str:
        if not self.cuda:
            bf16 = f", bf16 via {self.cpu_bf16}" if self.cpu_bf16 else ""
            return f"CPU only (no CUDA GPU{bf16})"
        many = f"{self.gpu_count} x " if self.gpu_count > 1 else ""
        return f"{many}{self.gpu_name or 'CUDA GPU'} ({self.gpu_mem_gb:.0f} GB)"


CPU_ONLY = Hardware()


def _cpuinfo_flags() -> set[str]:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.partition(":")[2].split())
    except OSError:
        pass
    return set()


def cpu_bf16_support() -> str:
    """The CPU's native bf16 instructions ("AMX", "AVX512-BF16"), or "" when it has none.

    Asks torch when it is already imported (the training process), else reads /proc/cpuinfo,
    so the page need not import torch. STUDIO_CPU_BF16=0 turns it off (e.g. to compare)."""
    if os.environ.get("STUDIO_CPU_BF16", "").strip().lower() in ("0", "false", "no", "off"):
        return ""
    torch = sys.modules.get("torch")
    cpu = getattr(torch, "cpu", None)
    amx = getattr(cpu, "_is_amx_tile_supported", None)
    avx = getattr(cpu, "_is_avx512_bf16_supported", None)
    if callable(amx) and callable(avx):
        try:
            found = {"amx_bf16": bool(amx()), "avx512_bf16": bool(avx())}
        except RuntimeError:
            found = {}
        if found:
            return " and ".join(CPU_BF16_NAMES[k] for k in sorted(found) if found[k])
    flags = _cpuinfo_flags()
    return " and ".join(CPU_BF16_NAMES[k] for k in sorted(CPU_BF16_FLAGS) if k in flags)


def gpu_driver_present() -> bool:
    """Whether a GPU driver is loaded (checked without importing torch)."""
    # NVIDIA exposes these as soon as its driver is loaded; ROCm exposes /dev/kfd.
    probes = ("/proc/driver/nvidia/version", "/dev/nvidiactl", "/dev/nvidia0", "/dev/kfd")
    return any(Path(p).exists() for p in probes)


@functools.lru_cache(maxsize=1)
def detect_hardware() -> Hardware:
    """This machine's Hardware (cached; torch is imported only when a GPU driver is present)."""
    if "torch" not in sys.modules and not gpu_driver_present():
        return Hardware(cpu_bf16=cpu_bf16_support())
    import torch

    if not torch.cuda.is_available():
        return Hardware(cpu_bf16=cpu_bf16_support())
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


def bf16_refusal(hw: Hardware) -> str:
    """Why bf16 mixed precision is refused on this machine, and what to choose instead."""
    if hw.cuda:
        return (
            f"{hw.gpu_name or 'this GPU'} does not support bf16 (it needs an Ampere or newer "
            "CUDA GPU); choose fp16 or fp32"
        )
    return (
        "this CPU has no bf16 instructions (bf16 needs a CUDA GPU, or a CPU with AVX512-BF16 "
        "or AMX such as Intel Xeon 4th gen / Sapphire Rapids); it would emulate bf16, slower "
        "than fp32 — choose fp32"
    )


def hardware_problems(model: dict, quant: dict, trainer: dict, hw: Hardware) -> list[Problem]:
    """Settings this machine cannot run: TF32, paged optimizers, flash-attention, bf16 weights."""
    problems = []
    gpu = NO_CUDA if not hw.cuda else f"{hw.gpu_name or 'this GPU'} is older"
    if trainer.get("tf32") is True and not hw.tf32:
        problems.append(
            Problem(
                "trainer.tf32",
                f"TF32 needs an Ampere or newer CUDA GPU; {gpu} — set it to false or remove it",
            )
        )
    optim = trainer.get("optim")
    if isinstance(optim, str) and optim.startswith("paged_") and not hw.cuda:
        problems.append(
            Problem(
                "trainer.optim",
                f"{optim!r} pages optimizer state out of GPU memory and needs a CUDA GPU; "
                f"{NO_CUDA} — choose 'adamw_torch'",
            )
        )
    if model.get("attn_implementation") == "flash_attention_2":
        if not hw.cuda:
            problems.append(
                Problem(
                    "model.attn_implementation",
                    f"'flash_attention_2' needs a CUDA GPU; {NO_CUDA} — choose 'sdpa'",
                )
            )
        elif not flash_attn_installed():
            problems.append(
                Problem(
                    "model.attn_implementation",
                    "'flash_attention_2' needs the flash-attn package, which is not installed "
                    "— install it (pip install flash-attn) or choose 'sdpa'",
                )
            )
    no_bf16 = "is 'bfloat16' but this hardware does not support bf16; choose"
    if model.get("dtype") == "bfloat16" and not hw.bf16:
        if not hw.cuda and hw.cpu_bf16:
            problems.append(
                Problem(
                    "model.dtype",
                    "'bfloat16' weights need a bf16 CUDA GPU; on this CPU choose 'float32' "
                    "and Precision bf16 (bf16 computation, fp32 weights)",
                )
            )
        else:
            problems.append(Problem("model.dtype", f"{no_bf16} 'float32'"))
    compute = quant.get("bnb_4bit_compute_dtype")
    if quant.get("load_in_4bit") is True and compute == "bfloat16" and not hw.mixed_bf16:
        instead = "'float16'" if hw.cuda else "'float32' (the CPU backend's fp32 kernel)"
        problems.append(Problem("quantization.bnb_4bit_compute_dtype", f"{no_bf16} {instead}"))
    if quant.get("load_in_4bit") is True and compute == "float16" and not hw.cuda:
        problems.append(
            Problem(
                "quantization.bnb_4bit_compute_dtype",
                "'float16' on a CPU is emulated and slow; choose 'float32'",
            )
        )
    return problems


def bitsandbytes_installed() -> bool:
    """Whether bitsandbytes (4-bit/8-bit loading, on CUDA or its CPU backend) is installed
    (looked up, not imported)."""
    return importlib.util.find_spec("bitsandbytes") is not None
