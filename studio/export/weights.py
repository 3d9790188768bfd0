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
with exactly the in / out features of its lora_A / lora_B. The config itself is checked
field by field first (studio.export.adapter_config: LoRA only, sizes bounded by the base).
Last, the config is put on the base's architecture on the meta device (PEFT builds every
layer it would build on load, allocating nothing) and the file must hold exactly the
tensors that makes, at their shapes: what loading allocates is then bounded by the file
(itself bounded by the upload limit) and the base's own shapes.
A base whose config.json is not on this machine cannot bound anything: the import is refused.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any

from studio.errors import ImportRefused
from studio.export.adapter_config import MAX_RANK, BaseShape, check_adapter_config
from studio.models.architecture import HIDDEN_KEYS, base_config, first_int, layer_count, meta_model
from studio.settings import Settings

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
    shapes: dict[str, list[int]],
    cfg: dict[str, Any],
    base: str,
    model_type: str,
    model: Any = None,
) -> None:
    """Each adapted module exists in the base with the lora tensors' exact in/out features
    (`model`: the base's architecture on the meta device, built from `cfg` when not given)."""
    model = model if model is not None else meta_model(cfg, model_type)
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
        a, b = pair.get("A"), pair.get("B")
        if want_in is not None and want_out is not None and a and b:
            if (a[1], b[0]) != (want_in, want_out):
                raise ImportRefused(
                    f"The adapter's {module} maps {a[1]} -> {b[0]} features, but in the base "
                    f"model {base!r} it maps {want_in} -> {want_out}: it was trained on another "
                    "model. Type that model's folder or Hub id in 'Base model' and import again."
                )


def built_tensors(adapter_cfg: dict[str, Any], model: Any) -> dict[str, list[int]]:
    """{tensor name: shape} that PEFT makes when it puts this LoRA config on `model` (the
    base's architecture on the meta device: nothing is allocated). `adapter_cfg` has passed
    check_adapter_config."""
    import dataclasses

    import torch
    from peft import LoraConfig, get_peft_model
    from peft.utils import get_peft_model_state_dict

    # The base's name is not needed to build the layers (and PEFT warns when it differs).
    known = {f.name for f in dataclasses.fields(LoraConfig)} - {"base_model_name_or_path"}
    try:
        config = LoraConfig(**{k: v for k, v in adapter_cfg.items() if k in known})
        with torch.device("meta"), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # PEFT's advice on tied layers: not ours to give
            peft_model = get_peft_model(model, config)
        return {k: list(v.shape) for k, v in get_peft_model_state_dict(peft_model).items()}
    except Exception as exc:  # PEFT says what it cannot build, in its own words
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ImportRefused(
            f"adapter_config.json cannot be applied to the base model ({text[:300]}); "
            "export the adapter again."
        ) from None


def check_built_tensors(shapes: dict[str, list[int]], expected: dict[str, list[int]]) -> None:
    """The file holds exactly the tensors the config builds on the base, at their shapes:
    nothing PEFT would allocate is missing from it (so what loading allocates is bounded by
    the file, itself bounded by the upload limit, and by the base's own shapes), and
    nothing in it goes unused."""
    for name, shape in shapes.items():
        want = expected.get(name)
        if want is None:
            raise ImportRefused(
                f"adapter_model.safetensors holds {name[:200]}, which adapter_config.json "
                "does not make on this base model; export the adapter again."
            )
        if want != shape:
            raise ImportRefused(
                f"adapter_model.safetensors holds {name[:200]} of shape {shape}, but this "
                f"config on the base model makes it {want}; export the adapter again."
            )
    missing = sorted(set(expected) - set(shapes))
    if missing:
        raise ImportRefused(
            f"adapter_config.json makes {len(missing)} tensor(s) the file does not hold "
            f"(e.g. {missing[0][:200]}): its target_modules or modules_to_save name more than "
            "was trained. Export the adapter again."
        )


def base_shape(base: str, settings: Settings) -> tuple[BaseShape, dict[str, Any], Any]:
    """(BaseShape, config.json dict, meta-device architecture) of the base; ImportRefused
    when the base cannot be read here, since nothing could then bound the adapter."""
    cfg = base_config(base, settings)
    if cfg is None or not isinstance(cfg.get("model_type"), str):
        raise ImportRefused(
            f"The base model {base!r} has no config.json on this machine, so the adapter "
            "cannot be checked against it. Generate once with that base (which downloads "
            "it), then import again."
        )
    model_type = "seq2seq" if cfg.get("is_encoder_decoder") else "causal"
    model = meta_model(cfg, model_type)
    if model is None:
        raise ImportRefused(
            f"This studio cannot build the architecture of the base model {base!r} "
            f"({cfg.get('model_type')}), so it could not load the adapter either."
        )
    names = frozenset(n for n, _ in model.named_modules() if n)
    return BaseShape(base, model_type, layer_count(cfg), names), cfg, model


def check_adapter_weights(
    path: Path, base: str, settings: Settings, adapter_cfg: dict[str, Any] | None = None
) -> str:
    """Check an adapter folder's config and weights against its base, before anything is
    stored; returns the base's model type (causal / seq2seq)."""
    shapes = read_shapes(path)
    if not any("lora_" in k for k in shapes):
        raise ImportRefused(
            "adapter_model.safetensors holds no LoRA weights (lora_A / lora_B); export the "
            "adapter again with PEFT's save_pretrained."
        )
    adapter_cfg = adapter_cfg or {}
    shape, cfg, model = base_shape(base, settings)
    check_adapter_config(adapter_cfg, shape)
    check_ranks(shapes, adapter_cfg)
    check_shapes(shapes, cfg, base)
    check_modules(shapes, cfg, base, shape.model_type, model)
    check_built_tensors(shapes, built_tensors(adapter_cfg, model))
    return shape.model_type
