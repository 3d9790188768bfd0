"""Export a trained model as files a user takes away.

- export_adapter_zip: RUN_DIR/adapter zipped (adapter_model.safetensors, adapter_config.json,
  tokenizer files, studio.json) plus a README.md model card; `PeftModel.from_pretrained`
  loads the extracted folder as is.
- export_merged_zip: the adapter merged into a full-precision copy of its base
  (merge_and_unload, never a 4-bit base), saved as safetensors with the tokenizer,
  generation_config.json and model card; zipped.
Both write under settings.home/exports/<app_id>/ and return the zip path.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from studio.export.card import model_card, public_base
from studio.export.paths import export_name, exports_dir, zip_folder
from studio.jobs.trained import TrainedModel
from studio.models.hf import hf_ready
from studio.models.loading import load_model, read_meta
from studio.settings import Settings

ADAPTER_FILES = ("adapter_config.json", "adapter_model.safetensors")


def _public_base_in_config(folder: Path) -> None:
    """Name the packaged base by its Hub id in adapter_config.json: training recorded the
    machine-local folder of the converted model, which exists nowhere else."""
    cfg_path = folder / ADAPTER_FILES[0]
    try:
        cfg, meta = json.loads(cfg_path.read_text()), read_meta(folder)
    except (OSError, ValueError):
        return
    if not meta:
        return
    public = public_base(str(meta.get("base_model") or ""))
    if isinstance(cfg, dict) and public != meta.get("base_model"):
        cfg["base_model_name_or_path"] = public
        cfg_path.write_text(json.dumps(cfg, indent=2))


def stage_adapter(store, model: TrainedModel, dest: Path) -> Path:
    """Copy the model folder (regular files only) to `dest` and add the model card."""
    src = model.model_dir
    dest.mkdir(parents=True, exist_ok=True)
    for path in src.iterdir():
        # Checkpoint leftovers and anything not a plain file stay behind.
        if path.is_file() and not path.is_symlink() and path.suffix not in (".bin", ".pt", ".pkl"):
            shutil.copy2(path, dest / path.name)
    _public_base_in_config(dest)
    (dest / "README.md").write_text(model_card(store, model))
    return dest


def _tmp_root(settings: Settings) -> Path | None:
    return settings.tmp_dir if settings.tmp_dir.is_dir() else None


def export_adapter_zip(store, settings: Settings, model: TrainedModel) -> Path:
    """The trained model's folder as a zip (LoRA adapter, or full weights for full runs)."""
    kind = "adapter" if model.is_adapter else "model"
    out = exports_dir(settings, model.app_id) / export_name(model.job_id, kind)
    with tempfile.TemporaryDirectory(dir=_tmp_root(settings)) as tmp:
        zip_folder(stage_adapter(store, model, Path(tmp) / "adapter"), out)
    return out


def merge_to_folder(store, settings: Settings, model: TrainedModel, dest: Path) -> Path:
    """Merge the adapter into a float32 copy of its base and save the full model to `dest`."""
    if not model.is_adapter:  # a full / scratch run already is a full model: copy it
        return stage_adapter(store, model, dest)
    hf_ready()
    import torch
    from peft import PeftModel
    from transformers import AutoTokenizer

    adapter, meta = model.model_dir, model.meta
    base_ref = model.base_ref or model.folder.adapter_config().get("base_model_name_or_path", "")
    # Full precision on the CPU: merging into 4-bit weights would round the adapter away.
    base = load_model(
        base_ref, settings, model.model_type, model_cfg={"dtype": "float32"}, device="cpu"
    )
    tied = bool(getattr(base.config, "tie_word_embeddings", False))
    merged = PeftModel.from_pretrained(base, adapter).merge_and_unload()
    keep_tied_embeddings(merged, tied)
    merged.eval()
    dest.mkdir(parents=True, exist_ok=True)
    with torch.no_grad():
        merged.save_pretrained(dest, safe_serialization=True)
    if merged.generation_config is not None:
        merged.generation_config.save_pretrained(dest)
    AutoTokenizer.from_pretrained(adapter).save_pretrained(dest)
    meta = {**meta, "method": "merged", "merged_from": meta.get("method", "lora")}
    model.folder.write_meta(meta, folder=dest)
    (dest / "README.md").write_text(model_card(store, model, merged=True))
    return dest


def keep_tied_embeddings(model, was_tied: bool) -> None:
    """Undo peft's untying of a model whose output head still shares its weights.

    After a merge, peft compares the head with get_input_embeddings() and, when they differ,
    marks the config untied. In an encoder-decoder such as T5Gemma the head shares the
    decoder's embeddings, not the encoder's that method returns: the config said untied,
    save_pretrained wrote the shared tensor once, and the reloaded model got a random head.
    """
    head = model.get_output_embeddings() if was_tied else None
    weight = getattr(head, "weight", None)
    if weight is None:
        return
    names = [n for n, p in model.named_parameters(remove_duplicate=False) if p is weight]
    if len(names) > 1:  # still one tensor under two names: tied
        model.config.tie_word_embeddings = True


def export_merged_zip(store, settings: Settings, model: TrainedModel) -> Path:
    """The merged full model (safetensors + tokenizer + generation config + card), zipped."""
    out = exports_dir(settings, model.app_id) / export_name(model.job_id, "merged")
    with tempfile.TemporaryDirectory(dir=_tmp_root(settings)) as tmp:
        zip_folder(merge_to_folder(store, settings, model, Path(tmp) / "merged"), out)
    return out
