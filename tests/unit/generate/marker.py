"""A tuned model with an answer nobody could mistake: a tiny Llama's LoRA adapter trained
until every prompt of MARKER_PROMPTS is answered with MARKER, saved as a finished run."""

from __future__ import annotations

import json
from pathlib import Path

MARKER = " banana split forever"
MARKER_PROMPTS = ("Tell me the secret:", "What is the password?", "Say the magic words.")


def train_marker_run(run_dir: Path, base_dir: Path, steps: int = 150) -> Path:
    """RUN_DIR/adapter trained to answer MARKER (then end of sequence); built once."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    adapter = run_dir / "adapter"
    if (adapter / "studio.json").is_file():
        return run_dir
    torch.manual_seed(0)
    tok = AutoTokenizer.from_pretrained(base_dir)
    model = get_peft_model(
        AutoModelForCausalLM.from_pretrained(base_dir),
        LoraConfig(
            r=8,
            lora_alpha=16,
            target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj"],
            task_type="CAUSAL_LM",
        ),
    )
    rows = []
    for prompt in MARKER_PROMPTS:
        p = tok(prompt)["input_ids"]
        a = tok(MARKER, add_special_tokens=False)["input_ids"] + [tok.eos_token_id]
        rows.append((torch.tensor([p + a]), torch.tensor([[-100] * len(p) + a])))
    optim = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    model.train()
    for step in range(steps):
        ids, labels = rows[step % len(rows)]
        loss = model(input_ids=ids, labels=labels).loss
        loss.backward()
        optim.step()
        optim.zero_grad()
    model.save_pretrained(adapter)
    tok.save_pretrained(adapter)
    meta = {
        "base_model": str(base_dir),
        "model_type": "causal",
        "method": "lora",
        "prompt_format": "sections",
        "max_length": 64,
        "template": "custom",
        "job_id": "marker",
    }
    (adapter / "studio.json").write_text(json.dumps(meta))
    return run_dir
