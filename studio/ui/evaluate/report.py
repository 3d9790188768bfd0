"""Turn results.json into what the page shows: tables, a confusion heat map, ROC curve points.

Pure functions over plain dicts (pandas only, no torch, no gradio) so the UI stays thin.
"""

from __future__ import annotations

import html
import math
from typing import Any

import pandas as pd

from studio.evaluate.batch import CSV_COLUMNS


def _num(x: Any, digits: int = 4) -> str:
    if x is None:
        return "–"
    if isinstance(x, float):
        if math.isinf(x):
            return "∞"
        if math.isnan(x):
            return "–"
        return f"{x:.{digits}g}"
    return str(x)


def summary_markdown(results: dict[str, Any]) -> str:
    """Perplexity / cross-entropy, accuracy and text metrics, tuned beside base."""
    variants = ["tuned"] + (["base"] if results.get("has_base") else [])
    rows: list[tuple[str, list[str]]] = []
    ppl = results.get("perplexity") or {}
    if ppl:
        rows.append(
            (
                "Perplexity (answer tokens)",
                [_num(ppl.get(v, {}).get("perplexity")) for v in variants],
            )
        )
        rows.append(
            (
                "Cross-entropy (nats/token)",
                [_num(ppl.get(v, {}).get("cross_entropy")) for v in variants],
            )
        )
    cls = results.get("classification") or {}
    base_line = majority_baseline(cls.get("tuned") or {})
    if cls:
        rows.append(("Accuracy", [_num(cls.get(v, {}).get("accuracy")) for v in variants]))
        if base_line:
            label, share = base_line
            name = f"Majority-class baseline (always “{label}”)"
            rows.append((name, [_num(share)] * len(variants)))
        rows.append(("Macro F1", [_num(cls.get(v, {}).get("macro_f1")) for v in variants]))
    text = results.get("text") or {}
    if text:
        for key, name in (
            ("rougeL", "ROUGE-L"),
            ("rouge1", "ROUGE-1"),
            ("bleu", "BLEU (0-100)"),
            ("exact_match", "Exact match"),
        ):
            rows.append((name, [_num(text.get(v, {}).get(key)) for v in variants]))
    head = f"**{results.get('n_examples', 0)} examples** from the {results.get('split', '?')} split"
    if not rows:
        return head + ": no metrics computed."
    lines = [
        head,
        "",
        "| metric | " + " | ".join(variants) + " |",
        "|---|" + "---|" * len(variants),
    ]
    lines += [f"| {name} | " + " | ".join(vals) + " |" for name, vals in rows]
    warnings = classification_warnings(cls.get("tuned") or {})
    for warning in warnings:  # one quote block each, so they read as two points
        lines += ["", f"> ⚠️ **{warning}**"]
    return "\n".join(lines)


def majority_baseline(cls: dict[str, Any]) -> tuple[str, float] | None:
    """(most common true label, its share): the accuracy of always answering that label."""
    rows = [r for r in cls.get("per_label") or [] if r.get("support")]
    total = sum(int(r["support"]) for r in rows)
    if not rows or not total:
        return None
    top = max(rows, key=lambda r: int(r["support"]))
    return str(top["label"]), int(top["support"]) / total


def classification_warnings(cls: dict[str, Any]) -> list[str]:
    """Plain warnings when a classifier only looks successful: it answers one label only, or
    it is no more accurate than always answering the most common label."""
    out: list[str] = []
    predicted = sorted(set(cls.get("predictions") or []))
    if len(predicted) == 1 and len(cls.get("labels") or []) > 1:
        out.append(
            f"The model answers “{predicted[0]}” for every example: it has not learned to tell "
            "the labels apart. Train longer (more steps or epochs), check the instruction names "
            "the labels, or balance the data."
        )
    elif len(predicted) > 1:
        out += never_answered(cls, set(predicted))
    base = majority_baseline(cls)
    accuracy = cls.get("accuracy")
    if base and isinstance(accuracy, (int, float)) and accuracy <= base[1] + 1e-9:
        out.append(
            f"Accuracy {accuracy:.2f} is no better than always answering “{base[0]}” "
            f"({base[1]:.2f}): the model adds nothing over the majority class yet."
        )
    n = int(cls.get("n") or 0)
    if 0 < n < FEW_EXAMPLES and isinstance(accuracy, (int, float)):
        low, high = wilson_interval(accuracy, n)
        out.append(
            f"Only {n} examples: accuracy {accuracy:.2f} could as well be anywhere from "
            f"{low:.2f} to {high:.2f} (95% interval), and one example moves it by {1 / n:.2f}. "
            "Evaluate on more rows (a larger validation share, or upload a test set)."
        )
    return out


FEW_EXAMPLES = 30  # under this, an accuracy says little: the page says how little


def wilson_interval(p: float, n: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval of a proportion `p` measured on `n` examples (it stays
    inside 0..1 and is not empty at p = 0 or 1, unlike p ± z·se)."""
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def never_answered(cls: dict[str, Any], predicted: set[str]) -> list[str]:
    """A warning per label that occurs but that the model never answers (recall 0), saying
    when its probabilities still rank that label's examples first (a high AUC)."""
    out = []
    for row in cls.get("per_label") or []:
        label = str(row.get("label"))
        if not row.get("support") or label in predicted:
            continue
        auc = row.get("auc")
        ranked = (
            f" Its probabilities still rank the “{label}” examples above the others (AUC "
            f"{auc:.2f}): the model leans to other labels, so more training or a balanced "
            "set should bring it out."
            if isinstance(auc, (int, float)) and auc >= 0.8
            else ""
        )
        out.append(
            f"The model never answers “{label}” (recall 0 on its {row['support']} "
            f"examples).{ranked}"
        )
    return out


def per_label_frame(results: dict[str, Any], variant: str = "tuned") -> pd.DataFrame:
    cls = (results.get("classification") or {}).get(variant) or {}
    rows = [
        {
            "label": r["label"],
            "precision": round(r["precision"], 4),
            "recall": round(r["recall"], 4),
            "f1": round(r["f1"], 4),
            "support": r["support"],
            "auc": None if r["auc"] is None else round(r["auc"], 4),
        }
        for r in cls.get("per_label", [])
    ]
    return pd.DataFrame(rows, columns=["label", "precision", "recall", "f1", "support", "auc"])


def confusion_html(results: dict[str, Any], variant: str = "tuned") -> str:
    """The confusion matrix as a shaded table (rows = true label, columns = predicted)."""
    cls = (results.get("classification") or {}).get(variant) or {}
    labels, matrix = cls.get("labels") or [], cls.get("confusion") or []
    if not labels:
        return ""
    top = max((max(r) for r in matrix if r), default=0) or 1
    esc = [html.escape(lb) for lb in labels]
    head = "".join(f"<th>{lb}</th>" for lb in esc)
    body = ""
    for lb, row in zip(esc, matrix, strict=False):
        cells = "".join(
            f'<td style="background:rgba(99,102,241,{0.1 + 0.8 * v / top:.2f});'
            f'text-align:center;padding:4px 10px">{v}</td>'
            for v in row
        )
        body += f"<tr><th>{lb}</th>{cells}</tr>"
    return (
        f'<table class="confusion"><caption>Confusion matrix ({variant}): rows = true, '
        f"columns = predicted</caption><tr><th></th>{head}</tr>{body}</table>"
    )


def roc_frame(results: dict[str, Any], variant: str = "tuned") -> pd.DataFrame:
    """Long-form ROC points (fpr, tpr, curve) for a line plot; one curve per label."""
    cls = (results.get("classification") or {}).get(variant) or {}
    rows = []
    for label, curve in (cls.get("roc") or {}).items():
        name = f"{label} (AUC {curve['auc']:.3f})"
        rows += [
            {"fpr": f, "tpr": t, "curve": name}
            for f, t in zip(curve["fpr"], curve["tpr"], strict=True)
        ]
    return pd.DataFrame(rows, columns=["fpr", "tpr", "curve"])


# The batch table's headers on the page (the CSV keeps CSV_COLUMNS), and its metric names.
BATCH_HEADERS = {
    "prompt": "Prompt",
    "expected": "Expected",
    "base_output": "Base output",
    "tuned_output": "Tuned output",
    "metric": "Metric",
    "base_score": "Base score",
    "tuned_score": "Tuned score",
}
METRIC_NAMES = {"exact_match": "exact match", "rougeL": "ROUGE-L"}


def batch_frame(results: dict[str, Any]) -> pd.DataFrame:
    """The batch comparison as the page shows it: readable headers and metric names."""
    rows = (results.get("batch") or {}).get("rows") or []
    shown = [
        {
            BATCH_HEADERS[k]: METRIC_NAMES.get(r.get(k), r.get(k)) if k == "metric" else r.get(k)
            for k in CSV_COLUMNS
        }
        for r in rows
    ]
    return pd.DataFrame(shown, columns=[BATCH_HEADERS[k] for k in CSV_COLUMNS])


def evaluations_frame(evaluations: list[dict[str, Any]]) -> pd.DataFrame:
    """Past evaluations of a model: one row each with its headline numbers."""
    import time

    rows = []
    for ev in evaluations:
        r = ev.get("results") or {}
        ppl = r.get("perplexity") or {}
        cls = r.get("classification") or {}
        text = r.get("text") or {}
        rows.append(
            {
                "job": ev.get("job_id") or "",
                "when": time.strftime("%Y-%m-%d %H:%M", time.localtime(ev["created_at"])),
                "examples": r.get("n_examples"),
                "ppl tuned": _num((ppl.get("tuned") or {}).get("perplexity")),
                "ppl base": _num((ppl.get("base") or {}).get("perplexity")),
                "accuracy": _num((cls.get("tuned") or {}).get("accuracy")),
                "ROUGE-L": _num((text.get("tuned") or {}).get("rougeL")),
            }
        )
    cols = ["job", "when", "examples", "ppl tuned", "ppl base", "accuracy", "ROUGE-L"]
    return pd.DataFrame(rows, columns=cols)
