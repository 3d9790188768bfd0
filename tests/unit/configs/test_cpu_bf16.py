"""bf16 on a CPU: detected from the CPU's instructions (AVX512-BF16 / AMX), offered and
validated only where it runs natively, refused elsewhere with a message saying why."""

from __future__ import annotations

import sys

import pytest

from studio.configs import CPU_ONLY, Hardware, validate
from studio.configs import hardware as hw_module
from studio.configs.defaults import default_dicts, default_hyper
from studio.templates import TEMPLATES

AMX_CPU = Hardware(cpu_bf16="AMX and AVX512-BF16")
GPU_NO_BF16 = Hardware(cuda=True, bf16=False, gpu_name="Fake T4", gpu_mem_gb=16, cpu_bf16="AMX")


def _bf16_problems(hardware: Hardware | None, **dict_edits) -> list[str]:
    template = TEMPLATES["smollm2-135m-lora"]
    hyper = {**default_hyper(template), "precision": "bf16"}
    dicts = default_dicts(template)
    for section, values in dict_edits.items():
        dicts[section].update(values)
    return [str(p) for p in validate(template, hyper, dicts, hardware)]


@pytest.fixture
def fake_cpu(monkeypatch):
    """Make torch report the given CPU bf16 instructions (and forget the cached hardware)."""
    import torch

    def set_cpu(amx: bool, avx512_bf16: bool) -> None:
        monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: amx)
        monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: avx512_bf16)
        monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
        monkeypatch.delenv("STUDIO_CPU_BF16", raising=False)
        hw_module.detect_hardware.cache_clear()

    yield set_cpu
    hw_module.detect_hardware.cache_clear()


@pytest.mark.parametrize(
    ("amx", "avx", "found"),
    [
        (True, True, "AMX and AVX512-BF16"),
        (False, True, "AVX512-BF16"),
        (True, False, "AMX"),
        (False, False, ""),
    ],
)
def test_the_cpu_bf16_instructions_come_from_torch(fake_cpu, amx, avx, found):
    fake_cpu(amx, avx)
    assert hw_module.cpu_bf16_support() == found
    hardware = hw_module.detect_hardware()
    assert hardware.cpu_bf16 == found and not hardware.cuda
    assert hardware.mixed_bf16 is bool(found)


def test_validation_follows_the_detected_cpu(fake_cpu):
    fake_cpu(True, True)
    assert not [p for p in _bf16_problems(None) if p.startswith("trainer.bf16")]
    fake_cpu(False, False)
    problems = [p for p in _bf16_problems(None) if p.startswith("trainer.bf16")]
    assert problems == [
        "trainer.bf16: this CPU has no bf16 instructions (bf16 needs a CUDA GPU, or a CPU with "
        "AVX512-BF16 or AMX such as Intel Xeon 4th gen / Sapphire Rapids); it would emulate "
        "bf16, slower than fp32 — choose fp32"
    ]


def test_an_environment_switch_turns_cpu_bf16_off(fake_cpu, monkeypatch):
    fake_cpu(True, True)
    monkeypatch.setenv("STUDIO_CPU_BF16", "0")
    assert hw_module.cpu_bf16_support() == ""


def test_without_torch_the_flags_of_proc_cpuinfo_decide(monkeypatch):
    monkeypatch.delitem(sys.modules, "torch", raising=False)
    monkeypatch.delenv("STUDIO_CPU_BF16", raising=False)
    monkeypatch.setattr(hw_module, "_cpuinfo_flags", lambda: {"avx512f", "amx_bf16", "amx_tile"})
    assert hw_module.cpu_bf16_support() == "AMX"
    monkeypatch.setattr(hw_module, "_cpuinfo_flags", lambda: {"avx512f", "avx2"})
    assert hw_module.cpu_bf16_support() == ""  # AVX512 alone emulates bf16: not offered


def test_bf16_autocast_passes_on_a_bf16_cpu_only():
    assert not [p for p in _bf16_problems(AMX_CPU) if p.startswith("trainer.")]
    assert any(p.startswith("trainer.bf16: this CPU has no bf16") for p in _bf16_problems(CPU_ONLY))
    # With a GPU the run trains there: the CPU's bf16 does not count.
    assert any(
        p.startswith("trainer.bf16: Fake T4 does not support bf16")
        for p in _bf16_problems(GPU_NO_BF16)
    )


def test_bf16_weights_stay_a_cuda_matter_on_a_bf16_cpu():
    problems = _bf16_problems(AMX_CPU, model={"dtype": "bfloat16"})
    assert any(
        p.startswith("model.dtype: 'bfloat16' weights need a bf16 CUDA GPU") for p in problems
    )


def test_the_precision_help_says_what_the_machine_supports():
    assert "AMX" in AMX_CPU.precision_note() and "weights stay fp32" in AMX_CPU.precision_note()
    assert CPU_ONLY.precision_note().startswith("fp32: this CPU has no bf16 instructions")
    assert "fp16" in GPU_NO_BF16.precision_note()
    assert AMX_CPU.describe() == "CPU only (no CUDA GPU, bf16 via AMX and AVX512-BF16)"


def test_the_default_precision_stays_fp32_and_bf16_validates_on_a_bf16_cpu():
    """bf16 is offered where the CPU runs it natively, not made the default: its held-out
    results are not yet shown equal to fp32's on enough rows (bench/README.md)."""
    template = TEMPLATES["smollm2-135m-lora"]
    for hw in (AMX_CPU, CPU_ONLY):
        assert default_hyper(template, hw)["precision"] == "fp32"
        assert default_dicts(template, hardware=hw)["trainer"]["bf16"] is False
    hyper = {**default_hyper(template, AMX_CPU), "precision": "bf16"}
    dicts = default_dicts(template, hardware=AMX_CPU)
    dicts["trainer"]["bf16"] = True
    assert validate(template, hyper, dicts, AMX_CPU) == []
    assert validate(template, hyper, dicts, CPU_ONLY) != []
    qlora = TEMPLATES["llama2-7b-qlora"]
    # A GPU template picked on a CPU starts in fp32 too (bf16 stays one choice away).
    assert default_hyper(qlora, AMX_CPU)["precision"] == "fp32"
