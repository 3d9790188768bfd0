"""Turn an Example into the exact text a model sees.

Two prompt formats:
- "sections" (default): the `###` layout the data was written in, e.g.
  `### Instruction: … ### Human: … ### Assistant:` followed by ` <output>`.
- "chat": the tokenizer's own chat template (instruction -> system, input -> user,
  output -> assistant).

Training calls `render(example, fmt, tokenizer)` and learns the target; generation calls
`render_prompt(...)` and lets the model continue. Both go through the same code so the
prompt at inference is byte-for-byte the prompt seen in training.
"""

from __future__ import annotations

from typing import Any

from studio.prompts.chat_template import render_chat_template
from studio.vocab.examples import (
    STYLE_HUMAN_ASSISTANT,
    STYLE_INPUT_RESPONSE,
    STYLE_PLAIN,
    Example,
)

PROMPT_FORMATS = ("sections", "chat")

# Section names per style: (instruction, input, output).
SECTION_NAMES = {
    STYLE_HUMAN_ASSISTANT: ("Instruction", "Human", "Assistant"),
    STYLE_INPUT_RESPONSE: ("Instruction", "Input", "Response"),
}


def to_messages(example: Example, with_answer: bool = True) -> list[dict[str, str]]:
    """The example as chat messages (system / user / assistant)."""
    system = " ".join(p for p in (example.preamble.strip(), example.instruction.strip()) if p)
    messages = []
    if system:
        messages.append({"role": "system", "content": system})
    user = example.input.strip() or (example.instruction.strip() if not system else "")
    messages.append({"role": "user", "content": user})
    if with_answer:
        messages.append({"role": "assistant", "content": example.output})
    return messages


def _sections_prompt(example: Example) -> str:
    if example.style == STYLE_PLAIN:
        return ""
    inst_name, input_name, out_name = SECTION_NAMES.get(
        example.style, SECTION_NAMES[STYLE_HUMAN_ASSISTANT]
    )
    parts = []
    if example.preamble.strip():
        parts.append(example.preamble.strip())
    if example.instruction.strip():
        parts.append(f"### {inst_name}: {example.instruction.strip()}")
    if example.input.strip():
        parts.append(f"### {input_name}: {example.input.strip()}")
    parts.append(f"### {out_name}:")
    return " ".join(parts)


def render_prompt(example: Example, fmt: str = "sections", tokenizer: Any = None) -> str:
    """Everything the model is given before it must answer."""
    if fmt == "chat" and example.style != STYLE_PLAIN:
        if tokenizer is None or not getattr(tokenizer, "chat_template", None):
            raise ValueError("the chat prompt format needs a tokenizer with a chat template")
        # A template is code that came with the model: rendered within bounds.
        return render_chat_template(tokenizer, to_messages(example, with_answer=False))
    if fmt not in PROMPT_FORMATS:
        raise ValueError(f"unknown prompt format {fmt!r}; choose one of {PROMPT_FORMATS}")
    return _sections_prompt(example)


def render(example: Example, fmt: str = "sections", tokenizer: Any = None) -> tuple[str, str]:
    """(prompt, target): the model sees prompt + target and learns the target.

    For plain text the prompt is empty and the whole text is the target. The caller adds
    the end-of-sequence token after the target.
    """
    prompt = render_prompt(example, fmt, tokenizer)
    if example.style == STYLE_PLAIN:
        return "", example.output
    if fmt == "chat":
        return prompt, example.output
    return prompt, " " + example.output.strip()
