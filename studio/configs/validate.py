"""validate(): every problem in a model's settings at once, each naming its key.

    problems = validate(template, hyper, sections, hardware)   # [] when all is well
    check(template, hyper, sections, hardware)                  # raises ConfigError(problems)

`sections` are the five library dicts and the studio section (studio.configs.table). The
form's values (`hyper`) are checked first against their rows of the settings table, under
the key they are stored in (batch_size as trainer.per_device_train_batch_size); only the
valid ones are written into the sections, which are checked next. So a bad value is reported
once, and one of the wrong type never hides the other problems. Each Problem names its key
(`Problem.key`), which the page maps to the field showing it.
"""

from __future__ import annotations

import difflib
import logging
from typing import Any

from studio.configs.construct import (
    lora_problems,
    scheduler_problems,
    training_arguments_problems,
)
from studio.configs.contradictions import contradictions
from studio.configs.fields import check_value
from studio.configs.hardware import Hardware, detect_hardware
from studio.configs.hyper import apply_hyperparameters
from studio.configs.schemas import REFUSED, SECTIONS, STUDIO_KEYS, library_keys, refused
from studio.configs.table import (
    ALL_SCHEMAS,
    FORM,
    STORED_SECTIONS,
    STUDIO,
    STUDIO_SCHEMA,
    run_defaults,
)
from studio.errors import ConfigError, Problem
from studio.models.resolve import SCRATCH_PREFIX
from studio.settings import Settings
from studio.templates import Template
from studio.vocab.models import MODEL_TYPES

log = logging.getLogger(__name__)

_LIBRARY = {
    "trainer": "TrainingArguments (transformers)",
    "peft": "LoraConfig (peft)",
    "quantization": "BitsAndBytesConfig (transformers)",
    "model": "from_pretrained (transformers)",
    "tokenizer": "the tokenizer",
}
_FIELDS = {f.name: f for f in FORM}


def suggest(key: str, known: list[str]) -> str:
    """ "; did you mean ...?" for a misspelt key ("" when nothing is close)."""
    close = difflib.get_close_matches(key, known, n=3, cutoff=0.6)
    return f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""


def _signature_keys() -> dict[str, frozenset[str]] | None:
    try:
        return library_keys()
    except Exception:  # a missing optional library must not block validation itself
        log.warning("could not read library signatures; checking the allowlist only", exc_info=True)
        return None


def _check_keys(section: str, values: dict, lib: dict | None) -> list[Problem]:
    problems = []
    schema = ALL_SCHEMAS[section]
    for key, value in values.items():
        name = f"{section}.{key}"
        if key in REFUSED:
            problems += refused(section, {key: value})
        elif key not in schema:
            if section != STUDIO and key in STUDIO_SCHEMA:
                problems.append(
                    Problem(
                        name, f"a studio setting: set it in the studio section ({STUDIO}.{key})"
                    )
                )
            elif section != STUDIO and lib is not None and key in lib[section]:
                problems.append(
                    Problem(
                        name,
                        f"the studio does not let you set this {_LIBRARY[section]} option (the "
                        "studio manages it, or it is unsafe); remove it.",
                    )
                )
            else:
                problems.append(Problem(name, f"unknown key{suggest(key, sorted(schema))}"))
        elif (
            section != STUDIO
            and lib is not None
            and key not in STUDIO_KEYS.get(section, ())
            and key not in lib[section]
        ):
            problems.append(
                Problem(
                    name, f"the installed {_LIBRARY[section]} does not accept this key; remove it."
                )
            )
        elif problem := check_value(name, schema[key], value):
            problems.append(problem)
    return problems


def _check_hyper(hyper: dict[str, Any], has_adapter: bool) -> tuple[list[Problem], dict[str, Any]]:
    """(problems, the form values fit to be written into the sections)."""
    problems, usable = [], {}
    for key, value in hyper.items():
        field = _FIELDS.get(key)
        if field is None:
            problems.append(
                Problem(f"form.{key}", f"unknown setting{suggest(key, sorted(_FIELDS))}")
            )
            continue
        if field.adapter_only and not has_adapter:
            continue  # never written: a model without LoRA has no adapter to configure
        # Named by the key it is stored under, so the same mistake in the JSON is one problem.
        name = f"form.{key}" if field.write else f"{field.section}.{field.key}"
        if problem := check_value(name, field.spec, value):
            problems.append(problem)
        else:
            usable[key] = value
    return problems, usable


def _construction(
    template: Template,
    model_type: str,
    d: dict[str, dict],
    problems: list[Problem],
    settings: Settings | None,
    has_eval: bool,
) -> list[Problem]:
    """Build what training builds, for the sections whose keys passed the checks above."""
    out: list[Problem] = []
    clean = {s for s in SECTIONS if not any(p.key.split(".")[0] == s for p in problems)}
    try:
        if "trainer" in clean:
            out += training_arguments_problems(d["trainer"], has_eval)
            out += scheduler_problems(d["trainer"])
        base = d["model"].get("base_model") or template.base_model
        if (
            {"peft", "model"} <= clean
            and isinstance(base, str)
            and base
            and not (base.startswith(SCRATCH_PREFIX))
        ):
            out += lora_problems(
                d["peft"],
                base,
                model_type,
                settings or Settings.from_env(),
                template.architecture if base == template.base_model else "",
            )
    except ImportError:  # a missing optional library must not block validation itself
        log.warning("could not construct the scheduler / adapter at Validate", exc_info=True)
    return out


def as_run_reads(sections: dict[str, dict]) -> dict[str, dict]:
    """The sections as a run reads them (TrainRun): a key they leave out has the table's
    default; an adapter gets LoraConfig's from the table too."""
    out = {s: dict(v) for s, v in sections.items()}
    for section in ("tokenizer", "trainer", STUDIO):
        out[section] = {**run_defaults(section), **sections[section]}
    if sections["peft"]:
        out["peft"] = {**run_defaults("peft"), **sections["peft"]}
    return out


def validate(
    template: Template,
    hyper: dict[str, Any],
    dicts: dict[str, Any],
    hardware: Hardware | None = None,
    model_type: str | None = None,
    settings: Settings | None = None,
) -> list[Problem]:
    """Every problem in these settings, each naming its key, each once; [] when they are fine.

    When the keys themselves are fine, the scheduler and the LoRA adapter are constructed
    (studio.configs.construct), so what would fail at train start fails here."""
    hw = hardware or detect_hardware()
    model_type = model_type or template.model_type
    problems: list[Problem] = []
    if model_type not in template.allowed_types:
        problems.append(
            Problem(
                "model_type",
                f"the template {template.title!r} builds {template.type_title} models, not "
                f"{MODEL_TYPES.get(model_type, model_type)}; pick another template",
            )
        )
        model_type = template.model_type
    for key in dicts:
        if key not in STORED_SECTIONS:
            problems.append(
                Problem(key, f"unknown section; the six are {', '.join(STORED_SECTIONS)}")
            )
    clean: dict[str, dict] = {}
    for section in STORED_SECTIONS:
        value = dicts.get(section, {})
        if not isinstance(value, dict):
            problems.append(
                Problem(section, f"must be a JSON object {{...}} (got {type(value).__name__})")
            )
            value = {}
        clean[section] = value
    hyper_problems, usable = _check_hyper(hyper or {}, has_adapter=bool(clean["peft"]))
    problems += hyper_problems
    effective = apply_hyperparameters(clean, usable)
    lib = _signature_keys()
    for section in STORED_SECTIONS:
        problems += _check_keys(section, effective[section], lib)
    # Contradictions and construction see what the run will read: the defaults filled in.
    as_run = as_run_reads(effective)
    problems += contradictions(template, model_type, as_run, hw, suggest)
    valid_pct = as_run[STUDIO]["valid_pct"]
    has_eval = not isinstance(valid_pct, int | float) or valid_pct > 0
    problems += _construction(template, model_type, as_run, problems, settings, has_eval)
    return list(dict.fromkeys(problems))  # one problem reached two ways is listed once


def check(
    template: Template,
    hyper: dict[str, Any],
    dicts: dict[str, Any],
    hardware: Hardware | None = None,
    model_type: str | None = None,
    settings: Settings | None = None,
) -> None:
    """Raise ConfigError listing every problem, or return when the settings are valid."""
    problems = validate(template, hyper, dicts, hardware, model_type, settings)
    if problems:
        raise ConfigError(problems)
