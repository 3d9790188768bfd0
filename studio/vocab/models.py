"""Model types, training methods, PEFT task types and the tokenizer defaults: one home each.

Templates, configs, the training child and the UI all name these; they read them from here
so a new type or method is added in one place.
"""

from __future__ import annotations

# Model types by key, with the title the Models tab shows.
MODEL_TYPES = {"causal": "Text Generator", "seq2seq": "Text-to-Text"}

# Training methods by key, with what each trains, in words.
METHODS = {
    "lora": "LoRA adapter on a full-precision base",
    "qlora": "LoRA adapter on a 4-bit (NF4) or 8-bit base, loaded with bitsandbytes",
    "scratch": "a new model with random weights, trained in full",
    "full": "every weight of the base trained",
}
# The methods that train a LoRA adapter (they need the peft dict).
ADAPTER_METHODS = ("lora", "qlora")
# Said when a template that cannot run without CUDA meets a machine without a CUDA GPU.
NEEDS_CUDA = (
    "needs a CUDA GPU; this machine has none. Pick a template that fits a CPU, such as "
    "SmolLM2-135M-Instruct LoRA or QLoRA, or run the studio on a GPU machine."
)

# PEFT's task_type per model type (the adapter wraps the right head).
TASK_TYPES = {"causal": "CAUSAL_LM", "seq2seq": "SEQ_2_SEQ_LM"}

# The tokenizer dict's defaults besides max_length (a form setting): what a template starts
# from and what a run config lacking a key gets. Here because templates are data and read
# them; the settings table (studio.configs.table) lists them as its tokenizer rows.
TOKENIZER_DEFAULTS = {
    "padding_side": "right",
    "prompt_format": "sections",
    "add_eos": True,
}


def task_type(model_type: str) -> str:
    """PEFT's task_type for a model type (a causal LM when the type is unknown)."""
    return TASK_TYPES.get(model_type, TASK_TYPES["causal"])


def quantized(quantization: dict) -> bool:
    """Whether a quantization dict loads the base in 4 or 8 bits."""
    return bool(quantization.get("load_in_4bit") or quantization.get("load_in_8bit"))
