"""Classification-style evaluation: answers drawn from a small label set.

Labels are normalised answers (studio.data.stats.normalise_label: "Neutral." is the label
"neutral"), the same labels the dataset stats list. The model's probability of each label is
the softmax, across labels, of the log-likelihood of the label's continuation after the prompt
(sum of its token log-probs), scored in the label's most common written form in the data
(" neutral." when the answers read "neutral."): the tokens training taught it to write.
Predicted = the most likely label. From those
probabilities: accuracy, per-label precision / recall / F1, the confusion matrix and
one-vs-rest ROC curves with AUC (scikit-learn).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from studio.data.stats import normalise_label
from studio.scoring.encode import IGNORE, encode
from studio.scoring.kvcache import continues_from_cache
from studio.scoring.logprobs import target_logprobs
from studio.scoring.prompted import prompt_label_logprobs
from studio.vocab.examples import Example

MAX_LABELS = 20  # more distinct answers than this is generation, not classification


def infer_labels(examples: list[Example], max_labels: int = MAX_LABELS) -> list[str]:
    """The sorted, normalised label set when the answers look like classes ([] when not)."""
    answers = [normalise_label(ex.output) for ex in examples if ex.output.strip()]
    distinct = sorted(set(answers))
    # Classes repeat: a set nearly as large as the data is free text.
    if not distinct or len(distinct) > max_labels or len(distinct) > max(2, len(answers) // 2):
        return []
    return distinct


def written_forms(examples: list[Example], labels: list[str]) -> list[str]:
    """Per label, the answer as the data writes it most often ("neutral." for "neutral")."""
    counts: dict[str, Counter] = {label: Counter() for label in labels}
    for ex in examples:
        answer = ex.output.strip()
        if normalise_label(answer) in counts:
            counts[normalise_label(answer)][answer] += 1
    return [counts[label].most_common(1)[0][0] if counts[label] else label for label in labels]


def _softmax(xs: list[float]) -> list[float]:
    top = max(xs)
    if top == -math.inf:
        return [1.0 / len(xs)] * len(xs)
    exps = [math.exp(x - top) for x in xs]
    total = sum(exps)
    return [e / total for e in exps]


def label_probabilities(
    model: Any,
    tokenizer: Any,
    examples: list[Example],
    labels: list[str],
    meta: dict[str, Any],
    batch_size: int = 8,
    on_batch: Callable[[int], None] | None = None,
    forms: list[str] | None = None,
    prompt_once: bool = True,
) -> list[list[float]]:
    """One row per example: P(label | prompt) for each label, normalised across labels.

    `forms` are the texts scored for the labels (default: their written forms in `examples`).
    With `prompt_once` (and a model that continues from a cache) each prompt runs once for
    all its labels (studio.scoring.prompted); otherwise, and for an example whose prompt is
    cut differently per label, every (example, label) row runs whole. `on_batch(n_done)`
    counts (example, label) rows either way.
    """
    tok_cfg = {
        **{k: meta[k] for k in ("prompt_format", "max_length") if meta.get(k)},
        "add_eos": False,  # the label's own tokens; all labels are scored the same way
    }
    model_type = meta.get("model_type", "causal")
    forms = forms or written_forms(examples, labels)
    k = len(labels)
    rows = [
        [encode(replace(ex, output=form), tokenizer, tok_cfg, model_type, True) for form in forms]
        for ex in examples
    ]
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    split = [_prompt_and_targets(r) for r in rows]
    once = prompt_once and model_type == "causal" and continues_from_cache(model)
    fast = [i for i, s in enumerate(split) if once and s is not None]
    taken = set(fast)
    whole = [i for i in range(len(examples)) if i not in taken]
    scores: list[list[float]] = [[] for _ in examples]
    done = [0, 0]  # rows scored by each path, for one running count

    def report(path: int, per: int) -> Callable[[int], None] | None:
        def tick(n: int) -> None:
            done[path] = n * per
            on_batch(sum(done))

        return tick if on_batch is not None else None

    if fast:
        sums = prompt_label_logprobs(
            model,
            [split[i][0] for i in fast],
            [split[i][1] for i in fast],
            pad,
            batch_size,
            report(0, k),
        )
        for i, row in zip(fast, sums, strict=True):
            scores[i] = row
    if whole:
        flat = [row for i in whole for row in rows[i]]
        plain = target_logprobs(model, flat, pad, model_type, batch_size, report(1, 1))
        for n, i in enumerate(whole):
            scores[i] = [s for s, _ in plain[n * k : (n + 1) * k]]
    return [_softmax(row) for row in scores]


def _prompt_and_targets(
    rows: list[dict[str, list[int]]],
) -> tuple[list[int], list[list[int]]] | None:
    """(the prompt, each label's tokens) when every row has the same prompt and a label token
    after it, else None (a prompt cut to make room for a longer label)."""
    prompts, targets = [], []
    for row in rows:
        cut = next((i for i, x in enumerate(row["labels"]) if x != IGNORE), len(row["labels"]))
        prompts.append(row["input_ids"][:cut])
        targets.append(row["input_ids"][cut:])
    if not prompts[0] or any(p != prompts[0] for p in prompts) or not all(targets):
        return None
    return prompts[0], targets


def classification_metrics(
    y_true: list[str], probs: list[list[float]], labels: list[str]
) -> dict[str, Any]:
    """accuracy, macro_f1, per_label rows, confusion (rows = true, cols = predicted), roc."""
    import numpy as np
    from sklearn.metrics import (
        accuracy_score,
        confusion_matrix,
        precision_recall_fscore_support,
        roc_auc_score,
        roc_curve,
    )

    p = np.asarray(probs, dtype=float)
    y_pred = [labels[i] for i in p.argmax(axis=1)]
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=0
    )
    per_label, roc = [], {}
    for i, label in enumerate(labels):
        positive = np.array([t == label for t in y_true])
        auc = None
        # One-vs-rest AUC needs both classes present among the true answers.
        if positive.any() and (~positive).any():
            fpr, tpr, _ = roc_curve(positive, p[:, i])
            auc = float(roc_auc_score(positive, p[:, i]))
            roc[label] = {"fpr": fpr.tolist(), "tpr": tpr.tolist(), "auc": auc}
        per_label.append(
            {
                "label": label,
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(support[i]),
                "auc": auc,
            }
        )
    return {
        "labels": list(labels),
        "n": len(y_true),
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "macro_f1": float(np.mean(f1)) if len(labels) else 0.0,
        "per_label": per_label,
        "confusion": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
        "roc": roc,
        "predictions": y_pred,
    }
