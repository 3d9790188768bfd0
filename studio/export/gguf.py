"""GGUF export of a trained model: merge its adapter, write one GGUF file, zip it with a
model card and an Ollama Modelfile (see gguf_writer.py for the types)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from studio.export.adapter import _model_title, merge_to_folder
from studio.export.card import model_card
from studio.export.gguf_writer import GGUF_TYPES, GGUFRefused, check_gguf_support, write_gguf
from studio.export.paths import export_name, exports_dir, zip_folder
from studio.export.serving_card import modelfile
from studio.jobs.trained import trained_job
from studio.models.loading import read_meta
from studio.settings import Settings

__all__ = ["GGUF_TYPES", "GGUFRefused", "export_gguf_zip"]


def export_gguf_zip(store, settings: Settings, job_id: str, qtype: str = "Q8_0") -> Path:
    """model-<type>.gguf + Modelfile + README.md of the merged model, zipped."""
    if qtype not in GGUF_TYPES:
        raise GGUFRefused(
            f"GGUF type {qtype!r} is not offered; choose one of {', '.join(GGUF_TYPES)}."
        )
    job = trained_job(store, job_id)
    out = exports_dir(settings, job["app_id"]) / export_name(job_id, f"gguf-{qtype}")
    tmp_root = settings.tmp_dir if settings.tmp_dir.is_dir() else None
    with tempfile.TemporaryDirectory(dir=tmp_root) as tmp:
        merged = merge_to_folder(store, settings, job, Path(tmp) / "merged")
        check_gguf_support(merged)  # refuse before any heavy work on other architectures
        folder = Path(tmp) / "gguf"
        folder.mkdir()
        name = f"model-{qtype}.gguf"
        write_gguf(merged, folder / name, qtype, name=_model_title(store, job) or job_id)
        chat = read_meta(merged).get("prompt_format") == "chat"
        (folder / "Modelfile").write_text(modelfile(name, chat))
        card = model_card(store, job, _model_title(store, job), merged=True, gguf_file=name)
        (folder / "README.md").write_text(card)
        zip_folder(folder, out)
    return out
