"""The instruction proposed for a sentence + label table: it names the task and its labels, so
the prompt tells the model (and its base) what to answer. The Inputs tab proposes it and the
benches train with it."""

from __future__ import annotations

from collections import Counter

from studio.data.shapes import ColumnMapping


def propose_instruction(result, guess: ColumnMapping, max_labels: int = 20) -> str:
    """For a sentence + label table: an instruction that names the task and its labels, so
    the prompt tells the model (and its base) what to answer. "" for other shapes."""
    if guess.shape != "sentence_label" or not guess.output:
        return ""
    answers = [
        str(r.value.get(guess.output, "")).strip() for r in result.rows if isinstance(r.value, dict)
    ]
    labels = [a for a, _ in Counter(a for a in answers if a).most_common()]
    if not labels or len(labels) > max_labels:
        return ""
    thing = guess.input.replace("_", " ") if guess.input else "text"
    what = guess.output.replace("_", " ")
    return f"Read the {thing} and answer with its {what}: one of {', '.join(sorted(labels))}."
