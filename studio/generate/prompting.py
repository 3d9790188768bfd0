"""What the model is sent: the training prompt format, free text, or a chat conversation.

Instruction mode goes through studio.prompts.render_prompt, the same function training
uses, with the prompt format, section style and preamble the run was trained with
(studio.json, see studio.prompts.layout), so the text at inference is byte-for-byte the
prompt seen in training.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from studio.errors import StudioError
from studio.prompts import render_prompt
from studio.prompts.chat_template import render_chat_template
from studio.prompts.layout import PromptLayout
from studio.vocab.examples import STYLE_PLAIN

MODES = ("instruction", "text", "chat")


@dataclass
class PromptInput:
    mode: str = "instruction"  # one of MODES
    instruction: str = ""  # instruction mode: the task
    input: str = ""  # instruction mode: the material (### Human / ### Input)
    text: str = ""  # free text mode: sent as is
    messages: list[dict[str, str]] = field(default_factory=list)  # chat: role/content, in order
    preamble: str | None = None  # instruction mode: None = the preamble the model trained with


@dataclass(frozen=True)
class Rendered:
    """A prompt rendered to text, and whether tokenizing it adds special tokens."""

    text: str
    special: bool


def render_for(
    prompt: PromptInput,
    tokenizer: Any,
    prompt_format: str = "sections",
    layout: PromptLayout | None = None,
) -> Rendered:
    """render_input's text, with how to tokenize it."""
    text = render_input(prompt, tokenizer, prompt_format, layout)
    # Chat-formatted text already carries its special tokens.
    return Rendered(text, not (prompt.mode == "chat" or prompt_format == "chat"))


def render_input(
    prompt: PromptInput,
    tokenizer: Any,
    prompt_format: str = "sections",
    layout: PromptLayout | None = None,
) -> str:
    """The exact text handed to the tokenizer for this prompt (`layout`: the model's
    training layout, ModelSpec.layout; None = Instruction/Human/Assistant, no preamble)."""
    if prompt.mode == "instruction":
        if not (prompt.instruction.strip() or prompt.input.strip()):
            raise StudioError("Write an instruction or an input first (both boxes are empty).")
        example = (layout or PromptLayout()).example(
            prompt.instruction, prompt.input, prompt.preamble
        )
        if example.style == STYLE_PLAIN:
            # Trained on plain text (no sections): the model continues what it is given.
            return " ".join(p.strip() for p in (prompt.instruction, prompt.input) if p.strip())
        try:
            return render_prompt(example, prompt_format, tokenizer)
        except ValueError as exc:
            raise StudioError(f"Cannot build the prompt: {exc}.") from exc
    if prompt.mode == "text":
        if not prompt.text:
            raise StudioError("The free-text prompt is empty: type the text to continue.")
        return prompt.text
    if prompt.mode == "chat":
        return render_chat(prompt.messages, tokenizer)
    raise StudioError(f"Unknown prompt mode {prompt.mode!r}; choose one of {', '.join(MODES)}.")


def render_chat(messages: list[dict[str, str]], tokenizer: Any) -> str:
    """The conversation through the tokenizer's chat template, ready for the next reply."""
    clean = []
    for i, m in enumerate(messages):
        role, content = m.get("role"), m.get("content")
        if role not in ("system", "user", "assistant") or not isinstance(content, str):
            raise StudioError(
                f"Message {i + 1} needs a role (system, user or assistant) and text content."
            )
        clean.append({"role": role, "content": content})
    if not clean or clean[-1]["role"] != "user":
        raise StudioError("The conversation must end with a user message to answer.")
    if not getattr(tokenizer, "chat_template", None):
        # No template: a plain transcript the model can continue.
        lines = [f"{m['role'].capitalize()}: {m['content']}" for m in clean]
        return "\n".join(lines) + "\nAssistant:"
    return render_chat_template(tokenizer, clean)  # the model's template, within bounds
