"""Model templates, as data: base model, model type, method, default hyperparameters and dicts.

studio.configs.defaults builds a template's starting values and says whether it can train here.
"""

from __future__ import annotations

from studio.errors import NotFoundError
from studio.templates.base import Template
from studio.templates.registry import DEFAULT_TEMPLATE, TEMPLATES

__all__ = ["DEFAULT_TEMPLATE", "TEMPLATES", "Template", "get_template", "templates_for_type"]


def get_template(key: str) -> Template:
    """The template with this key; NotFoundError lists the known keys."""
    try:
        return TEMPLATES[key]
    except KeyError:
        raise NotFoundError(
            f"No model template {key!r}; choose one of: {', '.join(TEMPLATES)}."
        ) from None


def templates_for_type(model_type: str) -> list[Template]:
    """Templates that can build a model of this type (Custom fits both)."""
    return [t for t in TEMPLATES.values() if model_type in t.allowed_types]
