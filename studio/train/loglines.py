"""train.log lines a person reads: what the Trainer's log dicts say, in words.

transformers prints each log as a raw dict ({'loss': '7.518', 'grad_norm': '2.257', ...});
the studio drops that printer (studio.train.extras) and writes one line per training log,
evaluation and end of training instead:

    step 12 / 25 (1.06 epochs): loss 7.518 · learning rate 2.92e-04 · grad norm 2.26 · 98 tokens/s · about 0m12s left
    evaluation at step 25: eval loss 7.761 · perplexity 2347 · accuracy 0.542 on 24 rows · 0.65 s
    training done: 25 steps in 36.9 s, mean loss 8.850
"""

from __future__ import annotations

import math
from typing import Any


def _num(x: Any, digits: int = 4) -> str:
    try:
        x = float(x)
    except (TypeError, ValueError):
        return str(x)
    if math.isinf(x):
        return "∞"
    return f"{x:,.0f}" if abs(x) >= 10**digits else f"{x:.{digits}g}"


def _left(seconds: Any) -> str:
    try:
        s = int(max(0.0, float(seconds)))
    except (TypeError, ValueError):
        return ""
    h, rest = divmod(s, 3600)
    return f"about {h}h{rest // 60:02d}m left" if h else f"about {rest // 60}m{rest % 60:02d}s left"


def train_line(record: dict[str, Any], logs: dict[str, Any]) -> str:
    """One training log: step, epochs, loss, learning rate, grad norm, speed, time left."""
    parts = [f"loss {_num(record.get('loss'))}"]
    if "learning_rate" in logs:
        parts.append(f"learning rate {float(logs['learning_rate']):.3g}")
    if "grad_norm" in logs:
        parts.append(f"grad norm {_num(logs['grad_norm'], 3)}")
    if record.get("tokens_per_s") is not None:
        parts.append(f"{float(record['tokens_per_s']):,.0f} tokens/s")
    if record.get("eta_s") is not None:
        parts.append(_left(record["eta_s"]))
    head = f"step {record.get('step')} / {record.get('total_steps')}"
    if record.get("epoch") is not None:
        head += f" ({float(record['epoch']):.2f} epochs)"
    return f"{head}: " + " · ".join(parts)


def eval_line(record: dict[str, Any], logs: dict[str, Any]) -> str:
    """One evaluation: eval loss, perplexity, accuracy and its rows, duration."""
    parts = [f"eval loss {_num(record.get('eval_loss'))}"]
    parts.append(f"perplexity {_num(record.get('perplexity'))}")
    if record.get("accuracy") is not None:
        rows = record.get("accuracy_rows")
        parts.append(f"accuracy {record['accuracy']:.3f}" + (f" on {rows} rows" if rows else ""))
    if "eval_runtime" in logs:
        parts.append(f"{_num(logs['eval_runtime'], 3)} s")
    return f"evaluation at step {record.get('step')}: " + " · ".join(parts)


def end_line(step: int, logs: dict[str, Any]) -> str:
    """The Trainer's closing log: steps, time, mean loss."""
    text = f"training done: {step} steps"
    if "train_runtime" in logs:
        text += f" in {_num(logs['train_runtime'], 4)} s"
    if "train_loss" in logs:
        text += f", mean loss {_num(logs['train_loss'])}"
    return text
