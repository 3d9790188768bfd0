"""Prompt formats. `render()` is the one function training AND generation use."""

from studio.prompts.render import (
    PROMPT_FORMATS,
    render,
    render_prompt,
    to_messages,
)

__all__ = ["PROMPT_FORMATS", "render", "render_prompt", "to_messages"]
