"""Build a "finished training run" for generation tests: tiny Llama + a LoRA adapter whose
lora_B weights are perturbed (so the tuned model answers differently from its base), saved
as RUN_DIR/adapter/ with the tokenizer and studio.json, plus a succeeded job row."""

from __future__ import annotations

import json
from pathlib import Path


def build_run_dir(run_dir: Path, base_dir: Path, scale: float = 0.5) -> Path:
    """RUN_DIR with adapter/ as a finished train job leaves it (built once per session)."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    adapter = run_dir / "adapter"
    if (adapter / "studio.json").is_file():
        return run_dir
    torch.manual_seed(1)
    base = AutoModelForCausalLM.from_pretrained(base_dir)
    config = LoraConfig(
        r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], task_type="CAUSAL_LM"
    )
    model = get_peft_model(base, config)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if "lora_B" in name:
                param.normal_(0, scale)
    model.save_pretrained(adapter)
    AutoTokenizer.from_pretrained(base_dir).save_pretrained(adapter)
    meta = {
        "base_model": str(base_dir),
        "model_type": "causal",
        "method": "lora",
        "prompt_format": "sections",
        "max_length": 128,
        "template": "custom",
        "job_id": "tuned",
    }
    (adapter / "studio.json").write_text(json.dumps(meta))
    return run_dir


def add_succeeded_job(store, run_dir: Path, app_name: str = "gen-app") -> tuple[str, str]:
    """(app_id, job_id) of a succeeded train job row pointing at run_dir."""
    app = store.create_app(app_name)
    job = store.create_job(app["id"], None, "train", params={}, run_dir=str(run_dir))
    store.update_job(job["id"], status="succeeded", run_dir=str(run_dir))
    return app["id"], job["id"]
