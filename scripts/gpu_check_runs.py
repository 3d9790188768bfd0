"""The GPU check's pieces: its data, its run configs, its tiny models, Generate's fast path
once ready, the header line, the plain baseline.

    python -m scripts.gpu_check_runs plain RUN_DIR/config.json OUT_DIR   # the baseline alone

The plain baseline trains what a run config describes with transformers' Trainer and PEFT
as a tutorial would (the same model, LoRA settings, rows, batch and steps; padded batches in
order, the loss over every position the labels keep) and prints its seconds per step.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

INSTRUCTION = "Classify the sentiment of this financial news sentence."
_SENTENCES = [
    ("Operating profit rose sharply compared with the previous year.", "positive"),
    ("The company cut its full-year outlook after weak orders.", "negative"),
    ("The annual general meeting will be held in Helsinki in March.", "neutral"),
    ("Net sales increased by 12 percent to a record level.", "positive"),
    ("The group reported a loss and announced layoffs.", "negative"),
    ("The report covers the period from January to June.", "neutral"),
    ("Shares jumped after the merger was approved.", "positive"),
    ("Demand fell and the plant will close next year.", "negative"),
]
# (instruction, input, output): every row shares its instruction, so batches share a prefix.
DATA_ROWS = [(INSTRUCTION, s, label) for s, label in _SENTENCES * 8]
FAST_BUILD_WAIT_S = 900  # the fast copy's conversion, at most
ALL_LINEAR = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def write_data(folder: Path) -> None:
    """train.jsonl and valid.jsonl in the studio's example format."""
    from studio.vocab.examples import Example

    folder.mkdir(parents=True, exist_ok=True)
    rows = [Example(instruction=i, input=x, output=y) for i, x, y in DATA_ROWS]
    for name, part in (("train", rows[:-8]), ("valid", rows[-8:])):
        (folder / f"{name}.jsonl").write_text("".join(json.dumps(e.to_dict()) + "\n" for e in part))


def run_config(path: str, base: str, data: Path, settings, cpu: bool, steps: int) -> dict:
    """The TrainRun dict of one check path (bf16 on a GPU, fp32 in the CPU dry run)."""
    from studio.configs.runs import TrainRun

    bf16 = not cpu
    dtype = "bfloat16" if bf16 else "float32"
    quant = {}
    if path.startswith("qlora"):
        quant = {
            "load_in_4bit": True,
            "bnb_4bit_quant_type": "nf4",
            "bnb_4bit_compute_dtype": dtype,
            "bnb_4bit_use_double_quant": True,
        }
    trainer = {
        "max_steps": steps,
        "per_device_train_batch_size": 4 if cpu else 8,
        "learning_rate": 2e-4,
        "bf16": bf16,
        "activation_checkpointing": path == "prefix-ckpt-on",
        "eval_strategy": "no",
        "save_strategy": "no",
        "logging_steps": 1,
        "report_to": "none",
        "optim": "adamw_torch",
        "seed": 7,
    }
    n = len(DATA_ROWS)
    # from_dict checks the config as the training process will (ConfigError naming each key).
    run = {
        "model_type": "causal",
        "method": "qlora" if quant else "lora",
        "base_model": base,
        "template": "gpu-check",
        "model": {"dtype": dtype},
        "quantization": quant,
        "peft": {"r": 8, "lora_alpha": 16, "lora_dropout": 0.0, "target_modules": ALL_LINEAR},
        "tokenizer": {"max_length": 64 if cpu else 128, "prompt_format": "sections"},
        "trainer": trainer,
        # The studio's own options: the shared prompt prefix asked for on every path.
        "studio": {"share_prefix": True, "response_only": True, "valid_pct": 12.5},
        "data": {
            "version_id": "gpu-check",
            "train": str(data / "train.jsonl"),
            "valid": str(data / "valid.jsonl"),
            "n_rows": n,
            "n_rejected": 0,
            "valid_pct": 12.5,
            "seed": 42,
        },
        "studio_home": str(settings.home),
        "models_dir": str(settings.models_dir),
    }
    return TrainRun.from_dict(run).to_dict()


def tiny_model(arch: str, settings) -> Path:
    """A small random Llama or Mistral with the packaged SmolLM2 tokenizer (built once)."""
    out = settings.models_dir / f"gpu-check-tiny-{arch}"
    if (out / "config.json").is_file():
        return out
    import torch
    import transformers as tf

    from studio.models.loading import load_tokenizer
    from studio.models.resolve import PACKAGED_REF

    tok = load_tokenizer(PACKAGED_REF, settings)
    shape = dict(
        vocab_size=len(tok),
        hidden_size=256,
        intermediate_size=512,
        num_hidden_layers=4,
        num_attention_heads=8,
        num_key_value_heads=4,
        max_position_embeddings=1024,
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
    )
    config = tf.MistralConfig(**shape) if arch == "mistral" else tf.LlamaConfig(**shape)
    torch.manual_seed(0)
    tf.AutoModelForCausalLM.from_config(config).save_pretrained(out)
    tok.save_pretrained(out)
    return out


def fast_answer(engine, ref: str, prompt, options):
    """Generate's fast path for `ref`. On a CPU that is ONNX Runtime GenAI on a copy the
    studio converts in the background: wait for it, then ask (an exact answer is an error).
    On a GPU the exact model on the GPU is the fast path."""
    spec = engine.spec(ref)
    entry, _ = engine.load(spec)
    on_cpu = entry.model.device.type == "cpu"
    if on_cpu:
        from studio.models.resolve import resolve_model_path

        source = spec.full_dir or resolve_model_path(spec.base_ref, engine.settings)
        state = engine.serving.builds.state(spec.ref, str(source), spec.adapter_dir)
        deadline = time.monotonic() + FAST_BUILD_WAIT_S
        while not (state.ready or state.failed) and time.monotonic() < deadline:
            time.sleep(1)
        if not state.ready:
            raise RuntimeError(f"the fast copy is not ready: {state.progress()}")
    result = engine.generate(ref, prompt, options)
    if on_cpu and not result.engine.startswith("fast"):
        raise RuntimeError(f"{result.engine} answered the fast request: {result.note}")
    return result


def header(cpu: bool) -> str:
    """The check's first line: the GPU (or that this is the CPU dry run) and the versions."""
    import bitsandbytes
    import torch
    import transformers

    versions = (
        f"torch {torch.__version__}, transformers {transformers.__version__}, "
        f"bitsandbytes {bitsandbytes.__version__}"
    )
    if cpu:
        return (
            "DRY RUN on the CPU (--cpu): tiny sizes, fp32 where the GPU paths use bf16. It "
            f"proves the script runs end to end, not the GPU paths ({versions})."
        )
    name = torch.cuda.get_device_name(0)
    return f"GPU check on {name}, CUDA {torch.version.cuda} ({versions})"


def plain_trainer_steps(config_path: Path, out: Path) -> float:
    """Seconds per step of the plain Trainer + PEFT baseline (in a fresh process)."""
    proc = subprocess.run(
        [sys.executable, "-m", "scripts.gpu_check_runs", "plain", str(config_path), str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
        timeout=900,
    )
    lines = [x for x in proc.stdout.splitlines() if x.startswith("PLAIN ")]
    if proc.returncode or not lines:
        raise RuntimeError((proc.stderr or proc.stdout).strip().splitlines()[-1:])
    return float(json.loads(lines[-1][6:])["step_s"])


def _plain(config_path: Path, out: Path) -> None:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import DataCollatorForSeq2Seq, Trainer, TrainerCallback, TrainingArguments

    from studio.jobs.child import size_threads
    from studio.models.loading import load_model, load_tokenizer
    from studio.scoring.encode import encode
    from studio.settings import Settings
    from studio.vocab.examples import Example

    size_threads()  # the threads a studio training job gets: the same CPU for both sides
    cfg = json.loads(config_path.read_text())
    settings = Settings.from_env(home=Path(cfg["studio_home"]), models_root=Path(cfg["models_dir"]))
    tok = load_tokenizer(cfg["base_model"], settings, cfg["tokenizer"])
    model = load_model(cfg["base_model"], settings, "causal", cfg["model"], cfg["quantization"])
    model = get_peft_model(model, LoraConfig(task_type="CAUSAL_LM", **cfg["peft"]))
    lines = Path(cfg["data"]["train"]).read_text().splitlines()
    rows = [encode(Example.from_dict(json.loads(x)), tok, cfg["tokenizer"]) for x in lines]
    t = cfg["trainer"]
    args = TrainingArguments(
        output_dir=str(out),
        max_steps=t["max_steps"],
        per_device_train_batch_size=t["per_device_train_batch_size"],
        learning_rate=t["learning_rate"],
        bf16=t["bf16"],
        logging_steps=1,
        save_strategy="no",
        report_to="none",
        optim="adamw_torch",
        seed=t["seed"],
    )
    times: list[float] = []

    class Clock(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            if torch.cuda.is_available():
                torch.cuda.synchronize()
            times.append(time.perf_counter())

    trainer = Trainer(
        model=model,
        args=args,
        train_dataset=rows,
        data_collator=DataCollatorForSeq2Seq(tok, padding=True, label_pad_token_id=-100),
        callbacks=[Clock()],
    )
    trainer.train()
    print("PLAIN " + json.dumps({"step_s": (times[-1] - times[0]) / max(1, len(times) - 1)}))


if __name__ == "__main__":
    if sys.argv[1:2] == ["plain"]:
        from studio.models.hf import hf_ready

        hf_ready()
        _plain(Path(sys.argv[2]), Path(sys.argv[3]))
