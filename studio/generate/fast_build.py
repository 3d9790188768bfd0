"""Converting a model for the fast engine: ONNX Runtime GenAI's model builder, run once per
model content, in the background, with its progress readable while it runs.

    builds = FastBuilds(root)
    state = builds.state(source_dir, adapter_dir, layers=30)   # starts the build if needed
    state.ready / state.failed / state.progress() -> "converting: layer 12 / 30 (40 %), 9 s"

The copy is kept in ROOT/<key>, where the key hashes the builder recipe and the content of
every file of the base model and of the adapter: a retrained adapter is a new key, and the
copy the same model name had before is deleted (`refs.json` remembers which key each model
name had). A LoRA adapter is merged into the fp32 base first, then the merged model is
converted: side by side with the builder's own `adapter_path` (the adapter kept as a small
path beside each quantized layer) it kept a tuned classifier's held-out accuracy as well,
converted in about the same time, and decodes without the extra matrices (bench/README.md).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

# The conversion recipe, chosen by bench/bench_generate.py (bench/README.md, "Fast engine"):
# int8 weights in blocks of 32. Side by side it decoded faster than the int4 k-quant recipe
# on this CPU, kept fp32's perplexity, converted 4x sooner, and converts LoRA adapters of
# any rank (k-quant failed on a rank-8 adapter's small matrices).
RECIPE = ("-p", "int8", "--extra_options", "block_size=32")
# Architectures the builder converts (its builders/ folder); others answer exactly.
SUPPORTED = (
    "llama",
    "mistral",
    "qwen2",
    "qwen3",
    "phi",
    "phi3",
    "gemma",
    "gemma2",
    "gemma3_text",
    "granite",
    "olmo",
    "smollm3",
    "nemotron",
    "internlm2",
)
_hashes: dict[tuple, str] = {}  # (path, size, mtime) -> sha256 of the file
_hash_lock = threading.Lock()


def file_digest(path: Path) -> str:
    """sha256 of a file, remembered while its size and mtime stay the same."""
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns)
    with _hash_lock:
        if key in _hashes:
            return _hashes[key]
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    with _hash_lock:
        _hashes[key] = digest.hexdigest()
    return _hashes[key]


def content_key(source: str, adapter: str = "", recipe: tuple = RECIPE) -> str:
    """What identifies a converted copy: the recipe, the builder's version and every file of
    the base folder and the adapter folder."""
    import onnxruntime_genai

    # "lora merged": how an adapter reaches the copy is part of what the copy is.
    made = [list(recipe), onnxruntime_genai.__version__, "lora merged"]
    h = hashlib.sha256(json.dumps(made).encode())
    for folder in (source, adapter):
        if not folder:
            continue
        for path in sorted(Path(folder).iterdir()):
            if path.is_file() and not path.name.startswith("."):
                h.update(f"{path.name}:{file_digest(path)}".encode())
    return h.hexdigest()[:24]


def merge_adapter(source: str, adapter: str, out: Path) -> None:
    """The base in `source` with the LoRA adapter in `adapter` merged in, saved to `out` in
    fp32 with the tokenizer the adapter was trained with."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    base = AutoModelForCausalLM.from_pretrained(source, dtype=torch.float32)
    PeftModel.from_pretrained(base, adapter).merge_and_unload().save_pretrained(out)
    tokenizer_from = adapter if (Path(adapter) / "tokenizer_config.json").is_file() else source
    AutoTokenizer.from_pretrained(tokenizer_from).save_pretrained(out)


def unsupported_reason(model_type: str, architecture: str) -> str:
    """Why the fast engine cannot serve this model ("" when it can)."""
    if model_type == "seq2seq":
        return "the fast engine converts text generators only, not Text-to-Text models"
    if architecture not in SUPPORTED:
        return f"the fast engine cannot convert {architecture or 'this'} models"
    return ""


@dataclass
class BuildState:
    """One conversion: running, ready (`folder`) or failed (`error`)."""

    key: str
    layers: int = 0
    folder: str = ""
    error: str = ""
    started: float = 0.0
    seconds: float = 0.0  # how long the conversion took, once finished
    layer: int = -1  # the last layer the builder reported
    stage: str = "starting"
    announced: bool = False  # the conversion time was shown with a fast answer

    @property
    def ready(self) -> bool:
        return bool(self.folder)

    @property
    def failed(self) -> bool:
        return bool(self.error)

    def progress(self) -> str:
        """A line for the page: what the conversion is doing and for how long."""
        if self.ready:
            return f"converted in {self.seconds:.0f} s" if self.seconds else "converted"
        if self.failed:
            return f"conversion failed: {self.error}"
        elapsed = time.monotonic() - self.started
        if self.layer >= 0 and self.layers:
            done = min(self.layer + 1, self.layers)
            return (
                f"converting for the fast engine: {self.stage} layer {done} / {self.layers} "
                f"({100 * done // self.layers} %), {elapsed:.0f} s so far"
            )
        return f"converting for the fast engine: {self.stage}, {elapsed:.0f} s so far"


_LAYER = re.compile(r"layers[./](\d+)")
# (what a builder output line holds, the stage it starts), in the order they come.
_STAGES = (
    ("Reading", "reading"),
    ("Loading", "reading"),
    ("quantiz", "quantizing"),
    ("Saving", "saving"),
)


class FastBuilds:
    """Converted copies under `root`, one build at a time per key, each in the background."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self._states: dict[str, BuildState] = {}
        self._lock = threading.Lock()

    def state(self, name: str, source: str, adapter: str = "", layers: int = 0) -> BuildState:
        """The conversion of `source` (+ `adapter`) known as `name`; starts it when needed."""
        key = content_key(source, adapter)
        with self._lock:
            state = self._states.get(key)
            if state is not None:
                return state
            folder = self.root / key
            if (folder / "genai_config.json").is_file():
                state = BuildState(key, layers, folder=str(folder))
            else:
                state = BuildState(key, layers, started=time.monotonic())
                threading.Thread(
                    target=self._build, args=(state, source, adapter), daemon=True
                ).start()
            self._states[key] = state
            self._remember(name, key)
            return state

    def _remember(self, name: str, key: str) -> None:
        """Point `name` at `key`; delete the copy it pointed at before if nobody else uses it."""
        self.root.mkdir(parents=True, exist_ok=True)
        index = self.root / "refs.json"
        try:
            refs = json.loads(index.read_text()) if index.is_file() else {}
        except (OSError, ValueError):
            refs = {}
        old = refs.get(name)
        refs[name] = key
        index.write_text(json.dumps(refs, indent=1))
        if old and old != key and old not in refs.values():
            log.info("dropping the fast copy %s of %s (the model changed)", old, name)
            self._states.pop(old, None)
            shutil.rmtree(self.root / old, ignore_errors=True)

    def _build(self, state: BuildState, source: str, adapter: str) -> None:
        out = self.root / f"{state.key}.tmp-{os.getpid()}-{threading.get_ident()}"
        merged = out.with_name(out.name + "-merged")
        try:
            if adapter:
                state.stage = "merging the adapter"
                merge_adapter(source, adapter, merged)
                source = str(merged)
            log.info("converting %s for the fast engine", source)
            self._run(self._command(source, out), state)
            os.replace(out, self.root / state.key)
            state.seconds = time.monotonic() - state.started
            state.folder = str(self.root / state.key)
            log.info("fast copy %s ready in %.1f s", state.key, state.seconds)
        except Exception as exc:  # the page shows why; exact answers meanwhile
            log.exception("fast conversion failed")
            state.error = str(exc)[-300:] or type(exc).__name__
            state.seconds = time.monotonic() - state.started
        finally:
            shutil.rmtree(out, ignore_errors=True)
            shutil.rmtree(merged, ignore_errors=True)

    def _command(self, source: str, out: Path) -> list[str]:
        """The model builder's command line for `source` into `out`."""
        cache = str(self.root / "builder-cache")
        return [sys.executable, "-m", "onnxruntime_genai.models.builder", "-m", source, "-i"] + [
            source,
            "-o",
            str(out),
            "-e",
            "cpu",
            "-c",
            cache,
            *RECIPE,
        ]

    @staticmethod
    def _run(command: list[str], state: BuildState) -> None:
        env = dict(os.environ, TQDM_DISABLE="1", HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
        tail: list[str] = []
        with subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
        ) as proc:
            for line in proc.stdout:
                tail = (tail + [line.strip()])[-20:]
                stage = next((s for k, s in _STAGES if k in line), state.stage)
                if stage != state.stage:
                    state.stage, state.layer = stage, -1  # each stage walks the layers again
                found = _LAYER.search(line)
                if found:
                    state.layer = max(state.layer, int(found.group(1)))
            code = proc.wait()
        if code != 0:
            last = next((t for t in reversed(tail) if t), "")
            raise RuntimeError(f"the model builder exited with {code}: {last}")
