"""Resolving base models: packaged default, local folders, Hub ids that are not here."""

from __future__ import annotations

import os

import pytest

from studio.errors import ModelUnavailableError
from studio.models.resolve import (
    PACKAGED_REF,
    ensure_packaged_model,
    model_availability,
    resolve_model_path,
)
from studio.settings import Settings


@pytest.mark.slow
def test_packaged_model_converts_once_then_is_reused(tmp_path, packaged_model_dir):
    # A fresh models dir: the first call converts, the second returns the same folder untouched.
    s = Settings.from_env(home=tmp_path / "h", models_root=tmp_path / "models")
    first = ensure_packaged_model(s)
    assert (first / "model.safetensors").is_file() and (first / "tokenizer.json").is_file()
    mtime = os.stat(first / "model.safetensors").st_mtime_ns
    assert resolve_model_path(PACKAGED_REF, s) == str(first)
    assert os.stat(first / "model.safetensors").st_mtime_ns == mtime
    assert not list((tmp_path / "models").glob(".*tmp*")), "temporary folder left behind"


@pytest.mark.slow
def test_packaged_model_answers_a_question(settings):
    import torch

    from studio.models.loading import load_model, load_tokenizer

    tok = load_tokenizer(PACKAGED_REF, settings)
    model = load_model(PACKAGED_REF, settings)
    msgs = [{"role": "user", "content": "What is the capital of France?"}]
    ids = tok.apply_chat_template(
        msgs, add_generation_prompt=True, return_tensors="pt", return_dict=True
    )
    with torch.no_grad():
        out = model.generate(**ids, max_new_tokens=20, do_sample=False)
    answer = tok.decode(out[0][ids["input_ids"].shape[1] :], skip_special_tokens=True)
    assert "Paris" in answer
    # The tokenizer round-trips text exactly.
    text = "### Instruction: Résumé, naïve café — 42 ### Assistant: ok"
    assert tok.decode(tok(text)["input_ids"], skip_special_tokens=True) == text


def test_missing_hub_model_gives_a_clear_error(settings):
    ok, reason = model_availability("someone/not-a-cached-model", settings)
    assert not ok and "`hf download someone/not-a-cached-model`" in reason
    with pytest.raises(ModelUnavailableError, match="hf download someone/not-a-cached-model"):
        resolve_model_path("someone/not-a-cached-model", settings)  # HF_HUB_OFFLINE=1 in tests


def test_local_folder_and_bad_refs(settings, tiny_causal_dir, tmp_path):
    assert resolve_model_path(str(tiny_causal_dir), settings) == str(tiny_causal_dir)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ModelUnavailableError, match="no config.json"):
        resolve_model_path(str(empty), settings)
    assert not model_availability("not a model id!", settings)[0]
    assert model_availability("scratch:tiny-gpt", settings)[0]


@pytest.mark.parametrize(
    "quant,layer",
    [
        ({"load_in_4bit": True, "bnb_4bit_quant_type": "nf4"}, "Linear4bit"),
        ({"load_in_8bit": True}, "Linear8bitLt"),
    ],
)
def test_four_and_eight_bit_load_on_a_cpu(settings, tiny_causal_dir, quant, layer):
    import torch

    from studio.models.loading import load_model

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    pytest.importorskip("bitsandbytes")
    model = load_model(str(tiny_causal_dir), settings, quant_cfg=quant)
    q_proj = model.model.layers[0].self_attn.q_proj
    assert type(q_proj).__name__ == layer and model.device.type == "cpu"
    with torch.no_grad():
        out = model.generate(torch.tensor([[1, 2, 3]]), max_new_tokens=3, do_sample=False)
    assert out.shape == (1, 6)


def test_scratch_model_uses_the_packaged_tokenizer_vocab(settings, packaged_model_dir):
    from studio.models.loading import load_model, load_tokenizer

    tok = load_tokenizer("scratch:tiny-gpt", settings)
    model = load_model(
        "scratch:tiny-gpt", settings, model_cfg={"architecture": {"num_hidden_layers": 1}}
    )
    assert model.config.vocab_size == len(tok) and model.config.num_hidden_layers == 1


@pytest.mark.parametrize("ref", ["gpt2", "t5-small", "distilgpt2", "EleutherAI/gpt-neo-125m"])
def test_bare_and_owner_hub_ids_are_accepted(settings, ref):
    from studio.models.resolve import is_hub_id

    assert is_hub_id(ref)
    ok, reason = model_availability(ref, settings)
    if not ok:  # not cached here: the download advice, not "not a model id"
        assert "neither a folder" not in reason and ref in reason
        with pytest.raises(ModelUnavailableError) as refused:
            resolve_model_path(ref, settings)  # HF_HUB_OFFLINE=1 in tests
        assert "neither a folder" not in str(refused.value) and ref in str(refused.value)


@pytest.mark.parametrize("ref", ["not a model id!", "a/b/c", "-rf", ".hidden", "gpt2/", "x" * 97])
def test_malformed_hub_ids_are_refused_with_an_example(settings, ref):
    ok, reason = model_availability(ref, settings)
    assert not ok and "neither a folder" in reason and "gpt2" in reason


# -- the conversion lock: a tiny stand-in replaces the ~30 s GGUF conversion ------------------
_CONVERTER = """
import os, pathlib, sys, time
import studio.models.resolve as r
from studio.settings import Settings
gguf, home = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
log, pause = sys.argv[3], float(sys.argv[4])
r.packaged_gguf_path = lambda: gguf
def convert(_gguf, out):
    with open(log, "a") as f:
        f.write(f"{os.getpid()}\\n")
    time.sleep(pause)
    out.mkdir(parents=True)
    (out / "config.json").write_text("{}")
r._convert_gguf = convert
print(r.ensure_packaged_model(Settings.from_env(home=home, models_root=home / "models")))
"""


def _lock_setup(tmp_path, monkeypatch):
    """Settings with an empty models dir, a fake GGUF, and a stand-in converter that counts."""
    import studio.models.resolve as resolve

    gguf = tmp_path / "fake.gguf"
    gguf.write_bytes(b"GGUF")
    calls = []

    def convert(_gguf, out):
        calls.append(out)
        out.mkdir(parents=True)
        (out / "config.json").write_text("{}")

    monkeypatch.setattr(resolve, "packaged_gguf_path", lambda: gguf)
    monkeypatch.setattr(resolve, "_convert_gguf", convert)
    s = Settings.from_env(home=tmp_path, models_root=tmp_path / "models")
    s.models_dir.mkdir(parents=True, exist_ok=True)
    lock = s.models_dir / "SmolLM2-135M-Instruct.lock"
    return s, lock, calls, gguf


def _dead_pid() -> int:
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


@pytest.mark.parametrize("holder", ["dead pid", "old lock without a pid"])
def test_a_stale_lock_is_taken_over_at_once(tmp_path, monkeypatch, holder):
    import json
    import socket
    import time

    s, lock, calls, _ = _lock_setup(tmp_path, monkeypatch)
    if holder == "dead pid":
        lock.write_text(
            json.dumps(
                {"pid": _dead_pid(), "started": time.time() - 5, "host": socket.gethostname()}
            )
        )
    else:
        lock.write_text("")  # what earlier studios wrote; left by a killed start an hour ago
        os.utime(lock, (time.time() - 3600, time.time() - 3600))
    start = time.monotonic()
    target = ensure_packaged_model(s)
    assert time.monotonic() - start < 5, "waited on a lock whose holder is gone"
    assert (target / "config.json").is_file() and len(calls) == 1
    assert not lock.exists()


def test_a_live_holders_lock_is_waited_for_and_never_removed(tmp_path, monkeypatch):
    import json
    import socket
    import subprocess
    import sys
    import threading

    import psutil

    s, lock, calls, _ = _lock_setup(tmp_path, monkeypatch)
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        started = psutil.Process(holder.pid).create_time()
        text = json.dumps({"pid": holder.pid, "started": started, "host": socket.gethostname()})
        lock.write_text(text)
        target = s.models_dir / "SmolLM2-135M-Instruct"

        def holder_finishes():
            target.mkdir()
            (target / "config.json").write_text("{}")

        timer = threading.Timer(0.6, holder_finishes)
        timer.start()
        assert ensure_packaged_model(s) == target
        timer.join()
        assert calls == [] and lock.read_text() == text  # it was never ours to remove
    finally:
        holder.kill()
        holder.wait()


def test_a_start_killed_while_converting_does_not_hold_up_the_next(tmp_path, monkeypatch):
    import signal
    import subprocess
    import sys
    import time

    s, lock, calls, gguf = _lock_setup(tmp_path, monkeypatch)
    log = tmp_path / "conversions.log"
    cmd = [sys.executable, "-c", _CONVERTER, str(gguf), str(tmp_path), str(log), "60"]
    killed = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 30
        while not log.exists() and time.time() < deadline:
            time.sleep(0.05)
        assert log.exists() and lock.exists(), (
            killed.stderr.read1().decode() if killed.poll() else ""
        )
    finally:
        killed.send_signal(signal.SIGKILL)
        killed.wait()
    start = time.monotonic()
    target = ensure_packaged_model(s)
    assert time.monotonic() - start < 5 and len(calls) == 1
    assert (target / "config.json").is_file() and not lock.exists()


def test_two_processes_starting_at_once_convert_once(tmp_path, monkeypatch):
    import subprocess
    import sys

    s, lock, _calls, gguf = _lock_setup(tmp_path, monkeypatch)
    log = tmp_path / "conversions.log"
    cmd = [sys.executable, "-c", _CONVERTER, str(gguf), str(tmp_path), str(log), "1.5"]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=60)[0].strip() for p in procs]
    target = str(s.models_dir / "SmolLM2-135M-Instruct")
    assert [p.returncode for p in procs] == [0, 0] and outs == [target, target]
    assert len(log.read_text().split()) == 1, "both processes converted"
    assert not lock.exists() and not list(s.models_dir.glob(".*tmp*"))
