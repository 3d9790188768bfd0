"""How many processes train a model and on which machines (the studio section's launch keys).

    ls = launch_settings(studio)                 # processes per machine, machines, rank, address
    launch_problems(studio, trainer, hardware)   # what is wrong with them, each naming its key

One process trains in the job's own process; more go through `accelerate launch`
(studio.jobs.launch builds that command and the per-machine commands to export). The
global batch is per_device_train_batch_size x processes x machines x accumulation.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Any

from studio.configs.hardware import NO_CUDA, Hardware
from studio.errors import Problem

_HOST = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)
DEFAULT_PORT = 29500


@dataclass(frozen=True)
class LaunchSettings:
    processes: int = 1  # per machine
    num_machines: int = 1
    machine_rank: int = 0
    main_address: str = "127.0.0.1"
    main_port: int | None = None  # None: a free port is picked when one machine trains

    @property
    def world_size(self) -> int:
        """Processes over all machines (accelerate's --num_processes)."""
        return self.processes * self.num_machines

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def default_processes(hw: Hardware) -> int:
    """One process per visible GPU; 1 on a CPU machine."""
    return max(1, hw.gpu_count) if hw.cuda else 1


def _int(value: Any, default: int) -> int:
    # Any JSON may reach here (validation reports a wrong type or range by itself).
    if not isinstance(value, int | float) or isinstance(value, bool):
        return default
    try:
        return int(value)
    except (ValueError, OverflowError):  # NaN, infinity
        return default


def launch_settings(studio: dict[str, Any]) -> LaunchSettings:
    """The launch settings of a studio section (one process on this machine by default)."""
    port = studio.get("main_port")
    return LaunchSettings(
        processes=max(1, _int(studio.get("processes"), 1)),
        num_machines=max(1, _int(studio.get("num_machines"), 1)),
        machine_rank=max(0, _int(studio.get("machine_rank"), 0)),
        main_address=str(studio.get("main_address") or "127.0.0.1"),
        main_port=_int(port, DEFAULT_PORT) if port is not None else None,
    )


def is_host(text: str) -> bool:
    """An IP address or a DNS host name (nothing a command line could misread)."""
    try:
        ipaddress.ip_address(text)
        return True
    except ValueError:
        return bool(_HOST.match(text))


def launch_problems(studio: dict[str, Any], trainer: dict[str, Any], hw: Hardware) -> list[Problem]:
    """Launch settings this machine cannot run or that contradict each other."""
    problems = []
    ls = launch_settings(studio)
    if "processes" in studio and hw.cuda and ls.processes > max(1, hw.gpu_count):
        problems.append(
            Problem(
                "studio.processes",
                f"{ls.processes} processes but this machine has {hw.gpu_count} GPU(s); use "
                f"at most {hw.gpu_count} (one process per GPU)",
            )
        )
    if ls.machine_rank >= ls.num_machines:
        problems.append(
            Problem(
                "studio.machine_rank",
                f"{ls.machine_rank} must be below num_machines ({ls.num_machines}); machines "
                "are numbered from 0",
            )
        )
    address = studio.get("main_address")
    if isinstance(address, str) and address and not is_host(address):
        problems.append(
            Problem("studio.main_address", f"{address!r} is not a host name or IP address")
        )
    if ls.num_machines > 1 and not address:
        problems.append(
            Problem(
                "studio.main_address",
                "several machines need the address of machine 0 (a host name or IP the "
                "others can reach); set it",
            )
        )
    fsdp = trainer.get("fsdp")
    if fsdp and not hw.cuda:
        problems.append(
            Problem(
                "trainer.fsdp",
                f"{fsdp!r} shards the model over CUDA GPUs; {NO_CUDA} — remove it (several "
                "CPU processes still train data-parallel) or use a GPU machine",
            )
        )
    return problems
