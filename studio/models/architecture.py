"""What a base model is made of, read from its config.json alone (no weights, no download).

    cfg = base_config("packaged:SmolLM2-135M-Instruct", settings)
    layer_count(cfg), first_int(cfg, HIDDEN_KEYS), meta_model(cfg, "causal")

Validate (studio.configs) and the adapter import check (studio.export) both ask these
questions of a base; this module answers them once.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from studio.models.hf import hf_ready
from studio.models.resolve import PACKAGED_HUB_ID, PACKAGED_REF, is_local_ref, packaged_model_dir
from studio.settings import Settings

log = logging.getLogger("studio.models")
HIDDEN_KEYS = ("hidden_size", "n_embd", "d_model", "dim")
LAYER_KEYS = ("num_hidden_layers", "n_layer", "num_layers", "n_layers")


def base_config(ref: str, settings: Settings) -> dict[str, Any] | None:
    """The base model's config.json as a dict, if it is on this machine (no download)."""
    if ref == PACKAGED_REF:
        paths = [packaged_model_dir(settings) / "config.json", _cached_config(PACKAGED_HUB_ID)]
    elif is_local_ref(ref):
        paths = [Path(ref).expanduser() / "config.json"]
    else:
        paths = [_cached_config(ref)]
    for path in paths:
        if path is not None and path.is_file():
            try:
                data = json.loads(path.read_text())
            except (OSError, ValueError):
                return None
            return data if isinstance(data, dict) else None
    return None


def _cached_config(repo_id: str) -> Path | None:
    """config.json of a Hub model in the local cache (never downloads)."""
    try:
        from huggingface_hub import try_to_load_from_cache

        found = try_to_load_from_cache(repo_id, "config.json")
    except Exception:  # an id the Hub library rejects has no cached config either
        return None
    return Path(found) if isinstance(found, str) else None


def first_int(cfg: dict[str, Any], keys: tuple[str, ...]) -> int | None:
    """The first of `keys` that holds a whole number in `cfg`."""
    for key in keys:
        if isinstance(cfg.get(key), int):
            return cfg[key]
    return None


def layer_count(cfg: dict[str, Any]) -> int | None:
    """Transformer layers (the larger stack of an encoder-decoder)."""
    n = first_int(cfg, LAYER_KEYS)
    decoder = cfg.get("num_decoder_layers")  # encoder-decoder models (T5)
    return max(n, decoder) if n and isinstance(decoder, int) else n


def meta_model(cfg: dict[str, Any], model_type: str):
    """The base's architecture on the meta device, from its config.json dict (no weights,
    no memory); None when this transformers cannot build it."""
    hf_ready()
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoModelForSeq2SeqLM

    try:
        kind = cfg.get("model_type")
        config = AutoConfig.for_model(kind, **{k: v for k, v in cfg.items() if k != "model_type"})
        auto = AutoModelForSeq2SeqLM if model_type == "seq2seq" else AutoModelForCausalLM
        with torch.device("meta"):
            return auto.from_config(config, trust_remote_code=False)
    except Exception as exc:  # an architecture this transformers does not know
        log.info("cannot build %s on the meta device (%s)", cfg.get("model_type"), exc)
        return None
