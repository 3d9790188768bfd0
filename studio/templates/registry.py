"""The registry of model templates: one Template per key, in the order the UI lists them.

CPU templates train in fp32 with the CPU trainer settings; GPU templates keep the base in
bf16 (studio.configs.defaults starts them in fp16 on a GPU without bf16 and in fp32 on a
CPU). Family facts (target modules, special tokens, licences) live in families.py.
"""

from __future__ import annotations

from studio.models.resolve import PACKAGED_REF
from studio.templates.base import Template
from studio.templates.families import (
    ALL_LINEAR,
    APACHE,
    GEMMA,
    GEMMA_IT_TOKENS,
    GPT_NEO,
    LLAMA2,
    LLAMA3_TOKENS,
    LLAMA32,
    MIT,
    SENTENCEPIECE_LLAMA_TOKENS,
    T5,
    tokenizer_dict,
)
from studio.vocab.models import MODEL_TYPES

_LORA = {"r": 8, "lora_alpha": 16, "lora_dropout": 0.05, "bias": "none"}
_LORA_16 = {**_LORA, "r": 16, "lora_alpha": 32}
# CPU-friendly Trainer defaults: log every step so the Train tab's chart moves (a CPU step
# takes seconds; a JSON line per step costs nothing next to it).
_TRAINER_CPU = {
    "logging_steps": 1,
    "eval_strategy": "steps",
    "eval_steps": 0.2,
    "save_strategy": "epoch",
    "save_total_limit": 2,
    "weight_decay": 0.0,
    "optim": "adamw_torch",
    "report_to": "none",
    "gradient_checkpointing": False,
}
_TRAINER_GPU = {**_TRAINER_CPU, "logging_steps": 10, "gradient_checkpointing": True}
_NF4 = {"load_in_4bit": True, "bnb_4bit_quant_type": "nf4", "bnb_4bit_use_double_quant": True}
_GPU_HYPER = {
    "batch_size": 4,
    "grad_accum": 4,
    "max_length": 512,
    "lora_r": 16,
    "lora_alpha": 32,
    "epochs": 2.0,
    "precision": "bf16",
    "target_modules": list(ALL_LINEAR),
}
# Chosen by bench/bench_recipe.py (held-out FPB accuracy within the time budget).
_SMOLLM2_HYPER = {
    "target_modules": list(ALL_LINEAR),
    "learning_rate": 5e-4,
    "lora_r": 16,
    "lora_alpha": 32,
    "warmup_steps": 10,
    "lr_scheduler": "linear",
}


def _cpu_lora(key, title, base, params_b, license, description, tokens=None, **extra):
    """A LoRA template that trains on a CPU in fp32 (the SmolLM2 recipe)."""
    return Template(
        key=key,
        title=title,
        model_type=extra.pop("model_type", "causal"),
        method="lora",
        base_model=base,
        params_b=params_b,
        license=license,
        description=description,
        hyper=extra.pop("hyper", dict(_SMOLLM2_HYPER)),
        model={"dtype": "float32"},
        peft=extra.pop("peft", dict(_LORA_16)),
        tokenizer=tokenizer_dict(**(tokens or {})),
        trainer=dict(_TRAINER_CPU),
        **extra,
    )


def _gpu(key, title, base, params_b, license, description, method="lora", tokens=None, **extra):
    """A LoRA or QLoRA template sized for a GPU: bf16 base (4-bit NF4 for QLoRA)."""
    return Template(
        key=key,
        title=title,
        model_type="causal",
        method=method,
        base_model=base,
        params_b=params_b,
        license=license,
        description=description,
        hyper={**_GPU_HYPER, **extra.pop("hyper", {})},
        model={"dtype": "bfloat16"},
        quantization={**_NF4, "bnb_4bit_compute_dtype": "bfloat16"} if method == "qlora" else {},
        peft=dict(_LORA_16),
        tokenizer=tokenizer_dict(512, **(tokens or {})),
        trainer=dict(_TRAINER_GPU),
        **extra,
    )


_SMOL = "HuggingFaceTB/SmolLM2-{}-Instruct"
_GATED = "gated: accept the licence on its Hub page while signed in, then download"

_ALL = [
    _cpu_lora(
        "smollm2-135m-lora",
        "SmolLM2-135M-Instruct LoRA",
        PACKAGED_REF,
        0.135,
        APACHE,
        "The embedded default: a small instruction-tuned model that ships with the studio, "
        "runs offline and trains on a CPU in minutes.",
        peft={**_LORA_16},
        architecture="llama",
    ),
    Template(
        key="smollm2-135m-qlora",
        architecture="llama",
        title="SmolLM2-135M-Instruct QLoRA",
        model_type="causal",
        method="qlora",
        base_model=PACKAGED_REF,
        params_b=0.135,
        license=APACHE,
        description="The embedded SmolLM2 loaded in 4-bit NF4 (bitsandbytes; its CPU "
        "backend on a CPU) with a LoRA adapter: about a quarter of the weight memory, "
        "somewhat slower steps than LoRA on a CPU (bench/README.md).",
        hyper=dict(_SMOLLM2_HYPER),
        model={"dtype": "float32"},
        quantization={**_NF4, "bnb_4bit_compute_dtype": "float32"},
        peft=dict(_LORA_16),
        tokenizer=tokenizer_dict(),
        trainer=dict(_TRAINER_CPU),
    ),
    _cpu_lora(
        "smollm2-360m-lora",
        "SmolLM2-360M-Instruct LoRA",
        _SMOL.format("360M"),
        0.36,
        APACHE,
        "SmolLM2's middle size: noticeably stronger than 135M, still trains on a CPU.",
        architecture="llama",
    ),
    _gpu(
        "smollm2-1.7b-lora",
        "SmolLM2-1.7B-Instruct LoRA",
        _SMOL.format("1.7B"),
        1.7,
        APACHE,
        "SmolLM2's largest size, a strong small model; a GPU is advised.",
        architecture="llama",
    ),
    _cpu_lora(
        "qwen3-0.6b-lora",
        "Qwen3 0.6B LoRA",
        "Qwen/Qwen3-0.6B",
        0.6,
        APACHE,
        "Alibaba's smallest Qwen3 (multilingual, thinking and non-thinking chat); trains on "
        "a CPU, slowly.",
        architecture="qwen3",
    ),
    _gpu(
        "qwen3-1.7b-lora",
        "Qwen3 1.7B LoRA",
        "Qwen/Qwen3-1.7B",
        1.7,
        APACHE,
        "Qwen3 at 1.7B: a good quality-to-size choice for a T4.",
        architecture="qwen3",
    ),
    _gpu(
        "qwen3-4b-qlora",
        "Qwen3 4B QLoRA",
        "Qwen/Qwen3-4B",
        4.0,
        APACHE,
        "Qwen3 at 4B in 4-bit NF4 with a LoRA adapter.",
        method="qlora",
        architecture="qwen3",
    ),
    _gpu(
        "llama3.2-1b-lora",
        "Llama 3.2 1B Instruct LoRA",
        "meta-llama/Llama-3.2-1B-Instruct",
        1.24,
        LLAMA32,
        f"Meta's Llama 3.2 1B, instruction-tuned ({_GATED}).",
        tokens=LLAMA3_TOKENS,
        gated=True,
        architecture="llama",
    ),
    _gpu(
        "llama3.2-3b-lora",
        "Llama 3.2 3B Instruct LoRA",
        "meta-llama/Llama-3.2-3B-Instruct",
        3.21,
        LLAMA32,
        f"Meta's Llama 3.2 3B, instruction-tuned ({_GATED}).",
        tokens=LLAMA3_TOKENS,
        gated=True,
        architecture="llama",
    ),
    _gpu(
        "gemma3-1b-lora",
        "Gemma 3 1B LoRA",
        "google/gemma-3-1b-it",
        1.0,
        GEMMA,
        f"Google's Gemma 3 1B, instruction-tuned, text only ({_GATED}). Gemma trains best in "
        "bf16: on a T4 (fp16 only) watch the loss.",
        tokens=GEMMA_IT_TOKENS,
        gated=True,
        architecture="gemma3_text",
    ),
    _gpu(
        "gemma3-4b-qlora",
        "Gemma 3 4B QLoRA",
        "google/gemma-3-4b-it",
        4.3,
        GEMMA,
        f"Google's Gemma 3 4B (text and images; the studio trains on text) in 4-bit NF4 with "
        f"a LoRA adapter ({_GATED}).",
        method="qlora",
        tokens=GEMMA_IT_TOKENS,
        gated=True,
        architecture="gemma3",
    ),
    _cpu_lora(
        "gpt-neo-125m-lora",
        "GPT-Neo 125M LoRA",
        "EleutherAI/gpt-neo-125m",
        0.125,
        MIT,
        "EleutherAI's small GPT-3-style model (English, trained on the Pile).",
        hyper={"target_modules": list(GPT_NEO)},
        peft=dict(_LORA),
        architecture="gpt_neo",
    ),
    Template(
        key="gpt-neo-2.7b-lora",
        architecture="gpt_neo",
        title="GPT-Neo 2.7B LoRA",
        model_type="causal",
        method="lora",
        base_model="EleutherAI/gpt-neo-2.7B",
        params_b=2.7,
        license=MIT,
        hardware_note="about 12 GB of memory on a CPU, slow",
        description="EleutherAI's 2.7B GPT-3-style model: much stronger, much slower.",
        hyper={"target_modules": list(GPT_NEO), "batch_size": 4, "grad_accum": 2},
        model={"dtype": "float32"},
        peft=dict(_LORA),
        tokenizer=tokenizer_dict(),
        trainer=dict(_TRAINER_GPU),
    ),
    _gpu(
        "llama2-7b-qlora",
        "Llama-2 7B QLoRA",
        "meta-llama/Llama-2-7b-hf",
        6.74,
        LLAMA2,
        f"Meta's Llama-2 7B in 4-bit NF4 with a LoRA adapter ({_GATED}).",
        method="qlora",
        tokens=SENTENCEPIECE_LLAMA_TOKENS,
        gated=True,
        architecture="llama",
    ),
    _gpu(
        "llama2-13b-qlora",
        "Llama-2 13B QLoRA",
        "meta-llama/Llama-2-13b-hf",
        13.0,
        LLAMA2,
        f"Meta's Llama-2 13B in 4-bit NF4 with a LoRA adapter ({_GATED}).",
        method="qlora",
        tokens=SENTENCEPIECE_LLAMA_TOKENS,
        gated=True,
        architecture="llama",
    ),
    _gpu(
        "mistral-7b-qlora",
        "Mistral 7B QLoRA",
        "mistralai/Mistral-7B-v0.1",
        7.24,
        APACHE,
        "Mistral 7B v0.1 in 4-bit NF4 with a LoRA adapter (the Hub asks you to share your "
        "contact details first; access is granted at once).",
        method="qlora",
        tokens=SENTENCEPIECE_LLAMA_TOKENS,
        gated=True,
        architecture="mistral",
    ),
    _cpu_lora(
        "flan-t5-base-lora",
        "FLAN-T5 base LoRA",
        "google/flan-t5-base",
        0.248,
        APACHE,
        "Google's instruction-tuned encoder-decoder (250M): maps the input sections to the "
        "output section.",
        model_type="seq2seq",
        hyper={"target_modules": list(T5), "learning_rate": 3e-4},
        peft=dict(_LORA),
        architecture="t5",
    ),
    _cpu_lora(
        "t5gemma-b-lora",
        "T5Gemma B-B Instruct LoRA",
        "google/t5gemma-b-b-prefixlm-it",
        0.6,
        GEMMA,
        "Google's encoder-decoder Gemma (T5Gemma, base encoder and decoder, "
        f"instruction-tuned): a modern Text-to-Text model ({_GATED}).",
        model_type="seq2seq",
        hyper={"target_modules": list(ALL_LINEAR), "learning_rate": 3e-4},
        tokens=GEMMA_IT_TOKENS,
        gated=True,
        architecture="t5gemma",
    ),
    Template(
        key="tiny-gpt-scratch",
        architecture="llama",
        title="Tiny GPT from scratch",
        model_type="causal",
        method="scratch",
        base_model="scratch:tiny-gpt",
        params_b=0.016,
        license=APACHE,
        hardware_note="random weights: no download, no licence of its own",
        description="A small randomly initialised GPT-style (Llama) model, trained in full: "
        "for learning a new domain from plain text.",
        hyper={
            "learning_rate": 1e-3,
            "epochs": 10.0,
            "warmup_steps": 20,
            "lr_scheduler": "cosine",
            "response_only": False,
        },
        model={
            "dtype": "float32",
            "architecture": {
                "hidden_size": 256,
                "intermediate_size": 768,
                "num_hidden_layers": 4,
                "num_attention_heads": 4,
                "num_key_value_heads": 4,
                "max_position_embeddings": 1024,
                "tie_word_embeddings": True,
            },
        },
        tokenizer=tokenizer_dict(),
        trainer={**_TRAINER_CPU, "weight_decay": 0.01},
    ),
    Template(
        key="custom",
        title="Custom",
        model_type="causal",
        method="lora",
        base_model="",
        model_types=tuple(MODEL_TYPES),
        hardware_note="depends on the model you choose",
        description="Any Hugging Face model id (owner/name, or a bare name like gpt2) or a "
        "local model folder, with a LoRA adapter on every linear layer; choose the model "
        "type yourself.",
        hyper={"target_modules": "all-linear"},
        model={"dtype": "float32"},
        peft=dict(_LORA),
        tokenizer=tokenizer_dict(),
        trainer=dict(_TRAINER_CPU),
    ),
]
TEMPLATES: dict[str, Template] = {t.key: t for t in _ALL}
DEFAULT_TEMPLATE = "smollm2-135m-lora"
