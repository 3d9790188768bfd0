"""Check an imported adapter's weights against its base model, reading headers only.

    check_adapter_weights(Path("adapter_model.safetensors"), "packaged:SmolLM2-135M-Instruct",
                          settings)

The safetensors header gives every LoRA tensor's shape without loading it; the base's
config.json gives its hidden size and number of layers. Every module a LoRA adapter wraps in a
transformer reads from or writes to the hidden state, so each lora_A (rank x in) / lora_B
(out x rank) pair has the hidden size on one side; its layer index must exist in the base.
Every declared shape is checked too: the rank `r` (and any rank_pattern) in adapter_config.json
must be the rank the tensors really have, so a config saying r=1000000 over r=4 weights is
refused before anything allocates by it; and, where the base's architecture can be built on
the meta device from its config.json (no weights), each adapted module must exist in the base
with exactly the in / out features of its lora_A / lora_B.
When the base's config.json is not on this machine the base checks are skipped (logged).
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

from studio.errors import ImportRefused
from studio.models.architecture import HIDDEN_KEYS, base_config, first_int, layer_count, meta_model
from studio.settings import Settings

log = logging.getLogger("studio.export")
_LAYER = re.compile(r"\.(?:layers|h|layer|block|blocks)\.(\d+)\.")
_LORA = re.compile(r"^(.*)\.lora_(?:embedding_)?([AB])(?:\.[^.]+)?(?:\.weight)?$")


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
    hidden, layers = first_int(cfg, HIDDEN_KEYS), layer_count(cfg)
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


MAX_RANK = 1024  # as the studio's own PEFT settings allow


def lora_pairs(shapes: dict[str, list[int]]) -> dict[str, dict[str, list[int]]]:
    """{module: {"A": shape, "B": shape}} of the LoRA tensors (2-D ones)."""
    pairs: dict[str, dict[str, list[int]]] = {}
    for key, shape in shapes.items():
        match = _LORA.match(key)
        if match and len(shape) == 2:
            pairs.setdefault(match.group(1), {})[match.group(2)] = shape
    return pairs


def _rank(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_RANK:
        raise ImportRefused(
            f"adapter_config.json: {what} must be a whole number from 1 to "
            f"{MAX_RANK} (got {str(value)[:40]})."
        )
    return value


def check_ranks(shapes: dict[str, list[int]], adapter_cfg: dict[str, Any]) -> None:
    """The declared rank(s) are the weights' real ranks; every lora_A has its lora_B."""
    r = _rank(adapter_cfg.get("r", 8), "r")
    pattern = adapter_cfg.get("rank_pattern") or {}
    if not isinstance(pattern, dict):
        raise ImportRefused("adapter_config.json: rank_pattern must be an object.")
    allowed = {r} | {_rank(v, f"rank_pattern[{k!r}]") for k, v in pattern.items()}
    for module, pair in lora_pairs(shapes).items():
        a, b = pair.get("A"), pair.get("B")
        if a is None or b is None:
            raise ImportRefused(
                f"The adapter's {module} has lora_{'A' if a else 'B'} but no "
                f"lora_{'B' if a else 'A'}; export the adapter again."
            )
        if a[0] != b[1]:
            raise ImportRefused(
                f"The adapter's {module} has lora_A of rank {a[0]} but lora_B "
                f"of rank {b[1]}: the weights are damaged."
            )
        if a[0] not in allowed:
            declared = f"r={r}" if not pattern else f"r={r} or a rank_pattern rank"
            raise ImportRefused(
                f"adapter_config.json says {declared}, but the weights of {module} have rank "
                f"{a[0]}: the config does not describe these weights. Export the adapter "
                "again (save_pretrained writes both)."
            )


def check_modules(
    shapes: dict[str, list[int]], cfg: dict[str, Any], base: str, model_type: str
) -> None:
    """Each adapted module exists in the base with the lora tensors' exact in/out features."""
    model = meta_model(cfg, model_type)
    if model is None:
        return
    modules = dict(model.named_modules())
    for module, pair in lora_pairs(shapes).items():
        name = module.removeprefix("base_model.model.")
        found = modules.get(name)
        if found is None:
            raise ImportRefused(
                f"The adapter adapts {name}, which the base model {base!r} "
                "does not have: it was trained on another model. Type that "
                "model's folder or Hub id in 'Base model' and import again."
            )
        want_in = getattr(found, "in_features", getattr(found, "num_embeddings", None))
        want_out = getattr(found, "out_features", getattr(found, "embedding_dim", None))
        a, b = pair["A"], pair["B"]
        if want_in is not None and want_out is not None and (a[1], b[0]) != (want_in, want_out):
            raise ImportRefused(
                f"The adapter's {module} maps {a[1]} -> {b[0]} features, but in the base model "
                f"{base!r} it maps {want_in} -> {want_out}: it was trained on another model. "
                "Type that model's folder or Hub id in 'Base model' and import again."
            )


def check_adapter_weights(
    path: Path,
    base: str,
    settings: Settings,
    adapter_cfg: dict[str, Any] | None = None,
    model_type: str = "causal",
) -> None:
    """The file is safetensors, holds LoRA tensors, their ranks are the declared ones, and
    their shapes fit the base model."""
    shapes = read_shapes(path)
    if not any("lora_" in k for k in shapes):
        raise ImportRefused(
            "adapter_model.safetensors holds no LoRA weights (lora_A / lora_B); export the "
            "adapter again with PEFT's save_pretrained."
        )
    check_ranks(shapes, adapter_cfg or {})
    cfg = base_config(base, settings)
    if cfg is None:
        log.info("no config.json for %s on this machine; adapter shapes not checked", base)
        return
    check_shapes(shapes, cfg, base)
    check_modules(shapes, cfg, base, model_type)
