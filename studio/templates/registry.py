"""The registry of model templates: one Template per key, in the order the UI lists them."""

from __future__ import annotations

from studio.models.resolve import PACKAGED_REF
from studio.templates.base import Template
from studio.vocab.models import MODEL_TYPES, TOKENIZER_DEFAULTS

_ATTN = ["q_proj", "k_proj", "v_proj", "o_proj"]
_LLAMA_ALL = [*_ATTN, "gate_proj", "up_proj", "down_proj"]
_NEO = ["q_proj", "k_proj", "v_proj", "out_proj"]
# A template states each value once: a form setting (r, lora_alpha, lora_dropout, max_length,
# ...) in `hyper`, over the settings table's default; its dicts hold only the other keys.
_LORA = {"bias": "none"}
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
    "activation_checkpointing": False,
}
_TRAINER_GPU = {**_TRAINER_CPU, "logging_steps": 10, "activation_checkpointing": True}
_QLORA_QUANT = {
    "load_in_4bit": True,
    "bnb_4bit_quant_type": "nf4",
    "bnb_4bit_compute_dtype": "bfloat16",
    "bnb_4bit_use_double_quant": True,
}
_QLORA_HYPER = {
    "batch_size": 4,
    "grad_accum": 4,
    "max_length": 512,
    "lora_r": 16,
    "lora_alpha": 32,
    "epochs": 2.0,
    "precision": "bf16",
}


_SMOLLM2_HYPER = {
    "target_modules": list(_LLAMA_ALL),
    "learning_rate": 5e-4,
    "lora_r": 16,
    "lora_alpha": 32,
    "warmup_steps": 10,
    "lr_scheduler": "linear",
}


def _qlora(key: str, title: str, base: str, memory: str, description: str) -> Template:
    return Template(
        key=key,
        title=title,
        model_type="causal",
        method="qlora",
        base_model=base,
        needs_cuda=True,
        memory_note=memory,
        description=description,
        hyper={**_QLORA_HYPER, "target_modules": list(_LLAMA_ALL)},
        model={"dtype": "bfloat16"},
        quantization=dict(_QLORA_QUANT),
        peft=dict(_LORA),
        tokenizer=dict(TOKENIZER_DEFAULTS),
        trainer=dict(_TRAINER_GPU),
    )


_ALL = [
    Template(
        key="smollm2-135m-lora",
        title="SmolLM2-135M-Instruct LoRA",
        model_type="causal",
        method="lora",
        base_model=PACKAGED_REF,
        memory_note="CPU is enough (2–4 GB of memory while training at the default batch size)",
        description="The embedded default: a small instruction-tuned model that ships with the "
        "studio, runs offline and trains on a CPU in minutes.",
        # Chosen by bench/bench_recipe.py (held-out FPB accuracy within the time budget).
        hyper=dict(_SMOLLM2_HYPER),
        model={"dtype": "float32"},
        peft=dict(_LORA),
        tokenizer=dict(TOKENIZER_DEFAULTS),
        trainer=dict(_TRAINER_CPU),
    ),
    Template(
        key="gpt-neo-125m-lora",
        title="GPT-Neo 125M LoRA",
        model_type="causal",
        method="lora",
        base_model="EleutherAI/gpt-neo-125m",
        memory_note="CPU is enough (about 2–4 GB while training)",
        description="EleutherAI's small GPT-3-style model (English, trained on the Pile).",
        hyper={"target_modules": list(_NEO)},
        model={"dtype": "float32"},
        peft=dict(_LORA),
        tokenizer=dict(TOKENIZER_DEFAULTS),
        trainer=dict(_TRAINER_CPU),
    ),
    Template(
        key="gpt-neo-2.7b-lora",
        title="GPT-Neo 2.7B LoRA",
        model_type="causal",
        method="lora",
        base_model="EleutherAI/gpt-neo-2.7B",
        memory_note="a GPU with 16 GB is advised (about 12 GB of memory on CPU, slow)",
        description="EleutherAI's 2.7B GPT-3-style model: much stronger, much slower.",
        hyper={"target_modules": list(_NEO), "batch_size": 4, "grad_accum": 2},
        model={"dtype": "float32"},
        peft=dict(_LORA),
        tokenizer=dict(TOKENIZER_DEFAULTS),
        trainer=dict(_TRAINER_GPU),
    ),
    _qlora(
        "llama2-7b-qlora",
        "Llama-2 7B QLoRA",
        "meta-llama/Llama-2-7b-hf",
        "a CUDA GPU with at least 10 GB",
        "Meta's Llama-2 7B in 4-bit NF4 with a LoRA adapter (gated model: accept the "
        "licence on the Hub first).",
    ),
    _qlora(
        "llama2-13b-qlora",
        "Llama-2 13B QLoRA",
        "meta-llama/Llama-2-13b-hf",
        "a CUDA GPU with at least 16 GB",
        "Meta's Llama-2 13B in 4-bit NF4 with a LoRA adapter (gated model).",
    ),
    _qlora(
        "mistral-7b-qlora",
        "Mistral 7B QLoRA",
        "mistralai/Mistral-7B-v0.1",
        "a CUDA GPU with at least 10 GB",
        "Mistral 7B v0.1 in 4-bit NF4 with a LoRA adapter.",
    ),
    Template(
        key="flan-t5-base-lora",
        title="FLAN-T5 base LoRA",
        model_type="seq2seq",
        method="lora",
        base_model="google/flan-t5-base",
        memory_note="CPU is enough (about 4–6 GB while training)",
        description="Google's instruction-tuned encoder-decoder (250M): maps the input "
        "sections to the output section.",
        hyper={"target_modules": ["q", "v"], "learning_rate": 3e-4},
        model={"dtype": "float32"},
        peft=dict(_LORA),
        tokenizer=dict(TOKENIZER_DEFAULTS),
        trainer=dict(_TRAINER_CPU),
    ),
    Template(
        key="tiny-gpt-scratch",
        title="Tiny GPT from scratch",
        model_type="causal",
        method="scratch",
        base_model="scratch:tiny-gpt",
        memory_note="CPU is enough",
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
        tokenizer=dict(TOKENIZER_DEFAULTS),
        trainer={**_TRAINER_CPU, "weight_decay": 0.01},
    ),
    Template(
        key="custom",
        title="Custom",
        model_type="causal",
        method="lora",
        base_model="",
        model_types=tuple(MODEL_TYPES),
        memory_note="depends on the model you choose",
        description="Any Hugging Face model id (owner/name, or a bare name like gpt2) or a local model folder, with "
        "a LoRA adapter on every linear layer; choose the model type yourself.",
        hyper={"target_modules": "all-linear"},
        model={"dtype": "float32"},
        peft=dict(_LORA),
        tokenizer=dict(TOKENIZER_DEFAULTS),
        trainer=dict(_TRAINER_CPU),
    ),
]
TEMPLATES: dict[str, Template] = {t.key: t for t in _ALL}
DEFAULT_TEMPLATE = "smollm2-135m-lora"
