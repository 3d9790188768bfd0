"""Setting: one row of the settings table (studio.configs.table), and the two form fields
that are views of several keys (precision, evaluate every N steps)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from studio.configs.fields import FieldSpec
from studio.configs.hardware import Hardware
from studio.configs.schemas import SCHEMAS

SAME = object()  # a page default that is the headless default
EVAL_RATIO = 0.2  # eval_every 0: this share of the run's steps between evaluations
PRECISIONS = ("fp32", "bf16", "fp16")


@dataclass(frozen=True)
class Setting:
    """One run setting: where it is stored, what it accepts, its default, and its form field."""

    name: str  # the form's name for it
    section: str  # a stored section (the five dicts, "studio") or "evaluate"
    key: str  # its key in that section ("" for a view of several keys)
    default: Any  # in the form's terms; the stored value is to_dict(default)
    spec: FieldSpec  # type, range, choices, help (validation reads it)
    label: str = ""  # the form's label; "" = no form field (the JSON editors still have it)
    help: str = ""  # the help under the form field ("" = spec.help)
    group: str = ""  # where the form shows it: base, main, lora, machines
    row: int = 0  # the row of the main group it sits in
    adapter_only: bool = False  # written only when the model has a LoRA adapter
    page: Any = SAME  # the page's default where it must differ from a headless run's
    why: str = ""  # ... and why
    to_dict: Callable[[Any], Any] = lambda v: v  # form value -> stored value
    from_dict: Callable[[Any], Any] = lambda v: v  # stored value -> form value
    # A view of several keys (precision, eval_every): how it writes and reads them.
    write: Callable[[dict, Any], None] | None = None
    read: Callable[[dict], Any] | None = None
    owns: tuple[str, ...] = ()  # the keys such a view writes (problems on them mark it)

    @property
    def keys(self) -> tuple[str, ...]:
        """The section keys this setting is stored under."""
        return self.owns if self.write else (self.key,)

    @property
    def form_help(self) -> str:
        return self.help or self.spec.help

    def page_default(self, hardware: Hardware) -> Any:
        """The form's starting value on this machine."""
        page = self.default if self.page is SAME else self.page
        return page(hardware) if callable(page) else page

    def store(self, section: dict, value: Any) -> None:
        """Write a form value into its section dict."""
        if self.write is not None:
            self.write(section, value)
        else:
            section[self.key] = self.to_dict(value)

    def load(self, section: dict, missing: Any = None) -> Any:
        """The form value a section dict holds (`missing` when it has no such key)."""
        if self.read is not None:
            return self.read(section)
        return self.from_dict(section[self.key]) if self.key in section else missing


def setting(
    name: str, where: str, default: Any, spec: FieldSpec | None = None, **extra: Any
) -> Setting:
    """A row: `where` is "section.key"; the spec is the library dict key's own
    (studio.configs.schemas) unless given, so the form and the JSON editor agree."""
    section, _, key = where.partition(".")
    if spec is None:
        spec = SCHEMAS[section][key]
    elif isinstance(spec, str):  # the library key's spec, worded for the form
        spec = replace(SCHEMAS[section][key], help=spec)
    return Setting(name, section, key, default, spec, **extra)


def write_precision(trainer: dict, precision: Any) -> None:
    trainer["bf16"] = precision == "bf16"
    trainer["fp16"] = precision == "fp16"


def read_precision(trainer: dict) -> str:
    if trainer.get("bf16") is True:
        return "bf16"
    return "fp16" if trainer.get("fp16") is True else "fp32"


def write_eval_every(trainer: dict, every: Any) -> None:
    """N > 0: evaluate every N steps. 0: a few times per run when evaluating by steps (a
    trainer dict set to evaluate by epoch, or never, keeps that)."""
    if isinstance(every, (int, float)) and not isinstance(every, bool) and every > 0:
        trainer["eval_strategy"], trainer["eval_steps"] = "steps", every
    elif every == 0 and trainer.get("eval_strategy") == "steps":
        trainer["eval_steps"] = EVAL_RATIO
    elif every not in (0, None):  # a bad value: let validation name it
        trainer["eval_steps"] = every


def read_eval_every(trainer: dict) -> Any:
    steps = trainer.get("eval_steps")
    if trainer.get("eval_strategy") == "steps" and isinstance(steps, (int, float)) and steps >= 1:
        return int(steps) if float(steps).is_integer() else steps
    return 0


def copy_value(value: Any) -> Any:
    """A fresh copy of a default (lists and dicts are never shared)."""
    if isinstance(value, list):
        return [copy_value(v) for v in value]
    if isinstance(value, dict):
        return {k: copy_value(v) for k, v in value.items()}
    return value


def coerce(spec: FieldSpec, value: Any) -> Any:
    """A JSON number in the kind the spec names (2.0 for an int field is 2)."""
    if spec.kind == "int" and isinstance(value, float) and value.is_integer():
        return int(value)
    if spec.kind == "float" and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value
