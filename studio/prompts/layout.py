"""The section layout a model was trained on, kept so inference prompts it the same way.

Training renders every example with its own style (Instruction/Human/Assistant or
Instruction/Input/Response) and preamble ("Below is an instruction that describes a task…").
A prompt typed later has neither, so `save_trained` records the dominant ones in the adapter's
studio.json (`PromptLayout.to_meta`), and Generate / batch comparison build their Example with
`PromptLayout.example`, which `render_prompt` then turns into the exact training text.

Alpaca-like data uses one preamble for examples with an input and another for those without,
so the layout keeps both. Runs saved before this was recorded fall back to their training
data (the run config's data files, read through studio.jobs.trained), and to Instruction/Human/Assistant without preamble after that.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from studio.vocab.examples import STYLE_HUMAN_ASSISTANT, STYLES, Example


@dataclass(frozen=True)
class PromptLayout:
    style: str = STYLE_HUMAN_ASSISTANT  # one of studio.vocab.examples.STYLES
    preamble: str = ""  # before the first ### when the prompt has no input
    input_preamble: str = ""  # before the first ### when the prompt has an input

    def example(
        self, instruction: str = "", input: str = "", preamble: str | None = None, output: str = ""
    ) -> Example:
        """An Example laid out as in training; `preamble` overrides the recorded one."""
        if preamble is None:
            preamble = self.input_preamble if input.strip() else self.preamble
        return Example(
            instruction=instruction, input=input, output=output, preamble=preamble, style=self.style
        )

    def to_meta(self) -> dict[str, str]:
        """The studio.json keys of this layout."""
        return {
            "style": self.style,
            "preamble": self.preamble,
            "input_preamble": self.input_preamble,
        }

    @classmethod
    def from_meta(cls, meta: dict) -> PromptLayout | None:
        """The layout recorded in a studio.json dict, or None when it has none."""
        style = meta.get("style")
        if style not in STYLES:
            return None
        preamble = str(meta.get("preamble") or "")
        return cls(style, preamble, str(meta.get("input_preamble", preamble) or ""))


def _dominant(values: Iterable[str], default: str = "") -> str:
    counts = Counter(values)
    return counts.most_common(1)[0][0] if counts else default


def training_layout(examples: Iterable[Example]) -> PromptLayout:
    """The most common style, and per style the most common preamble with / without input."""
    examples = list(examples)
    style = _dominant((ex.style for ex in examples), STYLE_HUMAN_ASSISTANT)
    same = [ex for ex in examples if ex.style == style]
    with_input = [ex.preamble.strip() for ex in same if ex.input.strip()]
    without = [ex.preamble.strip() for ex in same if not ex.input.strip()]
    overall = _dominant(with_input + without)
    return PromptLayout(style, _dominant(without, overall), _dominant(with_input, overall))


def _read_examples(path: str | Path) -> list[Example]:
    path = Path(path)
    if not path.is_file():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            out.append(Example.from_dict(json.loads(line)))
        except (ValueError, TypeError, AttributeError):
            continue  # a layout guess does not need every line
    return out


def data_layout(data: dict) -> PromptLayout:
    """The layout of a run's training data (config.json's "data": train / valid paths)."""
    examples = []
    for key in ("train", "valid"):
        if data.get(key):
            examples += _read_examples(data[key])
    return training_layout(examples)


@lru_cache(maxsize=64)
def _files_layout(train: str, valid: str, _mtime: float) -> PromptLayout:
    return data_layout({"train": train, "valid": valid})


def layout_for(meta: dict, data: dict | None = None) -> PromptLayout:
    """The layout of a trained model: studio.json's, else its training data's (the run
    config's "data": train / valid paths), else the default."""
    recorded = PromptLayout.from_meta(meta)
    if recorded is not None:
        return recorded
    train = data.get("train") if isinstance(data, dict) else None
    if train and Path(train).is_file():
        valid = str(data.get("valid") or "")
        return _files_layout(str(train), valid, Path(train).stat().st_mtime)
    return PromptLayout()
