"""GGUF export of a trained model: merge its adapter, write one GGUF file, zip it with a
model card and an Ollama Modelfile (see gguf_writer.py for the types)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from studio.export.adapter import merge_to_folder
from studio.export.card import model_card
from studio.export.gguf_writer import GGUF_TYPES, GGUFRefused, check_gguf_support, write_gguf
from studio.export.paths import export_name, exports_dir, zip_folder
from studio.export.serving_card import modelfile
from studio.jobs.trained import TrainedModel
from studio.models.loading import read_meta
from studio.settings import Settings

__all__ = ["GGUF_TYPES", "GGUFRefused", "export_gguf_zip"]


def export_gguf_zip(store, settings: Settings, model: TrainedModel, qtype: str = "Q8_0") -> Path:
    """model-<type>.gguf + Modelfile + README.md of the merged model, zipped."""
    if qtype not in GGUF_TYPES:
        raise GGUFRefused(
            f"GGUF type {qtype!r} is not offered; choose one of {', '.join(GGUF_TYPES)}."
        )
    out = exports_dir(settings, model.app_id) / export_name(model.job_id, f"gguf-{qtype}")
    tmp_root = settings.tmp_dir if settings.tmp_dir.is_dir() else None
    with tempfile.TemporaryDirectory(dir=tmp_root) as tmp:
        merged = merge_to_folder(store, settings, model, Path(tmp) / "merged")
        check_gguf_support(merged)  # refuse before any heavy work on other architectures
        folder = Path(tmp) / "gguf"
        folder.mkdir()
        name = f"model-{qtype}.gguf"
        write_gguf(merged, folder / name, qtype, name=model.title(store) or model.job_id)
        chat = read_meta(merged).get("prompt_format") == "chat"
        (folder / "Modelfile").write_text(modelfile(name, chat))
        card = model_card(store, model, merged=True, gguf_file=name)
        (folder / "README.md").write_text(card)
        zip_folder(folder, out)
    return out
