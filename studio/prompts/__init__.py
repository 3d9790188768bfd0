"""Prompt formats. `render()` is the one function training AND generation use."""

from studio.prompts.layout import PromptLayout, layout_for, training_layout
from studio.prompts.render import (
    PROMPT_FORMATS,
    render,
    render_prompt,
    to_messages,
)

__all__ = [
    "PROMPT_FORMATS",
    "PromptLayout",
    "layout_for",
    "render",
    "render_prompt",
    "to_messages",
    "training_layout",
]
