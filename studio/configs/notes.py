"""What Validate says of settings that are fine but cost something on this machine.

    notes = setting_notes(dicts, hardware)    # [] when there is nothing to say

A 4-bit or 8-bit base on a CPU (bitsandbytes' CPU backend) trains and generates, with less
weight memory and somewhat slower steps than LoRA; the figures are bench/bench_qlora.py's
on SmolLM2-135M and Financial PhraseBank rows (bench/README.md).
"""

from __future__ import annotations

from studio.configs.hardware import Hardware

# bench/bench_qlora.py, SmolLM2-135M, batch 8 x 64 tokens, LoRA r16 on every linear layer,
# one thread, mirrored runs on a 2-core CPU at load 1-3 (bench/README.md).
QLORA_CPU = (
    "QLoRA on a CPU (bitsandbytes' CPU backend): the base's linear layers are stored in 4 "
    "bits, so its weights take about a third of their fp32 memory (SmolLM2-135M: 159 MB "
    "instead of 513 MB), and a training step takes somewhat longer than LoRA's (about 1.07x "
    "there). On a model this small the process needs about as much memory as "
    "LoRA (activations and the runtime dominate); the saving grows with the model."
)
QLORA_CPU_BF16 = (
    "This CPU runs bf16 natively: quantization.bnb_4bit_compute_dtype 'bfloat16' made the "
    "4-bit steps about 0.84x LoRA's time in the same bench: faster than LoRA."
)
INT8_CPU = (
    "8-bit on a CPU (bitsandbytes' CPU backend): the base's weights take about 40% of their "
    "fp32 memory (SmolLM2-135M: 209 MB), and a training step takes about as long as LoRA's."
)


def setting_notes(dicts: dict[str, dict], hw: Hardware) -> list[str]:
    """Notes on what these (valid) settings give on this machine."""
    quant = dicts.get("quantization") or {}
    if hw.cuda or not isinstance(quant, dict):
        return []
    if quant.get("load_in_4bit") is True:
        notes = [QLORA_CPU]
        if hw.cpu_bf16 and quant.get("bnb_4bit_compute_dtype") != "bfloat16":
            notes.append(QLORA_CPU_BF16)
        return notes
    if quant.get("load_in_8bit") is True:
        return [INT8_CPU]
    return []
