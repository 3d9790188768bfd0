"""An imported adapter_config.json, checked field by field before PEFT ever reads it.

    check_adapter_config(cfg, base)       # ImportRefused naming the field, or None

Only LoRA (the adapter the studio trains) is accepted. Every field is either checked here
against the base model's shapes (a table: field -> check) or must hold the installed
PEFT's default value: a setting this table does not know cannot switch on a new kind of
layer, an initialisation that runs on load (PiSSA, LoftQ, EVA...), replicated layers, extra
token embeddings or a module import (`megatron_core`). Names are plain module names, never
the regular expressions PEFT would otherwise run over every module of the base.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from studio.errors import ImportRefused
from studio.vocab.models import TASK_TYPES

MAX_RANK = 1024  # as the studio's own PEFT settings allow
MAX_ALPHA = 4096.0  # as the studio's own PEFT settings allow
MAX_NAMES = 64  # target / excluded module names: an adapter names a handful
MAX_SAVED_MODULES = 8  # modules trained in full and saved beside the adapter
MAX_PATTERN = 256  # rank_pattern / alpha_pattern entries
MAX_TEXT = 500  # base_model_name_or_path, revision, peft_version
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]{0,127}$")
_INIT = (True, False, "gaussian")  # initialisations that run nothing heavy on load
_BIAS = ("none", "all", "lora_only")


@dataclass(frozen=True)
class BaseShape:
    """What the checks need of the base model: its name, model type, layer count and the
    full names of its modules (from its architecture on the meta device)."""

    ref: str
    model_type: str  # causal | seq2seq
    layers: int | None
    modules: frozenset[str]

    def has(self, name: str) -> bool:
        """Whether some module's name is `name` or ends with `.name` (PEFT's matching)."""
        return any(m == name or m.endswith("." + name) for m in self.modules)


def _refuse(field: str, why: str) -> ImportRefused:
    return ImportRefused(f"adapter_config.json: {field} {why}; export the adapter again.")


def _show(value: Any) -> str:
    return repr(value)[:60]


def _int_in(field: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _refuse(field, f"must be a whole number from {low} to {high} (got {_show(value)})")
    return value


def _alpha(field: str, value: Any) -> None:
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if not ok or not math.isfinite(value) or not 0 < value <= MAX_ALPHA:
        raise _refuse(
            field, f"must be a number above 0 and at most {MAX_ALPHA:g} (got {_show(value)})"
        )


def _names(field: str, value: Any, limit: int) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _refuse(field, f"must be a list of module names (got {_show(value)})")
    if len(value) > limit:
        raise _refuse(field, f"lists {len(value)} names; at most {limit} are accepted")
    if len(set(value)) != len(value):
        raise _refuse(field, "lists the same module more than once")
    for name in value:
        if not _NAME.match(name):
            raise _refuse(
                field, f"holds {_show(name)}: only plain module names (no patterns) are accepted"
            )
    return value


def _existing(field: str, names: list[str], base: BaseShape) -> None:
    for name in names:
        if not base.has(name):
            raise _refuse(field, f"names {name!r}, which the base model {base.ref!r} does not have")


# -- the table: field -> check(value, base) ---------------------------------------------
def _peft_type(value: Any, base: BaseShape) -> None:
    if value != "LORA":
        raise ImportRefused(
            f"adapter_config.json: peft_type is {_show(value)}; only LoRA adapters "
            "(peft_type LORA, the kind the studio trains) can be imported."
        )


def _task_type(value: Any, base: BaseShape) -> None:
    want = TASK_TYPES[base.model_type]
    if value != want:
        raise _refuse(
            "task_type",
            f"is {_show(value)}, but the base model {base.ref!r} is a {base.model_type} model, "
            f"whose adapters have task_type {want}",
        )


def _target_modules(value: Any, base: BaseShape) -> None:
    if value == "all-linear":
        return
    if isinstance(value, str):
        raise _refuse(
            "target_modules",
            "is a pattern; only 'all-linear' or a list of module names is accepted",
        )
    _existing("target_modules", _names("target_modules", value, MAX_NAMES), base)


def _modules_to_save(value: Any, base: BaseShape) -> None:
    if value is None:
        return
    names = _names("modules_to_save", value, MAX_SAVED_MODULES)
    _existing("modules_to_save", names, base)


def _exclude_modules(value: Any, base: BaseShape) -> None:
    if value is not None:
        _names("exclude_modules", value, MAX_NAMES)


def _layers_to_transform(value: Any, base: BaseShape) -> None:
    if value is None:
        return
    last = (base.layers or 1) - 1
    values = [value] if isinstance(value, int) and not isinstance(value, bool) else value
    if not isinstance(values, list) or len(set(map(repr, values))) != len(values):
        raise _refuse("layers_to_transform", "must be a list of distinct layer numbers")
    for v in values:
        _int_in("layers_to_transform", v, 0, last)


def _layers_pattern(value: Any, base: BaseShape) -> None:
    if value is None:
        return
    _names("layers_pattern", [value] if isinstance(value, str) else value, 4)


def _pattern(field: str, check: Callable[[str, Any], Any]) -> Callable[[Any, BaseShape], None]:
    def check_pattern(value: Any, base: BaseShape) -> None:
        if not isinstance(value, dict):
            raise _refuse(field, "must be an object of module name -> value")
        if len(value) > MAX_PATTERN:
            raise _refuse(field, f"has {len(value)} entries; at most {MAX_PATTERN}")
        _names(field, list(value), MAX_PATTERN)
        for key, v in value.items():
            check(f"{field}[{key!r}]", v)

    return check_pattern


def _one_of(field: str, allowed: tuple) -> Callable[[Any, BaseShape], None]:
    def check(value: Any, base: BaseShape) -> None:
        if not any(value is a or (type(value) is type(a) and value == a) for a in allowed):
            raise _refuse(field, f"must be one of {', '.join(map(repr, allowed))}")

    return check


def _text(field: str) -> Callable[[Any, BaseShape], None]:
    def check(value: Any, base: BaseShape) -> None:
        if value is not None and (not isinstance(value, str) or len(value) > MAX_TEXT):
            raise _refuse(field, f"must be a short text (at most {MAX_TEXT} characters)")

    return check


def _dropout(value: Any, base: BaseShape) -> None:
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if not ok or not math.isfinite(value) or not 0 <= value < 1:
        raise _refuse("lora_dropout", f"must be a number from 0 to below 1 (got {_show(value)})")


_BOOL = (True, False)
CHECKS: dict[str, Callable[[Any, BaseShape], None]] = {
    "peft_type": _peft_type,
    "task_type": _task_type,
    "r": lambda v, base: _int_in("r", v, 1, MAX_RANK),
    "lora_alpha": lambda v, base: _alpha("lora_alpha", v),
    "rank_pattern": _pattern("rank_pattern", lambda f, v: _int_in(f, v, 1, MAX_RANK)),
    "alpha_pattern": _pattern("alpha_pattern", _alpha),
    "lora_dropout": _dropout,
    "target_modules": _target_modules,
    "modules_to_save": _modules_to_save,
    "exclude_modules": _exclude_modules,
    "layers_to_transform": _layers_to_transform,
    "layers_pattern": _layers_pattern,
    "bias": _one_of("bias", _BIAS),
    "init_lora_weights": _one_of("init_lora_weights", _INIT),
    "use_dora": _one_of("use_dora", _BOOL),
    "use_rslora": _one_of("use_rslora", _BOOL),
    "fan_in_fan_out": _one_of("fan_in_fan_out", _BOOL),
    "lora_bias": _one_of("lora_bias", _BOOL),
    "inference_mode": _one_of("inference_mode", _BOOL),
    "base_model_name_or_path": _text("base_model_name_or_path"),
    "revision": _text("revision"),
    "peft_version": _text("peft_version"),
}
REQUIRED = ("peft_type", "task_type", "r", "target_modules")
_EMPTY = (None, False, [], {})


def lora_defaults() -> dict[str, Any]:
    """The installed PEFT's LoraConfig defaults, as adapter_config.json would hold them."""
    import dataclasses

    from peft import LoraConfig

    out: dict[str, Any] = {}
    for f in dataclasses.fields(LoraConfig):
        if f.default is not dataclasses.MISSING:
            out[f.name] = f.default
        elif f.default_factory is not dataclasses.MISSING:
            value = f.default_factory()
            out[f.name] = dataclasses.asdict(value) if dataclasses.is_dataclass(value) else value
    return out


def check_adapter_config(cfg: dict[str, Any], base: BaseShape) -> None:
    """Refuse (ImportRefused, naming the field) anything but a LoRA config whose every size
    fits `base`; the fields this table does not check must hold PEFT's defaults."""
    _peft_type(cfg.get("peft_type"), base)  # first: another adapter type is told so
    for field in REQUIRED:
        if field not in cfg:
            raise _refuse(field, "is missing")
    defaults = lora_defaults()
    for field, value in cfg.items():
        check = CHECKS.get(field)
        if check is not None:
            check(value, base)
        elif field == "layer_replication" and value not in _EMPTY:
            raise _refuse(
                "layer_replication",
                "asks to run copies of the base's layers; that is refused (the studio does "
                "not train such adapters)",
            )
        elif not _is_default(value, defaults.get(field)):
            raise _refuse(
                field,
                f"is {_show(value)}: the studio accepts this setting only at PEFT's default "
                f"({_show(defaults.get(field))})",
            )


def _is_default(value: Any, default: Any) -> bool:
    if value in _EMPTY and (default in _EMPTY or default is None):
        return True
    return type(value) is type(default) and value == default
