"""What the model is sent: the training prompt format, free text, or a chat conversation.

Instruction mode goes through studio.prompts.render_prompt, the same function training
uses, with the prompt format the run was trained with (studio.json), so the text at
inference is byte-for-byte the prompt seen in training.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from studio.data.records import STYLES, Example
from studio.errors import StudioError

MODES = ("instruction", "text", "chat")


@dataclass
class PromptInput:
    mode: str = "instruction"  # one of MODES
    instruction: str = ""  # instruction mode: the task
    input: str = ""  # instruction mode: the material (### Human / ### Input)
    text: str = ""  # free text mode: sent as is
    messages: list[dict[str, str]] = field(default_factory=list)  # chat: role/content, in order


def render_input(prompt: PromptInput, tokenizer: Any, prompt_format: str = "sections",
                 style: str = "human_assistant") -> str:  # fmt: skip
    """The exact text handed to the tokenizer for this prompt."""
    from studio.prompts import render_prompt

    if prompt.mode == "instruction":
        if not (prompt.instruction.strip() or prompt.input.strip()):
            raise StudioError("Write an instruction or an input first (both boxes are empty).")
        example = Example(instruction=prompt.instruction, input=prompt.input,
                          style=style if style in STYLES else "human_assistant")  # fmt: skip
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
    return tokenizer.apply_chat_template(clean, tokenize=False, add_generation_prompt=True)
