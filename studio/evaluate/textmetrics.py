"""Generation-style metrics on model outputs: ROUGE (rouge-score), BLEU (sacrebleu), exact match.

Well-kept libraries, not hand-written metrics. Scores are on a 0-1 scale except corpus BLEU,
which sacrebleu reports on 0-100.
"""

from __future__ import annotations

from typing import Any

ROUGE_TYPES = ("rouge1", "rouge2", "rougeL")


def normalise(text: str) -> str:
    """Whitespace-collapsed, case-folded text for exact match."""
    return " ".join(text.split()).casefold()


def exact_match(prediction: str, reference: str) -> float:
    return 1.0 if normalise(prediction) == normalise(reference) else 0.0


def _scorer():
    from rouge_score import rouge_scorer

    return rouge_scorer.RougeScorer(list(ROUGE_TYPES), use_stemmer=True)


def text_metrics(predictions: list[str], references: list[str]) -> dict[str, Any]:
    """Mean ROUGE-1/2/L F1, corpus BLEU and exact-match rate; per_row ROUGE-L and EM."""
    import sacrebleu

    if len(predictions) != len(references):
        raise ValueError("predictions and references differ in length")
    if not predictions:
        return {
            "n": 0,
            "rouge1": None,
            "rouge2": None,
            "rougeL": None,
            "bleu": None,
            "exact_match": None,
            "per_row": [],
        }
    scorer = _scorer()
    sums = dict.fromkeys(ROUGE_TYPES, 0.0)
    per_row = []
    for pred, ref in zip(predictions, references, strict=True):
        scores = scorer.score(ref, pred)
        for key in ROUGE_TYPES:
            sums[key] += scores[key].fmeasure
        per_row.append(
            {"rougeL": float(scores["rougeL"].fmeasure), "exact_match": exact_match(pred, ref)}
        )
    n = len(predictions)
    bleu = sacrebleu.corpus_bleu(predictions, [references])
    return {
        "n": n,
        **{key: sums[key] / n for key in ROUGE_TYPES},
        "bleu": float(bleu.score),
        "exact_match": sum(r["exact_match"] for r in per_row) / n,
        "per_row": per_row,
    }
