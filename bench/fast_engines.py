"""Pieces of bench_generate.py: the CPU engines compared with the studio's fast path.

Each engine decodes the same prompt greedily for the same number of tokens, and scores the
same validation sentences (perplexity), from its own copy of the same model:
  ort-int8, ort-int4-kquant, ort-int4-rtn   ONNX Runtime GenAI, three builder recipes
  ct2-int8                                  CTranslate2 (when `ctranslate2` is installed)
  old-int4                                  the studio's previous hand-written int4 copy,
                                            read from git history (it is no longer shipped)
"""

from __future__ import annotations

import importlib.util
import math
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ORT_RECIPES = {
    "ort-int8": ("-p", "int8", "--extra_options", "block_size=32"),
    "ort-int4-kquant": ("-p", "int4", "--extra_options", "algo_config=k_quant_mixed"),
    "ort-int4-rtn": ("-p", "int4"),
}
OLD_FAST_COMMIT = "1100208"  # the last commit with studio/generate/fast.py


def convert_ort(source: str, out: Path, recipe: tuple, adapter: str = "") -> float:
    """Run ONNX Runtime GenAI's builder; the seconds it took (0 when `out` already exists)."""
    if (out / "genai_config.json").is_file():
        return 0.0
    args = list(recipe)
    if adapter:
        args += [] if "--extra_options" in args else ["--extra_options"]
        args.append(f"adapter_path={adapter}")
    command = [sys.executable, "-m", "onnxruntime_genai.models.builder", "-m", source, "-i"]
    command += [source, "-o", str(out), "-e", "cpu", "-c", str(out.parent / "cache"), *args]
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - start


def ort_speed(folder: Path, ids: list[int], n: int) -> tuple[float, float]:
    """(tokens/s, seconds to the first token) of an og.Generator decoding `n` greedy tokens."""
    import onnxruntime_genai as og

    model = _ort_models.get(folder) or _ort_models.setdefault(folder, og.Model(str(folder)))
    params = og.GeneratorParams(model)
    params.set_search_options(max_length=len(ids) + n, min_length=len(ids) + n, do_sample=False)
    generator = og.Generator(model, params)
    start = time.perf_counter()
    generator.append_tokens(ids)
    first, count = None, 0
    while not generator.is_done():
        generator.generate_next_token()
        count += 1
        first = first if first is not None else time.perf_counter() - start
    return count / (time.perf_counter() - start), first


_ort_models: dict = {}


def ort_perplexity(folder: Path, texts_ids: list[list[int]]) -> float:
    """Perplexity of the converted model on token id rows (the same rule as `perplexity`)."""
    import numpy as np
    import onnxruntime as ort

    session = ort.InferenceSession(str(folder / "model.onnx"), providers=["CPUExecutionProvider"])
    past = [i for i in session.get_inputs() if i.name.startswith("past_key_values")]
    nll, count = 0.0, 0
    for ids in texts_ids:
        feed = {
            "input_ids": np.array([ids], dtype=np.int64),
            "attention_mask": np.ones((1, len(ids)), dtype=np.int64),
        }
        for p in past:
            feed[p.name] = np.zeros((1, p.shape[1], 0, _head_dim(folder)), dtype=np.float32)
        logits = session.run(["logits"], feed)[0][0].astype(np.float64)
        logits -= logits.max(axis=-1, keepdims=True)
        logp = logits - np.log(np.exp(logits).sum(axis=-1, keepdims=True))
        nll -= float(sum(logp[i, ids[i + 1]] for i in range(len(ids) - 1)))
        count += len(ids) - 1
    return math.exp(nll / count)


def _head_dim(folder: Path) -> int:
    import json

    return json.loads((folder / "genai_config.json").read_text())["model"]["decoder"]["head_size"]


def torch_perplexity(model, texts_ids: list[list[int]]) -> float:
    """Perplexity of a transformers model on token id rows: each token after the first."""
    import torch

    nll, count = 0.0, 0
    with torch.inference_mode():
        for ids in texts_ids:
            x = torch.tensor([ids])
            logp = torch.log_softmax(model(x).logits[0].double(), dim=-1)
            nll -= float(logp[torch.arange(len(ids) - 1), x[0, 1:]].sum())
            count += len(ids) - 1
    return math.exp(nll / count)


def ct2_engine(source: str, out: Path):
    """A CTranslate2 int8 generator of the model, or None when ctranslate2 is missing or
    cannot convert it (the reason is printed)."""
    if importlib.util.find_spec("ctranslate2") is None:
        print("ct2-int8: ctranslate2 is not installed (pip install ctranslate2)")
        return None
    import ctranslate2

    try:
        if not (out / "model.bin").is_file():
            ctranslate2.converters.TransformersConverter(source).convert(
                str(out), quantization="int8", force=True
            )
        return ctranslate2.Generator(str(out), device="cpu", compute_type="int8")
    except Exception as exc:  # a bench row, not a failure of the studio
        print(f"ct2-int8: could not convert ({type(exc).__name__}: {str(exc)[:200]})")
        return None


def ct2_speed(generator, tokens: list[str], n: int) -> tuple[float, float]:
    """(tokens/s, first token seconds) of CTranslate2's greedy token stream."""
    start = time.perf_counter()
    first, count = None, 0
    for _ in generator.generate_tokens(tokens, max_length=n, sampling_topk=1, end_token=[]):
        count += 1
        first = first if first is not None else time.perf_counter() - start
    return count / (time.perf_counter() - start), first


def ct2_perplexity(generator, texts_tokens: list[list[str]]) -> float:
    scores = generator.score_batch(texts_tokens)
    nll = -sum(sum(s.log_probs) for s in scores)
    return math.exp(nll / sum(len(s.log_probs) for s in scores))


def old_fast_copy(scratch: Path):
    """`fast_copy` of the previous hand-written int4 copy, written out of git history into
    `scratch`/oldfast/ and imported from there, or None when the history lacks it."""
    package = scratch / "oldfast"
    package.mkdir(parents=True, exist_ok=True)
    (package / "__init__.py").write_text("")
    try:
        for name in ("quant_layers", "rounding", "batcher", "fast"):
            source = subprocess.run(
                ["git", "show", f"{OLD_FAST_COMMIT}:studio/generate/{name}.py"],
                cwd=ROOT,
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            (package / f"{name}.py").write_text(source.replace("studio.generate.", "oldfast."))
    except (subprocess.CalledProcessError, OSError) as exc:
        print(f"old-int4: not in this checkout's history ({exc})")
        return None
    sys.path.insert(0, str(scratch))
    return importlib.import_module("oldfast.fast").fast_copy
