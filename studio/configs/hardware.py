"""What the machine can do (CUDA, bf16, GPU memory), for validation and template availability.

`detect_hardware()` avoids importing torch when there is plainly no GPU driver, so the page
can show template availability without paying for a torch import. Tests pass a fake Hardware.
"""

from __future__ import annotations

import functools
import sys
from dataclasses import dataclass
from pathlib import Path

NO_CUDA = "this machine has none"


@dataclass(frozen=True)
class Hardware:
    cuda: bool = False
    bf16: bool = False  # bf16 training supported (a recent CUDA GPU)
    gpu_name: str = ""
    gpu_mem_gb: float = 0.0

    def describe(self) -> str:
        if not self.cuda:
            return "CPU only (no CUDA GPU)"
        return f"{self.gpu_name or 'CUDA GPU'} ({self.gpu_mem_gb:.0f} GB)"


CPU_ONLY = Hardware()


def _gpu_driver_present() -> bool:
    # NVIDIA exposes these as soon as its driver is loaded; ROCm exposes /dev/kfd.
    probes = ("/proc/driver/nvidia/version", "/dev/nvidiactl", "/dev/nvidia0", "/dev/kfd")
    return any(Path(p).exists() for p in probes)


@functools.lru_cache(maxsize=1)
def detect_hardware() -> Hardware:
    """This machine's Hardware (cached; torch is imported only when a GPU driver is present)."""
    if "torch" not in sys.modules and not _gpu_driver_present():
        return CPU_ONLY
    import torch

    if not torch.cuda.is_available():
        return CPU_ONLY
    props = torch.cuda.get_device_properties(0)
    return Hardware(
        cuda=True,
        bf16=bool(torch.cuda.is_bf16_supported()),
        gpu_name=props.name,
        gpu_mem_gb=round(props.total_memory / 2**30, 1),
    )
