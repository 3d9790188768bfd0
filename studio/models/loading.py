"""Load tokenizers and models for training, generation and evaluation.

Heavy imports (torch, transformers, peft) happen inside the functions so that importing this
module costs nothing. Weights load from safetensors only; remote code never runs
(trust_remote_code is always False here, and the config validator refuses the key).

The model dict (one of the five config dicts) may hold from_pretrained options (dtype,
attn_implementation, low_cpu_mem_usage; a revision is refused by validation) and, for "scratch:" refs, an
"architecture" dict of LlamaConfig fields (hidden_size, num_hidden_layers, ...).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from studio.errors import ConfigError, ModelUnavailableError, Problem
from studio.models.bnb import bnb_config, bnb_device_map, quiet_bitsandbytes
from studio.models.hf import hf_ready
from studio.models.resolve import PACKAGED_REF, SCRATCH_PREFIX, resolve_model_path
from studio.settings import Settings
from studio.vocab.models import quantized

# A small GPT-style (Llama architecture) model for learning a new domain from plain text.
SCRATCH_ARCHITECTURE = dict(
    hidden_size=256,
    intermediate_size=768,
    num_hidden_layers=4,
    num_attention_heads=4,
    num_key_value_heads=4,
    max_position_embeddings=1024,
    tie_word_embeddings=True,
)
_FROM_PRETRAINED_KEYS = {"dtype", "attn_implementation", "low_cpu_mem_usage"}
SPECIAL_TOKENS = ("bos", "eos", "unk", "sep", "pad", "cls", "mask")  # tokenizer.<name>_token
STUDIO_META = "studio.json"


def pick_device() -> str:
    import torch

    if torch.cuda.is_available():
        return "cuda"
    return "cpu"


def inference_dtype() -> str:
    """The weights' precision for answering (Generate, /v1) on pick_device()'s device: bf16 on
    a GPU that runs it, fp16 on an older GPU, fp32 on a CPU (16-bit there is emulated).

    A 7B base in fp32 takes 28 GB: on a 16 GB GPU only a 16-bit copy fits."""
    import torch

    if not torch.cuda.is_available():
        return "float32"
    return "bfloat16" if torch.cuda.is_bf16_supported() else "float16"


def _dtype(name: Any):
    import torch

    if name in (None, "", "auto"):
        return None if name is None else "auto"
    if isinstance(name, torch.dtype):
        return name
    table = {
        "float32": torch.float32,
        "fp32": torch.float32,
        "bfloat16": torch.bfloat16,
        "bf16": torch.bfloat16,
        "float16": torch.float16,
        "fp16": torch.float16,
    }
    if str(name) not in table:
        raise ModelUnavailableError(f"model.dtype {name!r} is not one of {sorted(table)}.")
    return table[str(name)]


def _override_special_tokens(tokenizer: Any, cfg: dict, ref: str) -> None:
    # Only tokens the vocabulary has: a new one would need new (untrained) embedding rows.
    vocab = tokenizer.get_vocab()
    problems = []
    for name in SPECIAL_TOKENS:
        token = cfg.get(f"{name}_token")
        if token is None:
            continue
        if token not in vocab:
            current = getattr(tokenizer, f"{name}_token", None)
            hint = f" (it has {current!r})" if current else ""
            problems.append(
                Problem(
                    f"tokenizer.{name}_token",
                    f"{token!r} is not in the vocabulary of {ref}{hint}; use a token it has, "
                    "or remove the override",
                )
            )
        else:
            setattr(tokenizer, f"{name}_token", token)
    if problems:
        raise ConfigError(problems)


def load_tokenizer(ref: str, settings: Settings, tokenizer_cfg: dict | None = None):
    """The tokenizer for a model ref; scratch models borrow the packaged SmolLM2 tokenizer.

    `tokenizer_cfg` (the tokenizer dict) may set padding_side and override special tokens
    (pad_token, eos_token, ...) with tokens the vocabulary already has.
    """
    hf_ready()
    from transformers import AutoTokenizer

    cfg = tokenizer_cfg or {}
    source = PACKAGED_REF if ref.startswith(SCRATCH_PREFIX) else ref
    path = resolve_model_path(source, settings)
    tokenizer = AutoTokenizer.from_pretrained(path, trust_remote_code=False)
    _override_special_tokens(tokenizer, cfg, ref)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token or tokenizer.unk_token
    if cfg.get("padding_side"):
        tokenizer.padding_side = cfg["padding_side"]
    return tokenizer


def _quantization(quant_cfg: dict | None):
    """BitsAndBytesConfig for a 4-bit/8-bit quantization dict (CUDA or bitsandbytes' CPU
    backend), or None for a full-precision load."""
    if not quant_cfg or not quantized(quant_cfg):
        return None
    if not quiet_bitsandbytes():
        raise ModelUnavailableError(
            "This model loads in 4-bit/8-bit with bitsandbytes, which is not installed; "
            "install it (pip install bitsandbytes) or empty the quantization config."
        )
    return bnb_config(quant_cfg)


def load_model(
    ref: str,
    settings: Settings,
    model_type: str = "causal",
    model_cfg: dict | None = None,
    quant_cfg: dict | None = None,
    device: str | None = None,
    tokenizer: Any = None,
):
    """A base model ready for training or inference, on `device` (default: pick_device())."""
    hf_ready()
    from transformers import AutoModelForCausalLM, AutoModelForSeq2SeqLM

    cfg = dict(model_cfg or {})
    device = device or pick_device()
    if ref.startswith(SCRATCH_PREFIX):
        return _scratch_model(ref, settings, cfg, tokenizer).to(device)
    quantization = _quantization(quant_cfg)
    path = resolve_model_path(ref, settings)
    kwargs: dict[str, Any] = {k: v for k, v in cfg.items() if k in _FROM_PRETRAINED_KEYS}
    if "dtype" in kwargs:
        kwargs["dtype"] = _dtype(kwargs["dtype"])
    kwargs.setdefault("dtype", None if quantization else _dtype("float32"))
    if quantization is not None:
        kwargs["quantization_config"] = quantization
        kwargs["device_map"] = bnb_device_map()
    auto = AutoModelForSeq2SeqLM if model_type == "seq2seq" else AutoModelForCausalLM
    try:
        model = auto.from_pretrained(
            path,
            trust_remote_code=False,
            use_safetensors=True,
            **kwargs,
        )
    except OSError as exc:
        raise ModelUnavailableError(
            f"Could not load the weights of {ref} from {path}: {exc}. The studio loads "
            "safetensors weights only; convert .bin weights with save_pretrained first."
        ) from exc
    return model if quantization is not None else model.to(device)


def _scratch_model(ref: str, settings: Settings, cfg: dict, tokenizer: Any = None):
    import torch
    from transformers import AutoModelForCausalLM, LlamaConfig

    tokenizer = tokenizer or load_tokenizer(ref, settings)
    arch = {**SCRATCH_ARCHITECTURE, **(cfg.get("architecture") or {})}
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        **arch,
    )
    torch.manual_seed(int(cfg.get("seed", 0)))
    return AutoModelForCausalLM.from_config(config, dtype=torch.float32)


def read_meta(adapter_dir: str | Path) -> dict:
    """studio.json of a finished run's adapter folder ({} when missing)."""
    path = Path(adapter_dir) / STUDIO_META
    return json.loads(path.read_text()) if path.is_file() else {}


def load_trained(adapter_dir: str | Path, settings: Settings, device: str | None = None):
    """(model, tokenizer, meta) for a finished run's adapter folder (adapter or full model)."""
    hf_ready()
    from transformers import AutoTokenizer

    adapter_dir = Path(adapter_dir)
    meta = read_meta(adapter_dir)
    if not adapter_dir.is_dir():
        raise ModelUnavailableError(f"The trained model folder {adapter_dir} does not exist.")
    tokenizer = AutoTokenizer.from_pretrained(adapter_dir)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model_type = meta.get("model_type", "causal")
    if (adapter_dir / "adapter_config.json").is_file():
        from peft import PeftModel

        base_ref = meta.get("base_model") or json.loads(
            (adapter_dir / "adapter_config.json").read_text()
        ).get("base_model_name_or_path", "")
        base = load_model(base_ref, settings, model_type=model_type, device=device)
        model = PeftModel.from_pretrained(base, adapter_dir)
    else:
        model = load_model(str(adapter_dir), settings, model_type=model_type, device=device)
    model.eval()
    return model, tokenizer, meta
