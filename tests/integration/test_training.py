"""The real training entry point (`python -m studio.train RUN_DIR`) on tiny models.

Checks what a user relies on: the loss is finite and falls, perplexity is reported, the
adapter's weights changed and reload into a model that generates, a stop request leaves a
saved adapter and a resume lands on exactly the weights of an uninterrupted run, and
failures end with a one-line reason in status.json.
"""

from __future__ import annotations

import json
import math
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from studio.settings import PROJECT_ROOT
from studio.vocab.examples import STYLE_INPUT_RESPONSE, Example
from tests.support.examples import write_jsonl
from tests.support.runs import run_config, write_run


def _start(run_dir: Path, *extra: str) -> subprocess.Popen:
    log = (run_dir / "train.log").open("ab")
    return subprocess.Popen(
        [sys.executable, "-m", "studio.train", str(run_dir), *extra],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=PROJECT_ROOT,
    )


def _finish(proc: subprocess.Popen, run_dir: Path, timeout: int = 180) -> dict:
    proc.wait(timeout=timeout)
    status = run_dir / "status.json"
    assert status.is_file(), (run_dir / "train.log").read_text()[-3000:]
    return json.loads(status.read_text())


def _train(run_dir: Path, *extra: str) -> dict:
    return _finish(_start(run_dir, *extra), run_dir)


def _metrics(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


def _weights(run_dir: Path) -> dict:
    from safetensors.torch import load_file

    return load_file(run_dir / "adapter" / "adapter_model.safetensors")


def test_lora_run_learns_saves_and_reloads(tmp_path, settings, tiny_causal_dir):
    run = write_run(tmp_path / "run", run_config(tiny_causal_dir, tmp_path / "data", settings))
    status = _train(run)
    assert status["status"] == "succeeded", status
    train = [m for m in _metrics(run) if m["type"] == "train"]
    evals = [m for m in _metrics(run) if m["type"] == "eval"]
    assert len(train) >= 4 and all(math.isfinite(m["loss"]) for m in train)
    assert train[-1]["loss"] < train[0]["loss"]
    assert train[-1]["step"] == train[-1]["total_steps"] == status["summary"]["steps"] == 12
    assert all(m["tokens_per_s"] > 0 and m["memory_mb"] > 0 for m in train)
    assert evals and evals[-1]["perplexity"] == pytest.approx(math.exp(evals[-1]["eval_loss"]))
    summary = status["summary"]
    assert summary["perplexity"] == pytest.approx(math.exp(summary["eval_loss"]))
    assert 0 < summary["trainable_params"] < summary["total_params"]
    # Only the last two checkpoints are kept.
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == [
        "checkpoint-12",
        "checkpoint-8",
    ]

    adapter = run / "adapter"
    meta = json.loads((adapter / "studio.json").read_text())
    assert meta["base_model"] == str(tiny_causal_dir) and meta["method"] == "lora"
    assert not (adapter / "training_args.bin").exists()
    # LoRA B matrices start at zero: training must have moved them.
    b_weights = [v for k, v in _weights(run).items() if "lora_B" in k]
    assert b_weights and all(float(w.abs().max()) > 0 for w in b_weights)

    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    base = AutoModelForCausalLM.from_pretrained(tiny_causal_dir)
    model = PeftModel.from_pretrained(base, adapter).eval()
    tok = AutoTokenizer.from_pretrained(adapter)
    ids = tok("### Instruction: Classify. ### Human: good ### Assistant:", return_tensors="pt")
    with torch.no_grad():
        out = model.generate(
            **ids, max_new_tokens=4, do_sample=False, pad_token_id=tok.eos_token_id
        )
    assert out.shape[1] > ids["input_ids"].shape[1]


def test_stop_then_resume_matches_uninterrupted_run(tmp_path, settings, tiny_causal_dir):
    cfg = run_config(tiny_causal_dir, tmp_path / "data", settings)
    straight = write_run(tmp_path / "straight", cfg)
    # Stop in the second epoch, after the step-8 checkpoint and before the end.
    stopped = write_run(tmp_path / "stopped", {**cfg, "debug": {"stop_after_step": 10}})
    procs = [(_start(straight), straight), (_start(stopped), stopped)]
    results = [_finish(p, r) for p, r in procs]
    assert results[0]["status"] == "succeeded"
    assert results[1]["status"] == "cancelled" and "step 10" in results[1]["reason"]
    assert (stopped / "adapter" / "adapter_model.safetensors").is_file()
    assert (stopped / "checkpoints" / "checkpoint-10" / "trainer_state.json").is_file()

    resumed = _train(stopped, "--resume")
    assert (
        resumed["status"] == "succeeded" and resumed["summary"]["resumed_from"] == "checkpoint-10"
    )
    a, b = _weights(straight), _weights(stopped)
    assert a.keys() == b.keys()
    for key in a:
        assert float((a[key] - b[key]).abs().max()) < 1e-6, key
    assert resumed["summary"]["train_loss"] == pytest.approx(results[0]["summary"]["train_loss"])


def _wait_for_a_train_step(proc: subprocess.Popen, run_dir: Path, timeout: float = 120) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline and proc.poll() is None:
        metrics = run_dir / "metrics.jsonl"
        if metrics.is_file() and '"type": "train"' in metrics.read_text():
            return
        time.sleep(0.2)
    raise AssertionError((run_dir / "train.log").read_text()[-3000:])


def test_sigterm_and_ctrl_c_stop_with_a_checkpoint_and_the_adapter(
    tmp_path, settings, tiny_causal_dir
):
    # Checkpoints every 1000 steps: the only one can come from the stop itself.
    cfg = run_config(
        tiny_causal_dir,
        tmp_path / "data",
        settings,
        trainer={
            "max_steps": 1000,
            "logging_steps": 1,
            "save_strategy": "steps",
            "save_steps": 1000,
            "eval_strategy": "no",
        },
    )
    runs = {sig: write_run(tmp_path / sig.name, cfg) for sig in (signal.SIGTERM, signal.SIGINT)}
    procs = {sig: _start(run) for sig, run in runs.items()}
    for sig, proc in procs.items():
        _wait_for_a_train_step(proc, runs[sig])
        proc.send_signal(sig)
    for sig, proc in procs.items():
        run = runs[sig]
        status = _finish(proc, run)
        assert proc.returncode == 0
        assert status["status"] == "cancelled", (sig, status)
        step = status["summary"]["steps"]
        assert (
            1 <= step < 1000 and f"step {step}" in status["reason"] and "Resume" in status["reason"]
        )
        assert (run / "checkpoints" / f"checkpoint-{step}" / "trainer_state.json").is_file()
        assert (run / "adapter" / "adapter_model.safetensors").is_file()
        assert "Stop requested" in (run / "train.log").read_text()


def test_seq2seq_lora_trains(tmp_path, settings, tiny_seq2seq_dir):
    cfg = run_config(
        tiny_seq2seq_dir,
        tmp_path / "data",
        settings,
        model_type="seq2seq",
        peft={"target_modules": ["q", "v"], "task_type": "SEQ_2_SEQ_LM"},
        trainer={"num_train_epochs": 1, "save_strategy": "epoch"},
    )
    run = write_run(tmp_path / "run", cfg)
    status = _train(run)
    assert status["status"] == "succeeded", status
    losses = [m["loss"] for m in _metrics(run) if m["type"] == "train"]
    assert losses and all(math.isfinite(x) for x in losses)
    assert (run / "adapter" / "adapter_config.json").is_file()


def test_failures_end_with_a_reason(tmp_path, settings, tiny_causal_dir):
    bad_data = write_run(
        tmp_path / "bad",
        run_config(
            tiny_causal_dir,
            tmp_path / "d1",
            settings,
            data={"n_rows": 100, "n_rejected": 25},
            studio={"invalid_tolerance_pct": 10.0},
        ),
    )
    missing = write_run(
        tmp_path / "missing", run_config(tmp_path / "no-such-model", tmp_path / "d3", settings)
    )
    procs = [(_start(r), r) for r in (bad_data, missing)]
    bad, miss = (_finish(p, r) for p, r in procs)
    assert bad["status"] == "failed"
    assert (
        bad["reason"].startswith("25.0% of the rows of ")
        and "(25 of 100), over the 10% tolerance" in bad["reason"]
    )
    assert miss["status"] == "failed" and "no-such-model" in miss["reason"]
    assert "Traceback" in (missing / "train.log").read_text()  # the details go to the log


def _sample_examples() -> list[Example]:
    """The packaged question-answering sample, split into instruction and response."""
    out = []
    path = PROJECT_ROOT / "sample_data" / "question_answering.jsonl"
    for line in path.read_text().splitlines():
        text = json.loads(line)["text"]
        m = re.search(r"### Instruction:(.*?)### Response:(.*)", text, re.S)
        out.append(
            Example(
                instruction=m.group(1).strip(),
                output=m.group(2).strip(),
                preamble=text[: m.start()].strip(),
                style=STYLE_INPUT_RESPONSE,
            )
        )
    return out


@pytest.mark.slow
def test_smollm2_fine_tunes_on_sample_data(tmp_path, settings, packaged_model_dir):
    examples = _sample_examples()
    assert len(examples) >= 40
    cfg = run_config(
        packaged_model_dir,
        tmp_path / "data",
        settings,
        tokenizer={"max_length": 96},
        trainer={
            "max_steps": 6,
            "per_device_train_batch_size": 4,
            "logging_steps": 1,
            "learning_rate": 1e-3,
            "eval_strategy": "no",
            "save_strategy": "no",
        },
    )
    write_jsonl(Path(cfg["data"]["train"]), examples[:36])
    write_jsonl(Path(cfg["data"]["valid"]), examples[36:40])
    cfg["data"].update(n_rows=40)
    run = write_run(tmp_path / "run", cfg)
    status = _train(run)
    assert status["status"] == "succeeded", status
    losses = [m["loss"] for m in _metrics(run) if m["type"] == "train"]
    assert len(losses) == 6 and all(math.isfinite(x) for x in losses)
    assert min(losses[-2:]) < max(losses[:2])
    assert math.isfinite(status["summary"]["perplexity"])  # the final evaluation ran
