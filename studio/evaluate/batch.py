"""Batch comparison: the same prompts through the tuned model and its base, side by side.

Prompts come from a dataset version's validation split or an uploaded list:
- .txt: one prompt per line;
- .csv: a `prompt` (or `input`) column, optional `instruction`, optional expected answer in
  `expected` / `output` / `answer` / `response`;
- .jsonl: one object per line, either an Example dict or {"prompt", "expected"}.
Uploaded prompts carry no section style or preamble of their own: `compare` lays them out as
the model was trained (studio.prompts.layout, from the run's studio.json), so they read like
the training prompts. Dataset lines that name their style keep it.
Each row gets a per-row metric: exact match for classification-style answers, else ROUGE-L.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from studio.csvsafe import write_csv as safe_write
from studio.errors import DataError
from studio.evaluate.generation import greedy, prompt_text
from studio.evaluate.pair import ModelPair
from studio.evaluate.textmetrics import _scorer, exact_match
from studio.prompts.layout import PromptLayout, layout_for
from studio.vocab.examples import Example

PROMPT_KEYS = ("prompt", "input", "question", "text")
EXPECTED_KEYS = ("expected", "output", "answer", "response", "target")
CSV_COLUMNS = (
    "prompt",
    "expected",
    "base_output",
    "tuned_output",
    "metric",
    "base_score",
    "tuned_score",
)
UPLOADED = "prompts_file"  # Example.meta["source"] of a prompt to lay out as the model trained


def _uploaded(
    instruction: str = "", input: str = "", output: str = "", preamble: str | None = None
) -> Example:
    """An uploaded prompt; its style (and preamble, unless given) come from the model."""
    return Example(
        instruction=instruction,
        input=input,
        output=output,
        meta={"source": UPLOADED, "preamble": preamble},
    )


def laid_out(example: Example, layout: PromptLayout) -> Example:
    """`example` in the model's training layout if it was uploaded without one."""
    if example.meta.get("source") != UPLOADED:
        return example
    return layout.example(
        example.instruction, example.input, example.meta.get("preamble"), example.output
    )


def _first(row: dict[str, Any], keys: tuple[str, ...]) -> str:
    lowered = {str(k).strip().lower(): v for k, v in row.items()}
    for key in keys:
        value = lowered.get(key)
        if value not in (None, ""):
            return str(value)
    return ""


def _from_mapping(row: dict[str, Any], where: str) -> Example:
    preamble = str(row["preamble"]) if row.get("preamble") is not None else None
    if "output" in row and "style" in row:
        return Example.from_dict(row)  # a dataset version line: its own layout
    if "output" in row and "instruction" in row:
        return _uploaded(
            str(row.get("instruction") or ""),
            str(row.get("input") or ""),
            str(row.get("output") or ""),
            preamble,
        )
    prompt = _first(row, PROMPT_KEYS)
    if not prompt.strip():
        raise DataError(f"{where} has no prompt: give a 'prompt' (or 'input') column/key.")
    instruction = str(row.get("instruction") or "")
    return _uploaded(instruction, prompt, _first(row, EXPECTED_KEYS), preamble)


def read_prompts(path: str | Path, max_rows: int = 1000) -> list[Example]:
    """Examples (expected answer in .output, possibly empty) from a .txt / .csv / .jsonl file."""
    path = Path(path)
    suffix = path.suffix.lower()
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{path.name} is not UTF-8 text; save it as UTF-8 and upload again."
        ) from exc
    if suffix == ".txt":
        out = [_uploaded(input=line.strip()) for line in text.splitlines() if line.strip()]
    elif suffix == ".csv":
        reader = csv.DictReader(io.StringIO(text))
        out = [_from_mapping(r, f"{path.name} row {n}") for n, r in enumerate(reader, start=2)]
    elif suffix in (".jsonl", ".json"):
        out = []
        for n, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataError(f"{path.name} line {n} is not JSON ({exc.msg}).") from exc
            if isinstance(obj, str):
                out.append(_uploaded(input=obj))
            elif isinstance(obj, dict):
                out.append(_from_mapping(obj, f"{path.name} line {n}"))
            else:
                raise DataError(f"{path.name} line {n} must be an object or a string.")
    else:
        raise DataError(f"Prompts file {path.name}: use a .txt, .csv or .jsonl file.")
    if not out:
        raise DataError(f"{path.name} holds no prompts.")
    return out[:max_rows]


def compare(
    pair: ModelPair,
    examples: list[Example],
    max_new_tokens: int = 64,
    use_exact_match: bool = False,
    on_row: Callable[[int], None] | None = None,
    layout: PromptLayout | None = None,
) -> list[dict[str, Any]]:
    """One row per example: prompt, expected, base_output, tuned_output, metric, scores.

    `on_row(n_done)` runs after each row (progress; it may raise to stop). Uploaded prompts
    are laid out with `layout`, by default the one recorded in the model's studio.json.
    """
    meta = pair.meta
    layout = layout or layout_for(meta)
    model_type = meta.get("model_type", "causal")
    kwargs = dict(
        max_new_tokens=max_new_tokens,
        model_type=model_type,
        max_length=int(meta.get("max_length") or 0),
        add_special=meta.get("prompt_format", "sections") != "chat",
    )
    scorer = None if use_exact_match else _scorer()
    rows = []
    for n, ex in enumerate(examples, start=1):
        ex = laid_out(ex, layout)
        prompt = prompt_text(ex, pair.tokenizer, meta)
        tuned = greedy(pair.tuned, pair.tokenizer, prompt, **kwargs)
        base = ""
        if pair.has_base:
            with pair.base() as model:
                base = greedy(model, pair.tokenizer, prompt, **kwargs)
        expected = ex.output.strip()
        row = {
            "prompt": prompt,
            "expected": expected,
            "base_output": base,
            "tuned_output": tuned,
            "metric": "",
            "base_score": None,
            "tuned_score": None,
        }
        if expected:
            row["metric"] = "exact_match" if use_exact_match else "rougeL"
            for key, text in (("base_score", base), ("tuned_score", tuned)):
                if key == "base_score" and not pair.has_base:
                    continue
                if use_exact_match:
                    row[key] = exact_match(text, expected)
                else:
                    row[key] = float(scorer.score(expected, text)["rougeL"].fmeasure)
        rows.append(row)
        if on_row is not None:
            on_row(n)
    return rows


def write_csv(rows: list[dict[str, Any]], path: str | Path) -> Path:
    """The comparison table as CSV (UTF-8, header row; formula-like cells neutralised)."""

    table = ([None if row.get(k) is None else row.get(k) for k in CSV_COLUMNS] for row in rows)
    return safe_write(
        path, list(CSV_COLUMNS), ([("" if v is None else v) for v in r] for r in table)
    )
