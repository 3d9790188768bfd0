"""The five config dicts: which keys each accepts, and which keys are refused and why.

A key is accepted when it is in the section's allowlist below AND the installed library
still takes it (read from the real signature with `inspect`, imported lazily at validation
time): TrainingArguments for "trainer", LoraConfig for "peft", BitsAndBytesConfig for
"quantization", from_pretrained for "model". Keys marked `STUDIO_KEYS` are the studio's own
(e.g. model.base_model, tokenizer.prompt_format) and need no library signature. Settings no
library reads at all live in the studio section (studio.configs.table).

Anything that could run code or write outside STUDIO_HOME is refused with a reason
(`REFUSED`), even where the library would accept it.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect

from studio.configs.fields import FieldSpec as F
from studio.errors import Problem
from studio.models.hf import hf_ready
from studio.prompts.render import PROMPT_FORMATS
from studio.vocab.models import TASK_TYPES

SECTIONS = ("model", "quantization", "peft", "tokenizer", "trainer")
DTYPES = ("float32", "bfloat16", "float16")
SCHEDULERS = (
    "linear",
    "cosine",
    "cosine_with_restarts",
    "polynomial",
    "constant",
    "constant_with_warmup",
    "inverse_sqrt",
    "cosine_with_min_lr",
    "warmup_stable_decay",
)
STRATEGIES = ("no", "steps", "epoch")
FSDP_CHOICES = (
    "",
    "full_shard auto_wrap",
    "shard_grad_op auto_wrap",
    "hybrid_shard auto_wrap",
    "full_shard offload auto_wrap",
)

MODEL = {
    "base_model": F(
        "str",
        "Hugging Face model id (owner/name, or a bare name like gpt2), a local folder, or the template's model",
        max_len=500,
    ),
    "architecture": F(
        "dict", "scratch models only: LlamaConfig fields (hidden_size, num_hidden_layers, ...)"
    ),
    "dtype": F("choice", "weights' precision when loading", choices=(*DTYPES, "auto")),
    "attn_implementation": F(
        "choice", "attention kernel", choices=("eager", "sdpa", "flash_attention_2"), nullable=True
    ),
    "low_cpu_mem_usage": F("bool", "load weights lazily to save memory"),
}
ARCHITECTURE = {
    "hidden_size": F("int", "width of the model", min=16, max=8192),
    "intermediate_size": F("int", "width of the MLP", min=16, max=32768),
    "num_hidden_layers": F("int", "number of layers", min=1, max=64),
    "num_attention_heads": F("int", "attention heads (must divide hidden_size)", min=1, max=128),
    "num_key_value_heads": F(
        "int", "key/value heads (must divide num_attention_heads)", min=1, max=128
    ),
    "max_position_embeddings": F("int", "longest sequence the model can see", min=16, max=32768),
    "tie_word_embeddings": F("bool", "share input and output embeddings"),
    "rms_norm_eps": F("float", "norm epsilon", min=0, min_exclusive=True, max=1),
    "rope_theta": F("float", "rotary base", min=1),
}
QUANTIZATION = {
    "load_in_4bit": F(
        "bool",
        "4-bit (QLoRA) loading with bitsandbytes, on a CUDA GPU or a CPU: about a third of "
        "the fp32 weight memory; on a CPU a step takes ~1.07x LoRA's (bench/README.md)",
    ),
    "load_in_8bit": F(
        "bool",
        "8-bit loading with bitsandbytes, on a CUDA GPU or a CPU: ~40% of the fp32 weight "
        "memory; on a CPU a step takes about as long as LoRA's (bench/README.md)",
    ),
    "bnb_4bit_quant_type": F("choice", "4-bit data type", choices=("nf4", "fp4")),
    "bnb_4bit_compute_dtype": F("choice", "compute precision of 4-bit layers", choices=DTYPES),
    "bnb_4bit_use_double_quant": F("bool", "also quantize the quantization constants"),
    "bnb_4bit_quant_storage": F(
        "choice", "storage type of 4-bit weights", choices=(*DTYPES, "uint8")
    ),
    "llm_int8_threshold": F("float", "outlier threshold for 8-bit", min=0),
    "llm_int8_skip_modules": F("name_list", "modules kept in full precision", nullable=True),
    "llm_int8_has_fp16_weight": F("bool", "keep fp16 master weights in 8-bit mode"),
}
PEFT = {
    "r": F("int", "LoRA rank", min=1, max=1024),
    "lora_alpha": F("float", "LoRA scaling (alpha / r)", min=0, min_exclusive=True, max=4096),
    "lora_dropout": F("float", "dropout on the LoRA path", min=0, max=1, max_exclusive=True),
    "target_modules": F("name_list", "modules that get an adapter", choices=("all-linear",)),
    "bias": F("choice", "which biases train", choices=("none", "all", "lora_only")),
    "task_type": F(
        "choice",
        "CAUSAL_LM for Text Generator, SEQ_2_SEQ_LM for Text-to-Text",
        choices=tuple(TASK_TYPES.values()),
    ),
    "use_rslora": F("bool", "rank-stabilised scaling alpha / sqrt(r)"),
    "use_dora": F("bool", "weight-decomposed LoRA (DoRA)"),
    "modules_to_save": F(
        "name_list", "modules trained in full and saved with the adapter", nullable=True
    ),
    "exclude_modules": F("name_list", "modules never adapted", nullable=True),
    "fan_in_fan_out": F("bool", "True for GPT-2 style Conv1D layers"),
    "init_lora_weights": F("bool", "initialise B to zero (true) or randomly (false)"),
    "layers_to_transform": F("int_list", "only these layer indices get adapters", nullable=True),
    "lora_bias": F("bool", "add a bias to the LoRA B matrix"),
}
TOKENIZER = {
    "max_length": F("int", "longest example in tokens; longer ones are cut", min=8, max=32768),
    "padding_side": F("choice", "where padding goes", choices=("right", "left")),
    "prompt_format": F(
        "choice",
        "sections (### Instruction/Human/Assistant) or the tokenizer's chat template",
        choices=PROMPT_FORMATS,
    ),
    "add_eos": F("bool", "append the end-of-text token to each target"),
    **{
        f"{name}_token": F(
            "str", f"override the {name} token (one the tokenizer has)", max_len=64, nullable=True
        )
        for name in ("bos", "eos", "unk", "pad", "sep", "cls", "mask")
    },
}
TRAINER = {
    "num_train_epochs": F(
        "float", "passes over the training data", min=0, min_exclusive=True, max=1000
    ),
    "max_steps": F("int", "stop after this many steps (-1 = use epochs)", min=-1),
    "learning_rate": F("float", "peak learning rate", min=0, min_exclusive=True, max=1),
    "lr_scheduler_type": F("choice", "learning-rate schedule", choices=SCHEDULERS),
    "lr_scheduler_kwargs": F("dict", "extra schedule options", nullable=True),
    "warmup_steps": F("float", "warm-up steps (a value < 1 is a share of all steps)", min=0),
    "per_device_train_batch_size": F("int", "examples per step", min=1, max=4096),
    "per_device_eval_batch_size": F("int", "examples per evaluation step", min=1, max=4096),
    "gradient_accumulation_steps": F("int", "steps summed before each update", min=1, max=4096),
    "weight_decay": F("float", "AdamW weight decay", min=0, max=1),
    "adam_beta1": F("float", "AdamW beta1", min=0, max=1, max_exclusive=True),
    "adam_beta2": F("float", "AdamW beta2", min=0, max=1, max_exclusive=True),
    "adam_epsilon": F("float", "AdamW epsilon", min=0, min_exclusive=True, max=1),
    "max_grad_norm": F("float", "gradient clipping", min=0),
    "label_smoothing_factor": F("float", "label smoothing", min=0, max=1, max_exclusive=True),
    "optim": F(
        "choice",
        "optimizer",
        choices=(
            "adamw_torch",
            "adamw_torch_fused",
            "adafactor",
            "sgd",
            "paged_adamw_8bit",
            "paged_adamw_32bit",
            "adamw_8bit",
        ),
    ),
    "bf16": F("bool", "bfloat16 mixed precision (hardware permitting)"),
    "fp16": F("bool", "float16 mixed precision (CUDA only)"),
    "tf32": F("bool", "TF32 matmuls on Ampere+ GPUs", nullable=True),
    "activation_checkpointing": F(
        "bool",
        "recompute activations in the backward pass: less memory, more compute",
        nullable=True,
    ),
    "gradient_checkpointing": F(
        "bool", "the former name of activation_checkpointing (still accepted)", nullable=True
    ),
    "logging_steps": F("float", "log every N steps", min=0, min_exclusive=True),
    "logging_first_step": F("bool", "log the first step"),
    "eval_strategy": F("choice", "when to evaluate", choices=STRATEGIES),
    "eval_steps": F("float", "evaluate every N steps", min=0, min_exclusive=True, nullable=True),
    "eval_on_start": F("bool", "evaluate before training"),
    "save_strategy": F("choice", "when to save a checkpoint", choices=(*STRATEGIES, "best")),
    "save_steps": F("float", "checkpoint every N steps", min=0, min_exclusive=True),
    "save_total_limit": F("int", "checkpoints kept", min=1, nullable=True),
    "save_only_model": F("bool", "checkpoints without optimizer state (cannot resume exactly)"),
    "load_best_model_at_end": F(
        "bool", "keep the best checkpoint (by metric_for_best_model: eval_loss, or accuracy)"
    ),
    "metric_for_best_model": F(
        "str",
        "metric for the best checkpoint: eval_loss, or accuracy (classification data)",
        max_len=64,
        nullable=True,
    ),
    "greater_is_better": F("bool", "whether a larger metric is better", nullable=True),
    "seed": F("int", "random seed", min=0, max=2**32 - 1),
    "data_seed": F("int", "seed of the data order", min=0, max=2**32 - 1, nullable=True),
    "dataloader_num_workers": F("int", "data loading processes", min=0, max=16),
    "dataloader_drop_last": F("bool", "drop the last short batch"),
    "train_sampling_strategy": F(
        "choice", "batch order", choices=("random", "sequential", "group_by_length")
    ),
    "neftune_noise_alpha": F("float", "NEFTune embedding noise", min=0, nullable=True),
    "torch_compile": F("bool", "compile the model with torch.compile"),
    "auto_find_batch_size": F("bool", "halve the batch size on out-of-memory"),
    "full_determinism": F("bool", "deterministic kernels (slower)"),
    "use_cpu": F("bool", "train on the CPU even when a GPU exists"),
    "fsdp": F(
        "choice",
        "shard the model over the GPUs with FSDP ('' = plain data parallel; CUDA only)",
        choices=FSDP_CHOICES,
    ),
    "report_to": F(
        "choice",
        "experiment trackers: only 'none' (metrics go to the run folder)",
        choices=("none",),
    ),
}
# How many processes train and where: studio settings (the studio section, read by the job
# runner, studio.jobs.launch), never given to TrainingArguments; the settings table uses these.
LAUNCH = {
    "processes": F(
        "int",
        "training processes per machine, one per GPU (the Models form starts at the visible GPUs)",
        min=1,
        max=64,
    ),
    "num_machines": F(
        "int", "machines training together, each with `processes` processes", min=1, max=1024
    ),
    "machine_rank": F("int", "this machine's number: 0 for the main machine", min=0, max=1023),
    "main_address": F(
        "str", "host name or IP of machine 0, reachable from the others", max_len=253
    ),
    "main_port": F("int", "a free TCP port on machine 0 where the ranks meet", min=1024, max=65535),
}
# Former trainer key names -> their names in TrainingArguments now. A config may use either;
# the trainer gets the one the installed transformers takes (studio.configs.training_args).
TRAINER_ALIASES = {"gradient_checkpointing": "activation_checkpointing"}


def activation_checkpointing(trainer: dict) -> bool:
    """Whether a trainer dict asks for activation checkpointing, under either name."""
    for key in ("activation_checkpointing", "gradient_checkpointing"):
        if trainer.get(key) is not None:
            return bool(trainer[key])
    return False


SCHEMAS: dict[str, dict[str, F]] = {
    "model": MODEL,
    "quantization": QUANTIZATION,
    "peft": PEFT,
    "tokenizer": TOKENIZER,
    "trainer": TRAINER,
}
# The studio's own keys (not library arguments); checked by the studio, not a signature.
STUDIO_KEYS = {
    "model": {"base_model", "architecture"},
    "tokenizer": set(TOKENIZER),
}

_FILES = "the studio keeps every file of a run in its run folder under STUDIO_HOME"
_HUB = "the studio never uploads anything; use the Export tab to download the adapter"
_CODE = "it would run code shipped with the model; the studio only loads safetensors weights and built-in architectures"
REFUSED: dict[str, str] = {
    "trust_remote_code": _CODE,
    "code_revision": _CODE,
    "revision": "the studio loads the copy of the model that is on this machine (converted "
    "or cached), whatever revision is named; to train another revision, download it and type "
    "its folder as the base model",
    "output_dir": _FILES,
    "logging_dir": _FILES,
    "cache_dir": _FILES,
    "offload_folder": _FILES,
    "resume_from_checkpoint": "use Resume in the Train tab; " + _FILES,
    "deepspeed": "it reads a config file; " + _FILES,
    "fsdp_config": "it may read a config file; " + _FILES,
    "accelerator_config": "it may read a config file; " + _FILES,
    "callbacks": "callbacks by name would run arbitrary code",
    "push_to_hub": _HUB,
    "hub_model_id": _HUB,
    "hub_token": _HUB,
    "hub_strategy": _HUB,
    "hub_private_repo": _HUB,
    "hub_always_push": _HUB,
    "hub_revision": _HUB,
    "token": "tokens do not belong in a saved config",
    "use_auth_token": "tokens do not belong in a saved config",
    "device_map": "the studio places the model itself (and a device_map string can name a file)",
    "gguf_file": _FILES,
    "from_tf": "only safetensors weights are loaded",
    "from_flax": "only safetensors weights are loaded",
    "use_safetensors": "only safetensors weights are loaded (always on)",
    "weights_only": "only safetensors weights are loaded (always on)",
    "quantization_config": "put bitsandbytes settings in the Quantization config",
    "chat_template": "choose tokenizer.prompt_format ('chat' uses the model's own template)",
    "run_name": "the studio names runs by job id",
    "trackio_space_id": _HUB,
    "logging_strategy": "the studio logs every logging_steps to the run folder",
    "base_model_name_or_path": "set model.base_model instead",
    "truncation_side": "the studio cuts the middle of a too-long prompt (keeping the "
    "instruction and the answer cue) and keeps the answer whole; shorten the examples or "
    "raise tokenizer.max_length",
}


def refused(section: str, values: dict) -> list[Problem]:
    """A problem per refused key of one config dict, saying why (run configs and forms alike)."""
    return [
        Problem(f"{section}.{key}", f"not allowed: {REFUSED[key]}. Remove it.")
        for key in values
        if key in REFUSED
    ]


# Extra from_pretrained kwargs that go through **kwargs (not in its explicit signature).
_FROM_PRETRAINED_KWARGS = {
    "dtype",
    "attn_implementation",
    "low_cpu_mem_usage",
    "device_map",
    "trust_remote_code",
    "quantization_config",
    "subfolder",
    "gguf_file",
    "from_tf",
    "from_flax",
    "offload_folder",
    "code_revision",
}


@functools.lru_cache(maxsize=1)
def library_keys() -> dict[str, frozenset[str]]:
    """Keys the installed libraries accept per section (imports transformers/peft: slow once)."""
    hf_ready()
    from peft import LoraConfig
    from transformers import BitsAndBytesConfig, PreTrainedModel, TrainingArguments

    def fields(cls) -> frozenset[str]:
        return frozenset(f.name for f in dataclasses.fields(cls) if f.init)

    def params(fn) -> frozenset[str]:
        kinds = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
        sig = inspect.signature(fn)
        return frozenset(n for n, p in sig.parameters.items() if p.kind not in kinds)

    special = getattr(
        __import__("transformers").PreTrainedTokenizerBase, "SPECIAL_TOKENS_ATTRIBUTES", []
    )
    trainer = fields(TrainingArguments)
    # Both names of an aliased key, when the installed version takes either of them.
    trainer |= {k for pair in TRAINER_ALIASES.items() if set(pair) & trainer for k in pair}
    return {
        "trainer": trainer,
        "peft": fields(LoraConfig),
        "quantization": params(BitsAndBytesConfig.__init__) - {"self", "kwargs"},
        "model": params(PreTrainedModel.from_pretrained) | _FROM_PRETRAINED_KWARGS,
        "tokenizer": frozenset(special) | {"padding_side", "truncation_side", "model_max_length"},
    }
