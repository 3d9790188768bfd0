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

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

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


def layout_for(meta: dict) -> PromptLayout:
    """The layout a trained model's studio.json records, else the default (a model trained
    before it was recorded: studio.jobs.trained reads its training data instead)."""
    return PromptLayout.from_meta(meta) or PromptLayout()
