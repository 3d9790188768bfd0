"""Check an imported adapter's weights against its base model, reading headers only.

    check_adapter_weights(Path("adapter_model.safetensors"), "packaged:SmolLM2-135M-Instruct",
                          settings)

The safetensors header gives every LoRA tensor's shape without loading it; the base's
config.json gives its hidden size and number of layers. Every module a LoRA adapter wraps in a
transformer reads from or writes to the hidden state, so each lora_A (rank x in) / lora_B
(out x rank) pair has the hidden size on one side; its layer index must exist in the base.
When the base's config.json is not on this machine the shape check is skipped (logged).
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any

from studio.export.importer import ImportRefused
from studio.settings import Settings

log = logging.getLogger("studio.export")
_LAYER = re.compile(r"\.(?:layers|h|layer|block|blocks)\.(\d+)\.")
_LORA = re.compile(r"^(.*)\.lora_(?:embedding_)?([AB])(?:\.[^.]+)?(?:\.weight)?$")
HIDDEN_KEYS = ("hidden_size", "n_embd", "d_model", "dim")
LAYER_KEYS = ("num_hidden_layers", "n_layer", "num_layers", "n_layers")


def base_config(ref: str, settings: Settings) -> dict[str, Any] | None:
    """The base model's config.json as a dict, if it is on this machine (no download)."""
    from studio.models.resolve import (
        PACKAGED_HUB_ID,
        PACKAGED_REF,
        is_local_ref,
        packaged_model_dir,
    )

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


def _first(cfg: dict[str, Any], keys: tuple[str, ...]) -> int | None:
    for key in keys:
        if isinstance(cfg.get(key), int):
            return cfg[key]
    return None


def _layer_count(cfg: dict[str, Any]) -> int | None:
    n = _first(cfg, LAYER_KEYS)
    decoder = cfg.get("num_decoder_layers")  # encoder-decoder models (T5)
    return max(n, decoder) if n and isinstance(decoder, int) else n


def read_shapes(path: Path) -> dict[str, list[int]]:
    """{tensor name: shape} from a safetensors header; ImportRefused when it is not one."""
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt") as f:
            return {k: list(f.get_slice(k).get_shape()) for k in f.keys()}
    except Exception as exc:  # safetensors raises its own error types
        raise ImportRefused(
            f"adapter_model.safetensors is not a valid safetensors file ({exc})."
        ) from None


def check_shapes(shapes: dict[str, list[int]], cfg: dict[str, Any], base: str) -> None:
    """Refuse LoRA tensors whose sizes or layers do not fit the base config `cfg`."""
    hidden, layers = _first(cfg, HIDDEN_KEYS), _layer_count(cfg)
    pairs: dict[str, dict[str, list[int]]] = {}
    for key, shape in shapes.items():
        match = _LORA.match(key)
        if match and len(shape) == 2:
            pairs.setdefault(match.group(1), {})[match.group(2)] = shape
        layer = _LAYER.search(key)
        if layers and layer and int(layer.group(1)) >= layers:
            raise ImportRefused(
                f"The adapter has weights for layer {layer.group(1)} ({key}), but the base model "
                f"{base!r} has {layers} layers: it was trained on another model. Type that "
                "model's folder or Hub id in 'Base model' and import again."
            )
    for module, pair in pairs.items():
        a, b = pair.get("A"), pair.get("B")
        if hidden and a and b and hidden not in (a[1], b[0]):
            raise ImportRefused(
                f"The adapter's {module} maps {a[1]} -> {b[0]} features, but the base model "
                f"{base!r} has hidden size {hidden}: it was trained on another model. Type "
                "that model's folder or Hub id in 'Base model' and import again."
            )


def check_adapter_weights(path: Path, base: str, settings: Settings) -> None:
    """The file is safetensors, holds LoRA tensors, and their shapes fit the base model."""
    shapes = read_shapes(path)
    if not any("lora_" in k for k in shapes):
        raise ImportRefused(
            "adapter_model.safetensors holds no LoRA weights (lora_A / lora_B); export the "
            "adapter again with PEFT's save_pretrained."
        )
    cfg = base_config(base, settings)
    if cfg is None:
        log.info("no config.json for %s on this machine; adapter shapes not checked", base)
        return
    check_shapes(shapes, cfg, base)
